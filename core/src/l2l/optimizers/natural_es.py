"""Natural evolution strategies: separable (SNES) and exponential (xNES), with restarts."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import choice, from_unit, nes_utilities, positive_int, reflect_unit

#: the largest spread of a coordinate, in widths of its range: wider is uniform anyway once
#: samples are mirrored into the box
MAX_SPREAD = 1.0


def _expm_sym(m: np.ndarray) -> np.ndarray:
    """The matrix exponential of a symmetric matrix."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.exp(w)) @ v.T


class SeparableNES(VectorOptimizer):
    """Natural evolution strategies (Wierstra et al. 2014, JMLR 15): a Gaussian search
    distribution moved along the natural gradient of the expected fitness, estimated with
    rank-based utilities. ``variant="xnes"`` (exponential NES, Glasmachers et al. 2010) adapts
    a full covariance ``sigma^2 B B^T``: ``mean += lr_mean sigma B sum(u_k s_k)``,
    ``sigma *= exp(lr_sigma / 2 tr(G) / d)``, ``B = B expm(lr_b / 2 (G - tr(G) / d I))``, with
    ``G = sum(u_k (s_k s_k^T - I))``. ``variant="snes"`` (separable NES, Schaul, Glasmachers &
    Schmidhuber 2011) keeps one spread per coordinate: ``std *= exp(lr_sigma / 2 sum(u_k
    (s_k^2 - 1)))``.

    Box-aware: it works in the unit cube of the space's bounds, samples are mirrored into the
    cube at the bounds (not clipped, so a spread beyond a bound is not rewarded with repeated
    boundary values), and each coordinate's spread is held below one range width (mirrored
    samples of a wider Gaussian are near-uniform anyway). When the spread collapses below 1e-10
    of the range or the best loss stalls for 20 + 30 d / population generations, it restarts
    from a random point with twice the population (IPOP, as for CMA-ES), ``restarts`` times.

    Default xNES, from COCO's bbob suite (``bench/results/optimizers.md``, instance 1,
    1000·d): at d = 5 xNES reached 0.552 of the targets and SNES 0.354 (xNES learns the
    rotated, ill-conditioned functions: 0.80 vs 0.20 on f10-f14); at d = 20 SNES was ahead,
    0.349 vs 0.304 (its per-coordinate spreads adapt d times faster), so choose
    ``variant="snes"`` from about 20 parameters, and always for hundreds (xNES costs O(d^3)
    per generation).

    Hyper-parameters (defaults): ``population`` (None: 4 + floor(3 ln d)); ``variant``
    ("xnes" or "snes"); ``sigma`` initial spread as a fraction of each range (0.2);
    ``lr_mean`` (1.0); ``lr_sigma`` (None: (3 + ln d) / (5 sqrt d), SNES's rate, also for
    xNES's global step size: xNES's own 3 (3 + ln d) / (5 d sqrt d), kept for ``lr_b``, is 20
    times slower at d = 20 and needs ~3x the evaluations on the sphere); ``mirrored``
    sampling (False); ``restarts`` (None: unlimited); ``bounding`` ("clip"); ``penalty``
    (None: worse than the worst); ``weights`` (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("mean", "std", "shape", "samples", "run",
                                                   "size", "run_best", "stale")

    def __init__(self, population: int | None = None, variant: str = "xnes", sigma: float = 0.2,
                 lr_mean: float = 1.0, lr_sigma: float | None = None, mirrored: bool = False,
                 restarts: int | None = None, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.variant = variant
        self.sigma = sigma
        self.lr_mean = lr_mean
        self.lr_sigma = lr_sigma
        self.mirrored = mirrored
        self.restarts = restarts
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        d = max(self.space.dim, 1)
        if self.population is not None:
            positive_int("population", self.population, 2)
        if self.restarts is not None:
            positive_int("restarts", self.restarts, 0)
        choice("variant", self.variant, ("xnes", "snes"))
        if not 0 < float(self.sigma) <= MAX_SPREAD:
            raise ConfigError(f"sigma must be in (0, {MAX_SPREAD}], got {self.sigma}")
        self.run = 0
        self.size = int(self.population) if self.population is not None \
            else 4 + int(3 * np.log(d))
        self._fresh(np.full(self.space.dim, 0.5))

    def _fresh(self, mean: np.ndarray) -> None:
        d = self.space.dim
        self.mean = mean
        self.std = np.full(d, float(self.sigma))   # per coordinate (snes) or sigma (xnes)
        self.shape = np.eye(d)                      # B of xNES, det 1
        self.samples = np.zeros((0, d))
        self.run_best = float("inf")
        self.stale = 0

    def ask_vectors(self) -> np.ndarray:
        n, d = int(self.size), self.space.dim
        if self.mirrored:
            half = self.rng.standard_normal(((n + 1) // 2, d))
            self.samples = np.vstack([half, -half])[:n]
        else:
            self.samples = self.rng.standard_normal((n, d))
        return from_unit(self.space, reflect_unit(self.mean + self._steps(self.samples)))

    def _steps(self, s: np.ndarray) -> np.ndarray:
        if self.variant == "xnes":
            return float(self.std[0]) * s @ self.shape.T if len(self.std) else s
        return self.std * s

    def _lr_sigma(self, d: int) -> float:
        if self.lr_sigma is not None:
            return float(self.lr_sigma)
        return (3 + np.log(d)) / (5 * np.sqrt(d))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        d = self.space.dim
        if d == 0 or np.ptp(losses) == 0:
            self._track(losses)
            return  # no ranking information (e.g. every evaluation failed)
        order = np.argsort(losses, kind="stable")
        utilities = np.zeros(len(losses))
        utilities[order] = nes_utilities(len(losses))
        s = self.samples
        lr = self._lr_sigma(d)
        self.mean = self.mean + float(self.lr_mean) * self._steps(utilities @ s)
        if self.variant == "xnes":
            g = (s.T * utilities) @ s - utilities.sum() * np.eye(d)
            trace = float(np.trace(g)) / d
            self.std = self.std * np.exp(0.5 * lr * trace)
            lr_b = 3 * (3 + np.log(d)) / (5 * d * np.sqrt(d))
            self.shape = self.shape @ _expm_sym(0.5 * lr_b * (g - trace * np.eye(d)))
        else:
            self.std = self.std * np.exp(0.5 * lr * (utilities @ (s**2 - 1.0)))
        # keep the mean near the box (mirror-equivalent points) and the spread within it
        self.mean = np.clip(self.mean, -0.5, 1.5)
        self.std = np.minimum(self.std, MAX_SPREAD / max(1.0, float(self._axis_max())))
        self._track(losses)

    def _axis_max(self) -> float:
        """The longest axis of B (xNES), 1 for SNES."""
        if self.variant != "xnes":
            return 1.0
        return float(np.sqrt(np.max(np.sum(self.shape**2, axis=1))))

    def _track(self, losses: np.ndarray) -> None:
        best, previous = float(losses.min()), float(self.run_best)
        if best < previous and (not np.isfinite(previous)
                                or previous - best > 1e-12 * max(1.0, abs(previous))):
            self.run_best, self.stale = best, 0
        else:
            self.stale = int(self.stale) + 1
        d = max(self.space.dim, 1)
        spread = float(np.max(self.std)) * self._axis_max()
        patience = 20 + int(30 * d / int(self.size))
        if spread < 1e-10 or int(self.stale) >= patience:
            if self.restarts is None or int(self.run) < int(self.restarts):
                self.run = int(self.run) + 1
                self.size = 2 * int(self.size)
                self._fresh(self.rng.uniform(size=self.space.dim))
