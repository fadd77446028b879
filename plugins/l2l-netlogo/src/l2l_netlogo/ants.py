"""The ``netlogo-ants`` optimizee: ant colony foraging steered by spiking neural networks.

The optimized parameters are the synaptic weights and integer delays of the network that all
ants of a colony share (see :mod:`l2l_netlogo.network` for its layout). Fitness: ``food``
(maximised) is the food returned to the nest within ``ticks`` minus ``waste_cost`` per wasted
movement per ant; ``first_delivery`` (minimised, optional) is the tick of the first delivery
(``ticks`` when none); ``shaped`` (maximised, a training signal only) is ``food`` plus
``homing_bonus`` × the distance to the nest closed by carrying ants (in half-widths of the
world). The ``fitness`` key lists the objectives, in order. ``optimize_delays = false`` fixes
every delay at ``delay`` steps and leaves only the weights to the optimizer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from l2l import MAX, MIN, ConfigError, Evaluation, Float, Int, Objectives, Optimizee, Space
from l2l.space import Params

from .engine import Outcome, PythonEngine
from .network import Neurons, n_synapses
from .rules import Rules
from .workspace import find_netlogo, require_netlogo

OBJECTIVES = {"food": MAX, "first_delivery": MIN, "shaped": MAX}
ENGINES = ("auto", "python", "netlogo")


class AntColony(Optimizee):
    """A colony of ``n_ants`` sharing one spiking controller (11 inputs, ``hidden`` hidden and
    4 motor neurons; 250 synapses for ``hidden = 10``), weights in ``[-weight_bound,
    weight_bound]``, delays in ``[1, max_delay]`` network steps.

    ``engine``: ``"auto"`` (NetLogo when an installation is found, else the Python engine),
    ``"python"`` or ``"netlogo"``; ``netlogo_home`` overrides ``NETLOGO_HOME``. The other keys
    are the world's rules (see :class:`l2l_netlogo.rules.Rules`).
    """

    fresh_seeds = ("food returned in fresh worlds: new initial ant headings and sensor noise "
                   "(same nest and food)")

    def __init__(self, engine: str = "auto", netlogo_home: str | None = None, n_ants: int = 15,
                 ticks: int = 500, world_size: int = 41, hidden: int = 10, substeps: int = 5,
                 weight_bound: float = 20.0, max_delay: int = 7,
                 fitness: Sequence[str] = ("food",), waste_cost: float = 0.001,
                 diffusion: float = 0.5, evaporation: float = 0.1, deposit: float = 60.0,
                 optimize_delays: bool = True, delay: int = 1, homing_bonus: float = 1.0):
        self.engine = engine
        self.netlogo_home = netlogo_home
        self.n_ants = n_ants
        self.ticks = ticks
        self.world_size = world_size
        self.hidden = hidden
        self.substeps = substeps
        self.weight_bound = weight_bound
        self.max_delay = max_delay
        self.fitness = fitness
        self.waste_cost = waste_cost
        self.diffusion = diffusion
        self.evaporation = evaporation
        self.deposit = deposit
        self.optimize_delays = optimize_delays
        self.delay = delay
        self.homing_bonus = homing_bonus

    def rules(self) -> Rules:
        """The simulation settings these keyword arguments describe."""
        if int(self.max_delay) < 1:
            raise ConfigError(f"netlogo-ants: max_delay must be at least 1, got {self.max_delay}")
        return Rules(world_size=int(self.world_size), n_ants=int(self.n_ants), ticks=int(self.ticks),
                     substeps=int(self.substeps), hidden=int(self.hidden),
                     waste_cost=float(self.waste_cost), diffusion=float(self.diffusion),
                     evaporation=float(self.evaporation), deposit=float(self.deposit),
                     neurons=Neurons(max_delay=int(self.max_delay)))

    def space(self) -> Space:
        n = n_synapses(self.rules().hidden)
        if float(self.weight_bound) <= 0:
            raise ConfigError(f"netlogo-ants: weight_bound must be positive, got {self.weight_bound}")
        weights = Float("weights", -float(self.weight_bound), float(self.weight_bound), shape=(n,))
        if not self.optimize_delays:
            self.fixed_delays()
            return Space([weights])
        return Space([weights, Int("delays", 1, int(self.max_delay), shape=(n,))])

    def fixed_delays(self) -> np.ndarray:
        """The delays of every synapse when ``optimize_delays`` is false (all ``delay``)."""
        if not 1 <= int(self.delay) <= int(self.max_delay):
            raise ConfigError(f"netlogo-ants: delay must lie in [1, max_delay = {self.max_delay}], "
                              f"got {self.delay}")
        return np.full(n_synapses(self.rules().hidden), int(self.delay), dtype=np.int64)

    def objectives(self) -> Objectives:
        names = tuple(self.fitness or ())
        bad = [n for n in names if n not in OBJECTIVES]
        if not names or bad:
            raise ConfigError(f"netlogo-ants: unknown objective(s) {bad or list(names)} "
                              f"(choose from {', '.join(OBJECTIVES)})")
        return Objectives(names, tuple(OBJECTIVES[n] for n in names))

    def baselines(self) -> dict[str, Params]:
        """The hand-wired controller (:func:`l2l_netlogo.hand_wired`), for ``l2l validate``."""
        from .network import hand_wired

        hidden = self.rules().hidden
        if hidden < 9:
            return {}
        hand = hand_wired(hidden)
        if not self.optimize_delays:
            if not (hand["delays"] == int(self.delay)).all():
                return {}  # the hand design's delays (all 1) are not this space's
            hand = {"weights": hand["weights"]}
        return {"hand-wired": hand}

    # -- engines ---------------------------------------------------------------------------
    def make_engine(self) -> Any:
        """The engine ``engine`` asks for: a :class:`PythonEngine` or a NetLogo engine."""
        if self.engine not in ENGINES:
            raise ConfigError(f"netlogo-ants: unknown engine {self.engine!r} (use {', '.join(ENGINES)})")
        rules = self.rules()
        if self.engine == "python":
            return PythonEngine(rules)
        home: Path | None
        if self.engine == "netlogo":
            home = require_netlogo(self.netlogo_home, "netlogo-ants: engine = 'netlogo'")
        else:
            home = find_netlogo(self.netlogo_home)
            if home is None:
                return PythonEngine(rules)
        from .netlogo_engine import NetLogoEngine

        return NetLogoEngine(rules, home)

    def setup(self) -> None:
        self._engine = self.make_engine()
        if "shaped" in self.objectives().names and self._engine.name != "python":
            raise ConfigError("netlogo-ants: the 'shaped' objective needs the Python engine "
                              "(engine = 'python')")

    def teardown(self) -> None:
        engine = getattr(self, "_engine", None)
        if engine is not None and hasattr(engine, "close"):
            engine.close()
        self._engine = None

    def _ready_engine(self) -> Any:
        if getattr(self, "_engine", None) is None:
            self.setup()
        return self._engine

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, params: Params, seed: int) -> Evaluation:
        return self.evaluate_batch([params], [seed])[0]

    def evaluate_batch(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Evaluation]:
        engine = self._ready_engine()
        fixed = None if self.optimize_delays else self.fixed_delays()
        out = engine.run([p["weights"] for p in params],
                         [p["delays"] if fixed is None else fixed for p in params],
                         [int(s) for s in seeds])
        return self.evaluations(out, engine.name)

    def evaluations(self, out: Outcome, engine: str) -> list[Evaluation]:
        """One :class:`Evaluation` per colony of ``out``."""
        rules = self.rules()
        food = out.fitness(rules)
        names = self.objectives().names
        values = {"food": food, "first_delivery": out.first_delivery.astype(float)}
        if "shaped" in names:
            values["shaped"] = out.shaped(rules, float(self.homing_bonus))
        return [Evaluation(fitness=tuple(float(values[n][i]) for n in names),
                           info={"engine": engine, "delivered": int(out.delivered[i]),
                                 "first_delivery": int(out.first_delivery[i]),
                                 "wasted": float(out.wasted[i]), "walked": float(out.walked[i]),
                                 "food_left": int(out.food_left[i]), "carried": int(out.carried[i]),
                                 "spikes": int(out.spikes[i]),
                                 **({} if out.homing is None else
                                    {"homing": float(out.homing[i])})})
                for i in range(len(food))]
