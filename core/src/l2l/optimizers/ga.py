"""Genetic algorithm on real vectors."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..evaluation import Evaluation
from ..optimizer import VectorOptimizer


class GeneticAlgorithm(VectorOptimizer):
    """Generational GA: tournament selection, blend (BLX-alpha) crossover, Gaussian mutation
    and elitism (Holland 1975; Eshelman & Schaffer 1993 for BLX-alpha).

    Hyper-parameters (defaults): ``population`` (32), ``elite`` individuals copied unchanged
    (2), ``tournament`` size (3), ``crossover_rate`` (0.7), ``alpha`` of BLX (0.5),
    ``mutation_rate`` per gene (0.2), ``mutation_sigma`` as a fraction of each parameter's
    range (0.1), ``bounding`` ("clip"), ``penalty`` for failed evaluations (None: worse than
    the worst), ``weights`` to scalarise several objectives (None).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("pending", "parents", "parent_losses")

    def __init__(self, population: int = 32, elite: int = 2, tournament: int = 3,
                 crossover_rate: float = 0.7, alpha: float = 0.5, mutation_rate: float = 0.2,
                 mutation_sigma: float = 0.1, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.elite = elite
        self.tournament = tournament
        self.crossover_rate = crossover_rate
        self.alpha = alpha
        self.mutation_rate = mutation_rate
        self.mutation_sigma = mutation_sigma
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem) -> None:  # type: ignore[no-untyped-def]
        super().start(problem)
        self.pending = self.space.sample_vectors(self.rng, int(self.population))
        self.parents = np.zeros((0, self.space.dim))
        self.parent_losses = np.zeros(0)

    def ask_vectors(self) -> np.ndarray:
        return self.pending

    def _select(self, pool: np.ndarray, pool_losses: np.ndarray, n: int) -> np.ndarray:
        k = max(1, min(int(self.tournament), len(pool)))
        picks = self.rng.integers(0, len(pool), size=(n, k))
        winners = picks[np.arange(n), np.argmin(pool_losses[picks], axis=1)]
        return pool[winners]

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        pool = np.vstack([self.parents, vectors])
        pool_losses = np.concatenate([self.parent_losses, losses])
        order = np.argsort(pool_losses, kind="stable")
        n = int(self.population)
        n_elite = min(int(self.elite), n)
        # survivors: the best of parents and offspring (elitism) become the next parents
        self.parents = pool[order[:n]]
        self.parent_losses = pool_losses[order[:n]]
        mothers = self._select(self.parents, self.parent_losses, n - n_elite)
        fathers = self._select(self.parents, self.parent_losses, n - n_elite)
        width = self.space.upper - self.space.lower
        lo, hi = np.minimum(mothers, fathers), np.maximum(mothers, fathers)
        span = hi - lo
        u = self.rng.uniform(size=mothers.shape)
        blend = lo - self.alpha * span + u * (1 + 2 * self.alpha) * span
        cross = self.rng.uniform(size=(len(mothers), 1)) < self.crossover_rate
        children = np.where(cross, blend, mothers)
        mutate = self.rng.uniform(size=children.shape) < self.mutation_rate
        children = children + mutate * self.rng.normal(size=children.shape) * self.mutation_sigma * width
        self.pending = np.vstack([self.parents[:n_elite], self.space.bound(children, self.bounding)])
