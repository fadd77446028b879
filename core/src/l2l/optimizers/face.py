"""FACE: the fully adaptive cross-entropy method (sample size grows when stuck)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem
from .cross_entropy import CrossEntropy, default_population
from .utils import positive_int


class FACE(CrossEntropy):
    """Fully adaptive cross-entropy (Botev & Kroese 2004): the cross-entropy method with a
    sample size between ``population`` and ``max_population``. A generation improves when it
    beats the run's best loss or the previous generation's elite threshold (its worst elite's
    loss). After ``wait`` generations in a row without improvement the distribution is kept
    and the sample size is multiplied by ``growth`` (a larger sample to find the way on); an
    improving generation brings it back to ``population``. A generation that reaches
    ``max_population`` without improving refits anyway, so the search moves on. Growing after
    the first miss (``wait=1``, the textbook rule) stalled on plateaus and noisy descents:
    0.19 vs 0.39 of the targets of f6, f7, f8, f10, f12 at d = 20 (instance 1, a development
    run of ``bench/optimizers.py``'s runner).

    It shares the cross-entropy method's guards against collapse (adaptive variance scaling,
    anticipated mean shift, mirrored samples, restart with twice the population; see
    :class:`CrossEntropy`). The number of elites is a fraction of the sample size (``elite``:
    None gives 0.35 of it), so it scales with the dimension through the default population of
    8 d; the former fixed default of 8 elites was below d at d >= 9 and made the covariance
    singular.

    Hyper-parameters (defaults): ``population`` (minimum sample size; None: max(32, 8 d));
    ``max_population`` (None: 4 times population); ``growth`` (2.0); ``wait`` (3);
    ``elite`` count (None: 0.35 of the sample size); ``smoothing`` of the covariance (0.7);
    ``distribution`` ("gaussian" or "mixture"); ``components`` (3); ``restarts`` (None:
    unlimited); ``patience`` (None); ``bounding`` ("clip"); ``penalty`` (None: worse than the
    worst); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = (*CrossEntropy.state_attributes, "floor",
                                                   "gamma", "misses")

    def __init__(self, population: int | None = None, max_population: int | None = None,
                 growth: float = 2.0, wait: int = 3, elite: int | None = None,
                 smoothing: float = 0.7,
                 distribution: str = "gaussian", components: int = 3,
                 restarts: int | None = None, patience: int | None = None,
                 bounding: str = "clip", penalty: float | None = None,
                 weights: Sequence[float] | None = None):
        self.population = population
        self.max_population = max_population
        self.growth = growth
        self.wait = wait
        self.elite = elite
        self.smoothing = smoothing
        self.distribution = distribution
        self.components = components
        self.restarts = restarts
        self.patience = patience
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    elite_fraction = 0.35

    def start(self, problem: Problem) -> None:
        super().start(problem)
        if self.elite is not None:
            positive_int("elite", self.elite, 2)
        if self.max_population is not None and positive_int(
                "max_population", self.max_population, 2) < self.base_size():
            raise ConfigError("max_population must be at least population")
        positive_int("wait", self.wait)
        if float(self.growth) <= 1:
            raise ConfigError(f"growth must be above 1, got {self.growth}")
        self.floor = int(self.size)
        self.gamma = float("inf")
        self.misses = 0

    def base_size(self) -> int:
        return int(self.population) if self.population is not None \
            else default_population(self.space.dim)

    def largest(self) -> int:
        return 4 * int(self.floor) if self.max_population is None \
            else max(int(self.max_population), int(self.floor))

    def n_elite(self, n: int) -> int:
        if self.elite is None:
            return super().n_elite(n)
        return min(n, int(self.elite))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        points = self.points(vectors)
        self.old_mean, self.old_cov = self.means[0].copy(), self.covs[0].copy()
        order = np.argsort(losses, kind="stable")[:self.n_elite(len(losses))]
        gamma = float(losses[order[-1]])
        improved = bool(losses.min() < float(self.run_best) or gamma < float(self.gamma))
        self.gamma = gamma
        self.misses = 0 if improved else int(self.misses) + 1
        stuck = int(self.misses) >= int(self.wait)
        at_max = int(self.size) >= self.largest()
        if not stuck or at_max:
            self.fit(points[order])
            self.generation = int(self.generation) + 1
        run = int(self.run)
        self.track(losses, points)
        if int(self.run) != run:       # restarted: the sample size floor doubles
            self.floor = int(self.size)
            self.gamma = float("inf")
        elif not stuck:
            self.size = int(self.floor)
        else:
            self.size = min(self.largest(), int(np.ceil(int(self.size) * float(self.growth))))
