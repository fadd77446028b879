"""Ensemble Kalman filter / ensemble Kalman inversion for fitting observations to targets."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import positive_int


def kalman_step(ensemble: np.ndarray, observations: np.ndarray, targets: np.ndarray,
                gamma: float) -> np.ndarray:
    """One ensemble Kalman inversion update of the rows of ``ensemble`` (J x d) from their
    ``observations`` (J x m) against ``targets`` (m,), with observation noise ``gamma * I``:
    ``u_j += C_uG (C_GG + gamma I)^-1 (y - G_j)``. Computed in ensemble space with the
    Woodbury identity, so its cost is O(J^3 + J^2 (d + m)) whatever m is."""
    j = len(ensemble)
    e = ensemble - ensemble.mean(axis=0)           # J x d
    g = observations - observations.mean(axis=0)   # J x m
    residuals = targets[None, :] - observations    # J x m
    gram = g @ g.T                                 # J x J, D^T D with D = g.T
    rhs = g @ residuals.T                          # J x J, D^T r_k as columns
    coeffs = np.linalg.solve(j * gamma * np.eye(j) + gram, rhs)
    return ensemble + (e.T @ coeffs).T


class EnsembleKalmanFilter(VectorOptimizer):
    """Ensemble Kalman filter for optimisation (Kovachki & Stuart 2019, "Ensemble Kalman
    inversion: a derivative-free technique for machine learning tasks", Inverse Problems 35;
    as L2L's EnKF). The candidates of a generation are the ensemble; their evaluations carry
    observations (``Evaluation.observation``, m entries), which are compared with the
    optimizee's targets (``Optimizee.targets()``, flattened to m entries). ``tell`` updates the
    ensemble ``iterations`` times, each time going through the observation entries in
    ``batches`` groups (mini-batches) in turn; the next ``ask`` returns the updated, bounded
    ensemble. The fitness is not used. Members that failed, or whose observation has the wrong
    size or non-finite entries, are left out of the update and redrawn from a Gaussian fitted
    to the updated ensemble (uniformly in the space if fewer than two members succeeded).

    Hyper-parameters (defaults): ``population`` ensemble size (32); ``gamma`` observation
    noise scale (0.01; the noise covariance is gamma * I); ``iterations`` updates per
    generation (1); ``batches`` mini-batches of the observation entries (1); ``shuffle`` the
    entries into batches anew each generation (False: contiguous groups); ``bounding``
    ("clip" or "reflect").
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("ensemble",)

    def __init__(self, population: int = 32, gamma: float = 0.01, iterations: int = 1,
                 batches: int = 1, shuffle: bool = False, bounding: str = "clip"):
        self.population = population
        self.gamma = gamma
        self.iterations = iterations
        self.batches = batches
        self.shuffle = shuffle
        self.bounding = bounding

    def start(self, problem: Problem) -> None:
        super().start(problem)
        if problem.targets is None:
            raise ConfigError("enkf needs targets: the optimizee's targets() returned None")
        self.targets = np.asarray(problem.targets, dtype=float).reshape(-1)
        if self.targets.size == 0 or not np.isfinite(self.targets).all():
            raise ConfigError("enkf needs a non-empty, finite targets array")
        n = positive_int("population", self.population, 2)
        positive_int("iterations", self.iterations)
        if positive_int("batches", self.batches) > self.targets.size:
            raise ConfigError(f"batches ({self.batches}) exceeds the number of target entries "
                              f"({self.targets.size})")
        if float(self.gamma) <= 0:
            raise ConfigError(f"gamma must be positive, got {self.gamma}")
        self.ensemble = self.space.sample_vectors(self.rng, n)

    def ask_vectors(self) -> np.ndarray:
        return self.ensemble

    def _usable(self, ev: Evaluation) -> bool:
        obs = ev.observation
        return (ev.ok and obs is not None and np.size(obs) == self.targets.size
                and bool(np.isfinite(np.asarray(obs, dtype=float)).all()))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        ok = np.array([self._usable(e) for e in evaluations])
        ensemble = vectors.copy()
        if ok.sum() < 2:
            ensemble[~ok] = self.space.sample_vectors(self.rng, int((~ok).sum()))
            self.ensemble = ensemble
            return
        obs = np.array([np.asarray(e.observation, dtype=float).reshape(-1)
                        for e, good in zip(evaluations, ok) if good])
        members = ensemble[ok]
        entries = self.rng.permutation(self.targets.size) if self.shuffle \
            else np.arange(self.targets.size)
        groups = np.array_split(entries, int(self.batches))
        for _ in range(int(self.iterations)):
            for group in groups:
                members = kalman_step(members, obs[:, group], self.targets[group],
                                      float(self.gamma))
        members = self.space.bound(members, self.bounding)
        ensemble[ok] = members
        if (~ok).any():
            dev = members - members.mean(axis=0)
            z = self.rng.standard_normal((int((~ok).sum()), len(members)))
            ensemble[~ok] = members.mean(axis=0) + z @ dev / np.sqrt(len(members) - 1)
        self.ensemble = self.space.bound(ensemble, self.bounding)
