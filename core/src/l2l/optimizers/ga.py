"""Genetic algorithm on real vectors, single- or multi-objective (NSGA-II selection)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation, Objectives
from ..optimizer import Problem, VectorOptimizer
from .pareto import crowded_order
from .utils import choice, positive_int, widths

SELECTIONS = ("tournament", "nsga2")
CROSSOVERS = ("blend", "uniform")


def objective_matrix(evaluations: Sequence[Evaluation], objectives: Objectives) -> np.ndarray:
    """Fitness rows signed so that every column is minimised; a failed evaluation scores worse
    than the worst success of the generation in every objective (1e12 if none succeeded)."""
    m = len(objectives)
    f = np.array([np.asarray(e.fitness, dtype=float) * objectives.signs if e.ok else
                  np.full(m, np.nan) for e in evaluations]).reshape(len(evaluations), m)
    failed = np.isnan(f).any(axis=1)
    if failed.any():
        ok = f[~failed]
        worst = ok.max(axis=0) + np.abs(ok.max(axis=0)) + 1.0 if len(ok) else np.full(m, 1e12)
        f[failed] = worst
    return f


class GeneticAlgorithm(VectorOptimizer):
    """Generational GA with (mu + lambda) survival: tournament selection, blend (BLX-alpha) or
    uniform crossover, Gaussian mutation and elitism (Holland 1975; Eshelman & Schaffer 1993
    for BLX-alpha). With ``selection="nsga2"`` survivors and mating are chosen by
    non-dominated rank and crowding distance over all objectives with their declared
    directions (Deb et al. 2002, NSGA-II); ``weights`` are then ignored.

    Hyper-parameters (defaults): ``population`` (16); ``elite`` best individuals copied
    unchanged into the next generation (2, at most population - 1); ``tournament`` size (3);
    ``selection`` ("tournament" or "nsga2"); ``crossover`` ("blend" or "uniform");
    ``crossover_rate`` (0.7); ``alpha`` of BLX (0.5); ``mutation_rate`` per gene (None: 1 / d,
    one gene per child on average, Mühlenbein 1992);
    ``mutation_sigma`` as a fraction of each parameter's range (0.1); ``bounding`` ("clip");
    ``penalty`` loss of failed evaluations (None: worse than the worst); ``weights`` to
    scalarise several objectives (None: the optimizee's).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("pending", "parents", "parent_scores")

    def __init__(self, population: int = 16, elite: int = 2, tournament: int = 3,
                 selection: str = "tournament", crossover: str = "blend",
                 crossover_rate: float = 0.7, alpha: float = 0.5,
                 mutation_rate: float | None = None,
                 mutation_sigma: float = 0.1, bounding: str = "clip",
                 penalty: float | None = None, weights: Sequence[float] | None = None):
        self.population = population
        self.elite = elite
        self.tournament = tournament
        self.selection = selection
        self.crossover = crossover
        self.crossover_rate = crossover_rate
        self.alpha = alpha
        self.mutation_rate = mutation_rate
        self.mutation_sigma = mutation_sigma
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        n = positive_int("population", self.population, 2)
        if positive_int("elite", self.elite, 0) > n:  # (at most n - 1 are kept, see ask)
            raise ConfigError(f"elite must not exceed the population ({n}), got {self.elite}")
        choice("selection", self.selection, SELECTIONS)
        choice("crossover", self.crossover, CROSSOVERS)
        positive_int("tournament", self.tournament)
        self.pending = self.space.sample_vectors(self.rng, n)
        self.parents = np.zeros((0, self.space.dim))
        self.parent_scores = np.zeros((0, len(problem.objectives)
                                       if self.selection == "nsga2" else 1))

    def ask_vectors(self) -> np.ndarray:
        return self.pending

    def _scores(self, losses: np.ndarray, evaluations: Sequence[Evaluation]) -> np.ndarray:
        if self.selection == "nsga2":
            return objective_matrix(evaluations, self.problem.objectives)
        return losses.reshape(-1, 1)

    def _survivor_order(self, scores: np.ndarray) -> np.ndarray:
        if self.selection == "nsga2":
            return crowded_order(scores)[0]
        return np.argsort(scores[:, 0], kind="stable")

    def _tournament(self, n_pool: int, n: int) -> np.ndarray:
        """Indices into a best-first sorted pool: the lowest index of each tournament wins."""
        k = min(int(self.tournament), n_pool)
        return self.rng.integers(0, n_pool, size=(n, k)).min(axis=1)

    def _crossover(self, mothers: np.ndarray, fathers: np.ndarray) -> np.ndarray:
        if self.crossover == "uniform":
            children = np.where(self.rng.uniform(size=mothers.shape) < 0.5, mothers, fathers)
        else:
            lo, hi = np.minimum(mothers, fathers), np.maximum(mothers, fathers)
            span = hi - lo
            u = self.rng.uniform(size=mothers.shape)
            children = lo - self.alpha * span + u * (1 + 2 * self.alpha) * span
        cross = self.rng.uniform(size=(len(mothers), 1)) < self.crossover_rate
        return np.where(cross, children, mothers)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        n = int(self.population)
        pool = np.vstack([self.parents, vectors])
        scores = np.vstack([self.parent_scores, self._scores(losses, evaluations)])
        order = self._survivor_order(scores)[:n]
        self.parents, self.parent_scores = pool[order], scores[order]
        n_elite = min(int(self.elite), n - 1)
        n_children = n - n_elite
        mothers = self.parents[self._tournament(len(self.parents), n_children)]
        fathers = self.parents[self._tournament(len(self.parents), n_children)]
        children = self._crossover(mothers, fathers)
        rate = 1.0 / max(self.space.dim, 1) if self.mutation_rate is None \
            else float(self.mutation_rate)
        mutate = self.rng.uniform(size=children.shape) < rate
        noise = self.rng.normal(size=children.shape) * self.mutation_sigma * widths(self.space)
        children = self.space.bound(children + mutate * noise, self.bounding)
        self.pending = np.vstack([self.parents[:n_elite], children])
