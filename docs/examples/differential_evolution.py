"""Differential evolution (DE/rand/1/bin, Storn & Price 1997) as an l2l optimizer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from l2l import ConfigError, Evaluation, Problem, VectorOptimizer


class DifferentialEvolution(VectorOptimizer):
    """Each member is challenged by a trial vector: a mutant ``a + f (b - c)`` of three other
    members, crossed over with the member at rate ``cr``; the better of the two survives.

    ``population`` (at least 4), ``f`` (differential weight), ``cr`` (crossover rate), and
    the settings of every vector optimizer: ``bounding``, ``penalty``, ``weights``.
    """

    min_population = 4  # a mutant needs three members besides the one it challenges
    state_attributes = ("members", "member_losses")

    def __init__(self, population: int = 20, f: float = 0.7, cr: float = 0.9,
                 bounding: str = "reflect", penalty: float | None = None,
                 weights: Sequence[float] | None = None):
        self.population = population
        self.f = f
        self.cr = cr
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)  # sets self.problem and self.rng; checks min_population
        if not (0.0 < self.f <= 2.0 and 0.0 <= self.cr <= 1.0):
            raise ConfigError(f"de: need 0 < f <= 2 and 0 <= cr <= 1, got f={self.f}, cr={self.cr}")
        self.members: np.ndarray | None = None  # the population as evaluated, (n, dim)
        self.member_losses: np.ndarray | None = None

    def ask_vectors(self) -> np.ndarray:
        n, dim = int(self.population), self.space.dim
        if self.members is None:  # first generation: uniform within the bounds
            return self.space.sample_vectors(self.rng, n)
        x = self.members
        others = [self.rng.choice(np.delete(np.arange(n), i), 3, replace=False) for i in range(n)]
        a, b, c = (x[[o[k] for o in others]] for k in range(3))
        mutant = a + self.f * (b - c)  # may leave the bounds: the base class bounds it
        cross = self.rng.uniform(size=(n, dim)) < self.cr
        cross[np.arange(n), self.rng.integers(dim, size=n)] = True  # at least one coordinate
        return np.where(cross, mutant, x)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        if self.members is None:
            self.members, self.member_losses = vectors, losses
            return
        # a failure's loss is a penalty relative to this generation: never let it win
        ok = np.array([e.ok for e in evaluations])
        better = ok & (losses <= self.member_losses)
        self.members = np.where(better[:, None], vectors, self.members)
        self.member_losses = np.where(better, losses, self.member_losses)
