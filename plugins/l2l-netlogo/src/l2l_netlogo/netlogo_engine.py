"""The NetLogo engine of the ants optimizee: runs ``models/ants.nlogo`` through pynetlogo,
one colony after another in this worker's workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from l2l import EvaluationError

from .engine import Outcome
from .rules import Rules
from .workspace import first_line, netlogo_literal, netlogo_seed, open_model

MODEL = Path(__file__).parent / "models" / "ants.nlogo"

#: model global <- Rules attribute (neuron parameters are handled separately)
GLOBALS = {
    "world-size": "world_size", "n-ants": "n_ants", "max-ticks": "ticks",
    "substeps": "substeps", "n-hidden": "hidden", "nest-radius": "nest_radius",
    "food-radius": "food_radius", "food-per-patch": "food_per_patch",
    "scent-radius": "scent_radius", "sense-distance": "sense_distance",
    "sense-angle": "sense_angle", "turn-angle": "turn_angle", "speed": "speed",
    "deposit": "deposit", "diffusion-rate": "diffusion", "evaporation-rate": "evaporation",
    "pheromone-half": "pheromone_half",
}
OUTCOMES = "(list delivered first-delivery wasted walked carried spike-count)"
#: a patch variable over the world, patches sorted top row first (pycor descending)
FIELD = "map [ p -> [ {} ] of p ] sort patches"


class NetLogoEngine:
    """Runs colonies in a NetLogo workspace opened once (per worker)."""

    name = "netlogo"

    def __init__(self, rules: Rules, home: Path):
        self.rules = rules
        self.link: Any = open_model(home, MODEL, "netlogo-ants")
        n = rules.neurons
        self.settings = [f"set {g} {netlogo_literal(getattr(rules, a))}" for g, a in GLOBALS.items()]
        self.settings += [f"set threshold {netlogo_literal(n.threshold)}",
                          f"set decay {netlogo_literal(n.decay)}",
                          f"set max-delay {netlogo_literal(n.max_delay)}"]

    def run(self, weights: Sequence[np.ndarray], delays: Sequence[np.ndarray],
            seeds: Sequence[int], record: bool = False) -> Outcome:
        if record:
            raise EvaluationError("the NetLogo engine does not record ant paths (use engine='python')")
        runs = [self._one(np.asarray(w, dtype=float), np.asarray(d, dtype=np.int64), int(s))
                for w, d, s in zip(weights, delays, seeds)]
        out = np.array([r[0] for r in runs])
        return Outcome(delivered=out[:, 0].astype(np.int64), first_delivery=out[:, 1].astype(np.int64),
                       wasted=out[:, 2], walked=out[:, 3], carried=out[:, 4].astype(np.int64),
                       spikes=out[:, 5].astype(np.int64), pheromone=np.stack([r[1] for r in runs]),
                       food=np.stack([r[2] for r in runs]).astype(np.int64), paths=None,
                       carrying=None)

    def _field(self, variable: str) -> np.ndarray:
        """A patch variable as an array indexed ``[x + M, y + M]``."""
        w = self.rules.world_size
        flat = np.asarray(self.link.report(FIELD.format(variable)), dtype=float)
        return np.ascontiguousarray(flat.reshape(w, w)[::-1].T)

    def _one(self, weights: np.ndarray, delays: np.ndarray,
             seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        try:
            self.link.command(f"random-seed {netlogo_seed(seed)}")
            for cmd in self.settings:
                self.link.command(cmd)
            self.link.command(f"set weights-list {netlogo_literal(weights)}")
            self.link.command(f"set delays-list {netlogo_literal(delays)}")
            self.link.command("setup")
            self.link.command("run-colony")
            row = np.asarray(self.link.report(OUTCOMES), dtype=float)
            return row, self._field("chemical"), self._field("food")
        except Exception as exc:  # noqa: BLE001 - NetLogo runtime errors fail this evaluation
            raise EvaluationError(f"NetLogo: {first_line(exc)}") from None

    def close(self) -> None:
        self.link.kill_workspace()
