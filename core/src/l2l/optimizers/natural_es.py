"""Separable natural evolution strategies (SNES)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import from_unit, nes_utilities, positive_int


class SeparableNES(VectorOptimizer):
    """Separable natural evolution strategies (Schaul, Glasmachers & Schmidhuber 2011; Wierstra
    et al. 2014, JMLR 15): a Gaussian search distribution with a mean and one std per
    dimension, updated along the natural gradient estimated with rank-based utilities:
    ``mean += lr_mean * sigma * sum(u_k s_k)`` and
    ``sigma *= exp(lr_sigma / 2 * sum(u_k (s_k^2 - 1)))``.
    Works in the unit cube of the space's bounds; the mean starts at the centre.

    Hyper-parameters (defaults): ``population`` (None: 4 + floor(3 ln d)); ``sigma`` initial
    std as a fraction of each range (0.3); ``lr_mean`` (1.0); ``lr_sigma`` (None:
    (3 + ln d) / (5 sqrt d)); ``mirrored`` sampling (False); ``bounding`` ("clip");
    ``penalty`` (None: worse than the worst); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("mean", "std", "samples")

    def __init__(self, population: int | None = None, sigma: float = 0.3, lr_mean: float = 1.0,
                 lr_sigma: float | None = None, mirrored: bool = False, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.sigma = sigma
        self.lr_mean = lr_mean
        self.lr_sigma = lr_sigma
        self.mirrored = mirrored
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        d = self.space.dim
        if self.population is not None:
            positive_int("population", self.population, 2)
        if float(self.sigma) <= 0:
            raise ConfigError(f"sigma must be positive, got {self.sigma}")
        self.mean = np.full(d, 0.5)
        self.std = np.full(d, float(self.sigma))
        self.samples = np.zeros((0, d))

    def _n(self) -> int:
        d = max(self.space.dim, 1)
        return int(self.population) if self.population is not None else 4 + int(3 * np.log(d))

    def ask_vectors(self) -> np.ndarray:
        n, d = self._n(), self.space.dim
        if self.mirrored:
            half = self.rng.standard_normal(((n + 1) // 2, d))
            self.samples = np.vstack([half, -half])[:n]
        else:
            self.samples = self.rng.standard_normal((n, d))
        return from_unit(self.space, self.mean + self.std * self.samples)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        d = max(self.space.dim, 1)
        lr_sigma = (3 + np.log(d)) / (5 * np.sqrt(d)) if self.lr_sigma is None \
            else float(self.lr_sigma)
        if np.ptp(losses) == 0:
            return  # no ranking information (e.g. every evaluation failed)
        order = np.argsort(losses, kind="stable")
        utilities = np.zeros(len(losses))
        utilities[order] = nes_utilities(len(losses))
        s = self.samples
        grad_mean = utilities @ s
        grad_std = utilities @ (s**2 - 1.0)
        self.mean = np.clip(self.mean + float(self.lr_mean) * self.std * grad_mean, 0.0, 1.0)
        self.std = self.std * np.exp(0.5 * lr_sigma * grad_std)
