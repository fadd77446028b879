"""Cross-entropy method with a Gaussian or Gaussian-mixture sampling distribution."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, positive_int, reflect_unit, to_unit

DISTRIBUTIONS = ("gaussian", "mixture")
EM_STEPS = 10
#: a run restarts when its largest standard deviation (unit cube) falls below this
COLLAPSED = 1e-10
AMS_STEP = 2.0
SCALE_DOWN = 0.9


def _factor(cov: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L @ L.T == cov`` (via the symmetric eigendecomposition, robust
    to a singular covariance)."""
    w, v = np.linalg.eigh(cov)
    return v * np.sqrt(np.maximum(w, 0.0))


def _log_density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(cov)
    w = np.maximum(w, 1e-300)
    z = ((x - mean) @ v) / np.sqrt(w)
    return -0.5 * np.sum(z**2, axis=1) - 0.5 * np.sum(np.log(w))


def default_population(d: int) -> int:
    """Samples per generation of the cross-entropy methods: 8 d, at least 32, so that the
    elites (0.35 of them: 2.8 d) estimate a full covariance. In development runs on the 20-D
    sphere (20,000 evaluations, 3 seeds) 3 d and 5 d samples stalled at 0.1-0.4 and 6e-4-4e-2,
    8 d reached 2e-9-9e-8."""
    return max(32, 8 * max(d, 1))


class CrossEntropy(VectorOptimizer):
    """Cross-entropy method (Rubinstein 1999; de Boer et al. 2005): sample a population from a
    distribution, keep the elite fraction with the lowest losses, refit the distribution to
    the elites by maximum likelihood (EM for a mixture) and smooth its covariance with the
    previous one (the mean follows the elites, as in AMaLGaM: smoothing the mean too halved
    the targets reached at d = 20).

    Works in the unit cube of the space's bounds. The first generation is sampled uniformly;
    the distribution starts as one or several Gaussians with covariance I/12 (that of the
    uniform distribution) centred at the middle (gaussian) or at random points (mixture).
    Samples outside the cube are mirrored into it at the bounds and the distribution is
    refitted to the samples as drawn, so its mean can settle on an optimum at a bound (with
    clipping instead, samples beyond a bound all score alike and the spread there never
    shrinks).

    Two choices keep it from collapsing (the textbook update shrinks the covariance faster
    than the mean travels, and stalls far from the optimum on ill-conditioned or sloped
    functions): the covariance of a Gaussian is estimated around the *previous* mean
    (``centred="previous"``, the estimator of the rank-mu update of CMA-ES, Hansen 2016, sec.
    3.2), so a sequence of elites moving in one direction stretches it along that direction
    instead of shrinking it; and when a run's largest standard deviation falls below 1e-10 of
    the range, or its best loss has not improved for ``patience`` generations, it restarts from
    a uniform sample with twice the population (as IPOP-CMA-ES does; ``restarts``).
    ``centred="elites"`` gives the textbook estimator (maximum likelihood around the elites'
    own mean). The number of elites grows with the dimension (default population 8 d).

    Hyper-parameters (defaults): ``population`` (None: max(32, 8 d)); ``elite_fraction`` (0.2,
    at least 2 elites); ``smoothing``: weight of the new estimate in mean, covariance and
    mixture weights (0.7); ``distribution`` ("gaussian": one full-covariance Gaussian, or
    "mixture"); ``components`` of the mixture (3); ``centred`` ("previous" or "elites");
    ``restarts`` allowed (None: unlimited; 0: never); ``patience`` generations without
    improvement before a restart (None: 10 + 30 d / sample size, at least 20);
    ``bounding`` ("clip"); ``penalty`` for failed evaluations (None: worse than the worst);
    ``weights`` to scalarise several objectives.
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("means", "covs", "mix", "generation", "run",
                                                   "run_best", "stale", "size", "scale", "shift",
                                                   "samples")

    def __init__(self, population: int | None = None, elite_fraction: float = 0.35,
                 smoothing: float = 0.7, distribution: str = "gaussian", components: int = 3,
                 restarts: int | None = None,
                 patience: int | None = None, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.elite_fraction = elite_fraction
        self.smoothing = smoothing
        self.distribution = distribution
        self.components = components
        self.restarts = restarts
        self.patience = patience
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        if self.population is not None:
            positive_int("population", self.population, 2)
        if self.restarts is not None:
            positive_int("restarts", self.restarts, 0)
        if self.patience is not None:
            positive_int("patience", self.patience)
        choice("distribution", self.distribution, DISTRIBUTIONS)
        if not 0 < float(self.elite_fraction) <= 1:
            raise ConfigError(f"elite_fraction must be in (0, 1], got {self.elite_fraction}")
        if not 0 < float(self.smoothing) <= 1:
            raise ConfigError(f"smoothing must be in (0, 1], got {self.smoothing}")
        if self.distribution == "mixture":
            positive_int("components", self.components)
        self.run = 0
        self.size = self.base_size()
        self._fresh()

    def base_size(self) -> int:
        return int(self.population) if self.population is not None \
            else default_population(self.space.dim)

    def _fresh(self) -> None:
        """A new run: uniform first generation, broad distribution."""
        k = 1 if self.distribution == "gaussian" else int(self.components)
        d = self.space.dim
        self.means = np.full((k, d), 0.5) if k == 1 else self.rng.uniform(size=(k, d))
        self.covs = np.repeat(np.eye(d)[None] / 12.0, k, axis=0)
        self.mix = np.full(k, 1.0 / k)
        self.generation = 0
        self.run_best = float("inf")
        self.stale = 0
        self.samples = np.zeros((0, d))       # the last samples, before bounding
        self.scale = 1.0                      # adaptive variance scaling factor
        self.shift = np.zeros(d)              # anticipated mean shift

    def sample_size(self) -> int:
        return int(self.size)

    def n_elite(self, n: int) -> int:
        return min(n, max(2, int(round(float(self.elite_fraction) * n))))

    def ask_vectors(self) -> np.ndarray:
        n, d = self.sample_size(), self.space.dim
        if self.generation == 0:
            self.samples = self.rng.uniform(size=(n, d))
            return from_unit(self.space, self.samples)
        comp = self.rng.choice(len(self.mix), size=n, p=self.mix / self.mix.sum())
        z = self.rng.standard_normal((n, d))
        u = np.empty((n, d))
        for k in range(len(self.mix)):
            rows = comp == k
            u[rows] = self.means[k] + np.sqrt(float(self.scale)) * z[rows] @ _factor(self.covs[k]).T
        if len(self.mix) == 1 and n > 2:
            # anticipated mean shift: move some samples further along the mean's last moves
            moved = max(1, int(0.5 * self.n_elite(n)))
            u[n - moved:] += AMS_STEP * np.sqrt(float(self.scale)) * self.shift
        self.samples = u
        return from_unit(self.space, reflect_unit(u))

    def fit(self, elites: np.ndarray) -> None:
        """Refit the distribution to the elite points (unit cube, best first) and smooth it."""
        a = float(self.smoothing)
        k, d = self.means.shape
        if k == 1:
            resp = np.ones((len(elites), 1))
        else:
            resp = self._responsibilities(elites, self.means, self.covs, self.mix)
        means, covs, mix = self.means.copy(), self.covs.copy(), self.mix.copy()
        for _ in range(1 if k == 1 else EM_STEPS):
            for j in range(k):
                r = resp[:, j]
                total = r.sum()
                if total <= 1e-12:
                    continue
                means[j] = r @ elites / total
                dev = elites - means[j]
                covs[j] = (dev * r[:, None]).T @ dev / total
            mix = resp.sum(axis=0) / len(elites)
            if k > 1:
                resp = self._responsibilities(elites, means, covs + np.eye(d) * 1e-12, mix)
        if self.generation > 0 and k == 1:
            self.shift = 0.1 * self.shift + 0.9 * (means[0] - self.means[0])
        self.means = np.clip(means, -0.5, 1.5)
        self.covs = a * covs + (1 - a) * self.covs
        self.mix = a * mix + (1 - a) * self.mix
        self.mix = self.mix / self.mix.sum()

    @staticmethod
    def _responsibilities(x: np.ndarray, means: np.ndarray, covs: np.ndarray,
                          mix: np.ndarray) -> np.ndarray:
        logp = np.stack([np.log(max(mix[j], 1e-300)) + _log_density(x, means[j], covs[j])
                         for j in range(len(mix))], axis=1)
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)

    def _patience(self) -> int:
        return 25 + self.space.dim if self.patience is None else int(self.patience)

    def track(self, losses: np.ndarray, points: np.ndarray) -> None:
        """Adaptive variance scaling (Grahl, Bosman & Rothlauf 2006; Bosman, Grahl & Thierens
        2008): widen the distribution while improvements land far from the mean, narrow it
        after ``patience`` generations without improvement, restart when it has collapsed or
        stalled. ``points``: this generation's samples (unit cube), before the refit."""
        best, previous = float(losses.min()), float(self.run_best)
        if best < previous and (not np.isfinite(previous)
                                or previous - best > 1e-12 * max(1.0, abs(previous))):
            better = points[losses < previous].mean(axis=0)
            std = np.sqrt(np.maximum(np.diagonal(self.old_cov), 1e-300) * float(self.scale))
            ratio = float(np.max(np.abs(better - self.old_mean) / std))
            self.run_best, self.stale = best, 0
            self.scale = max(1.0, float(self.scale))
            if ratio > 1.0:
                self.scale = float(self.scale) / SCALE_DOWN
        else:
            if float(self.scale) <= 1.0:
                self.stale = int(self.stale) + 1
            if float(self.scale) > 1.0 or int(self.stale) >= self._patience():
                self.scale = float(self.scale) * SCALE_DOWN
            if float(self.scale) < 1.0 and int(self.stale) < self._patience():
                self.scale = 1.0
        spread = float(np.sqrt(float(self.scale) * max(np.max(np.diagonal(c)) for c in self.covs)))
        if spread < COLLAPSED or int(self.stale) >= 3 * self._patience():
            if self.restarts is None or int(self.run) < int(self.restarts):
                self.run = int(self.run) + 1
                self.size = 2 * int(self.size)
                self._fresh()

    def points(self, vectors: np.ndarray) -> np.ndarray:
        """The samples of the last ask in the unit cube, before they were mirrored into it (so
        that the mean can reach an optimum on a bound), or the told vectors if they are not
        those."""
        if len(self.samples) == len(vectors):
            return np.asarray(self.samples, dtype=float)
        return to_unit(self.space, vectors)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        points = self.points(vectors)
        self.old_mean, self.old_cov = self.means[0].copy(), self.covs[0].copy()
        order = np.argsort(losses, kind="stable")[:self.n_elite(len(losses))]
        self.fit(points[order])
        self.generation = int(self.generation) + 1
        self.track(losses, points)
