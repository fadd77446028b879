"""CMA-ES through pycma (``cma``), with bound handling and IPOP restarts."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, positive_int

QUIET = {"verbose": -9, "verb_log": 0, "verb_disp": 0, "verb_plot": 0}


class CMAES(VectorOptimizer):
    """Covariance matrix adaptation evolution strategy (Hansen & Ostermeier 2001; Hansen 2016,
    "The CMA Evolution Strategy: A Tutorial") by pycma, in the unit cube of the space's
    bounds with pycma's ``BoundTransform`` (every asked vector lies within the bounds). When
    pycma's termination criteria hold, it restarts from a new random point with the
    population multiplied by ``incpopsize`` (IPOP-CMA-ES, Auger & Hansen 2005), at most
    ``restarts`` times.

    The state is serialised as the loss arrays told so far: pycma's sampling is driven by
    generators seeded from this optimizer's ``rng``, so :meth:`set_state` replays the run in
    a fresh strategy and continues bit-identically.

    Hyper-parameters (defaults): ``population`` (None: pycma's 4 + floor(3 ln d)); ``sigma``
    initial step size as a fraction of each range (0.1); ``x0`` start point, "center" or
    "random" (first run only; restarts start at random points) ("center"); ``restarts``
    (9); ``incpopsize`` (2); ``options`` passed to pycma, e.g. ``{tolfun = 1e-12}``
    (None: pycma's defaults, with ``tolfun`` and ``tolfunhist`` at 1e-15); ``bounding`` ("clip");
    ``penalty`` for failed evaluations (None: worse than the worst); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("base_seed", "history")

    def __init__(self, population: int | None = None, sigma: float = 0.1, x0: str = "center",
                 restarts: int = 9, incpopsize: float = 2, options: Mapping[str, Any] | None = None,
                 bounding: str = "clip", penalty: float | None = None,
                 weights: Sequence[float] | None = None):
        self.population = population
        self.sigma = sigma
        self.x0 = x0
        self.restarts = restarts
        self.incpopsize = incpopsize
        self.options = options
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        if self.population is not None:
            positive_int("population", self.population, 2)
        positive_int("restarts", self.restarts, 0)
        choice("x0", self.x0, ("random", "center"))
        if not 0 < float(self.sigma) <= 1:
            raise ConfigError(f"sigma must be in (0, 1], got {self.sigma}")
        if float(self.incpopsize) < 1:
            raise ConfigError(f"incpopsize must be at least 1, got {self.incpopsize}")
        self.base_seed = int(self.rng.integers(2**62))
        self.history: list[np.ndarray] = []
        self._begin()

    def _begin(self) -> None:
        self.run_index = 0
        self._new_strategy()

    def _new_strategy(self) -> None:
        import cma

        d = self.space.dim
        gen = np.random.default_rng([int(self.base_seed), self.run_index])
        x0 = np.full(d, 0.5) if self.x0 == "center" and self.run_index == 0 else gen.uniform(size=d)
        base = int(self.population) if self.population is not None \
            else 4 + int(3 * np.log(max(d, 1)))
        opts: dict[str, Any] = {
            "bounds": [0.0, 1.0], "popsize": max(2, int(round(base * float(self.incpopsize)
                                                             ** self.run_index))),
            "randn": lambda n, dim: gen.standard_normal((n, dim)), "seed": np.nan,
            "tolfun": 1e-15, "tolfunhist": 1e-15, "CMA_mirrors": True, **QUIET,
            **dict(self.options or {})}
        try:
            self.es = cma.CMAEvolutionStrategy(x0, float(self.sigma), opts)
        except ValueError as exc:
            raise ConfigError(f"cmaes: pycma rejected the options: {exc}") from None
        self.asked = np.zeros((0, d))

    def ask_vectors(self) -> np.ndarray:
        self.asked = np.array(self.es.ask(), dtype=float).reshape(-1, self.space.dim)
        return from_unit(self.space, self.asked)

    def _tell(self, losses: np.ndarray) -> None:
        self.es.tell(list(self.asked), [float(v) for v in losses])
        if self.es.stop() and self.run_index < int(self.restarts):
            self.run_index += 1
            self._new_strategy()

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        self._tell(losses)
        # a new list, so that a state() taken earlier is not changed afterwards
        self.history = [*self.history, np.array(losses, dtype=float)]

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        history = [np.asarray(h, dtype=float) for h in self.history]
        self._begin()
        for losses in history:
            self.ask_vectors()
            self._tell(losses)
        self.history = history
