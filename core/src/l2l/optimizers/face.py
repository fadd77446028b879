"""FACE: the fully adaptive cross-entropy method (population size grows when stuck)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem
from .cross_entropy import CrossEntropy
from .utils import positive_int, to_unit


class FACE(CrossEntropy):
    """Fully adaptive cross-entropy (Botev & Kroese 2004): the cross-entropy method with a
    fixed number of elites and a sample size between ``population`` and ``max_population``.
    When a generation improves on the best loss seen so far, the distribution is refitted to
    its elites and the sample size returns to ``population``; otherwise the distribution is
    kept and the sample size is multiplied by ``growth``. A generation that reaches
    ``max_population`` without improving refits anyway, so the search moves on.

    Hyper-parameters (defaults): ``population`` (minimum sample size, 32); ``max_population``
    (None: 8 times population); ``growth`` (2.0); ``elite`` count (8, at most the sample
    size); ``smoothing`` (0.7);
    ``distribution`` ("gaussian" or "mixture"); ``components`` (3); ``bounding`` ("clip");
    ``penalty`` (None: worse than the worst); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = CrossEntropy.state_attributes + ("size", "best")
    elite_fraction = 1.0  # unused: FACE keeps a fixed number of elites (``elite``)

    def __init__(self, population: int = 32, max_population: int | None = None,
                 growth: float = 2.0, elite: int = 8, smoothing: float = 0.7,
                 distribution: str = "gaussian", components: int = 3, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.max_population = max_population
        self.growth = growth
        self.elite = elite
        self.smoothing = smoothing
        self.distribution = distribution
        self.components = components
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        positive_int("elite", self.elite, 2)
        if self.max_population is not None and positive_int(
                "max_population", self.max_population, 2) < int(self.population):
            raise ConfigError("max_population must be at least population")
        if float(self.growth) <= 1:
            raise ConfigError(f"growth must be above 1, got {self.growth}")
        self.size = int(self.population)
        self.best = float("inf")

    def largest(self) -> int:
        return 8 * int(self.population) if self.max_population is None else int(self.max_population)

    def sample_size(self) -> int:
        return int(self.size)

    def n_elite(self, n: int) -> int:
        return min(n, int(self.elite))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        improved = bool(losses.min() < self.best)
        at_max = int(self.size) >= self.largest()
        if improved or at_max:
            order = np.argsort(losses, kind="stable")[:self.n_elite(len(losses))]
            self.fit(to_unit(self.space, vectors[order]))
            self.generation += 1
        if improved:
            self.best = float(losses.min())
            self.size = int(self.population)
        else:
            self.size = min(self.largest(), int(np.ceil(self.size * float(self.growth))))
