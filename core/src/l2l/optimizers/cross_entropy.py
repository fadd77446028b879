"""Cross-entropy method with a Gaussian or Gaussian-mixture sampling distribution."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, positive_int, to_unit

DISTRIBUTIONS = ("gaussian", "mixture")
EM_STEPS = 10


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


class CrossEntropy(VectorOptimizer):
    """Cross-entropy method (Rubinstein 1999; de Boer et al. 2005): sample a population from a
    distribution, keep the elite fraction with the lowest losses, refit the distribution to
    the elites by maximum likelihood (EM for a mixture) and smooth it with the previous one.

    Works in the unit cube of the space's bounds. The first generation is sampled uniformly;
    the distribution starts as one or several Gaussians with covariance I/12 (that of the
    uniform distribution) centred at the middle (gaussian) or at random points (mixture).

    Hyper-parameters (defaults): ``population`` (64); ``elite_fraction`` (0.2, at least 2
    elites); ``smoothing``: weight of the new estimate in mean, covariance and mixture weights
    (0.7); ``distribution`` ("gaussian": one full-covariance Gaussian, or "mixture");
    ``components`` of the mixture (3); ``bounding`` ("clip"); ``penalty`` for failed
    evaluations (None: worse than the worst); ``weights`` to scalarise several objectives.
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("means", "covs", "mix", "generation")

    def __init__(self, population: int = 64, elite_fraction: float = 0.2,
                 smoothing: float = 0.7, distribution: str = "gaussian", components: int = 3,
                 bounding: str = "clip", penalty: float | None = None,
                 weights: Sequence[float] | None = None):
        self.population = population
        self.elite_fraction = elite_fraction
        self.smoothing = smoothing
        self.distribution = distribution
        self.components = components
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        positive_int("population", self.population, 2)
        choice("distribution", self.distribution, DISTRIBUTIONS)
        if not 0 < float(self.elite_fraction) <= 1:
            raise ConfigError(f"elite_fraction must be in (0, 1], got {self.elite_fraction}")
        if not 0 < float(self.smoothing) <= 1:
            raise ConfigError(f"smoothing must be in (0, 1], got {self.smoothing}")
        k = 1 if self.distribution == "gaussian" else positive_int("components", self.components)
        d = self.space.dim
        self.means = np.full((k, d), 0.5) if k == 1 else self.rng.uniform(size=(k, d))
        self.covs = np.repeat(np.eye(d)[None] / 12.0, k, axis=0)
        self.mix = np.full(k, 1.0 / k)
        self.generation = 0

    def sample_size(self) -> int:
        return int(self.population)

    def n_elite(self, n: int) -> int:
        return min(n, max(2, int(round(float(self.elite_fraction) * n))))

    def ask_vectors(self) -> np.ndarray:
        n, d = self.sample_size(), self.space.dim
        if self.generation == 0:
            return self.space.sample_vectors(self.rng, n)
        comp = self.rng.choice(len(self.mix), size=n, p=self.mix / self.mix.sum())
        z = self.rng.standard_normal((n, d))
        u = np.empty((n, d))
        for k in range(len(self.mix)):
            rows = comp == k
            u[rows] = self.means[k] + z[rows] @ _factor(self.covs[k]).T
        return from_unit(self.space, u)

    def fit(self, elites: np.ndarray) -> None:
        """Refit the distribution to the elite points (unit cube) and smooth it."""
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
        self.means = a * means + (1 - a) * self.means
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

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        order = np.argsort(losses, kind="stable")[:self.n_elite(len(losses))]
        self.fit(to_unit(self.space, vectors[order]))
        self.generation += 1
