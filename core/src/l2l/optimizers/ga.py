"""Genetic algorithm on real vectors, single- or multi-objective (NSGA-II selection)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation, Objectives
from ..optimizer import Problem, VectorOptimizer
from ..space import Params
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

    Async mode (steady state): the first ``population`` asks are the random initial
    population; later asks are children of two tournament winners from the current
    population (crossover and mutation as above). Each told result joins the population,
    and the worst member (by the same survivor order) is dropped once it holds more than
    ``population``; ``elite`` has no role there (the best are never dropped).
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("pending", "parents", "parent_scores",
                                                   "asked")
    asynchronous: ClassVar[bool] = True

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
        self.asked = 0

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

    def _children(self, n_children: int) -> np.ndarray:
        """``n_children`` mutated offspring of tournament winners from ``parents``."""
        mothers = self.parents[self._tournament(len(self.parents), n_children)]
        fathers = self.parents[self._tournament(len(self.parents), n_children)]
        children = self._crossover(mothers, fathers)
        rate = 1.0 / max(self.space.dim, 1) if self.mutation_rate is None \
            else float(self.mutation_rate)
        mutate = self.rng.uniform(size=children.shape) < rate
        noise = self.rng.normal(size=children.shape) * self.mutation_sigma * widths(self.space)
        return self.space.bound(children + mutate * noise, self.bounding)

    def ask_vector(self) -> tuple[int, np.ndarray]:
        asked = int(self.asked)
        self.asked = asked + 1
        if asked < len(self.pending) or len(self.parents) == 0:
            # the initial population (or, with more in flight than that, further random points)
            row = self.pending[asked] if asked < len(self.pending) else \
                self.space.sample_vectors(self.rng, 1)[0]
            return asked, row
        return asked, self._children(1)[0]

    def known_losses(self) -> np.ndarray:
        return np.asarray(self.parent_scores, dtype=float)[:, 0] if self.selection != "nsga2" \
            else np.zeros(0)

    def tell_one(self, ticket: int, params: Params, evaluation: Evaluation) -> None:
        vector = self.space.to_vector(params).reshape(1, -1)
        if self.selection == "nsga2":
            scores = objective_matrix([evaluation], self.problem.objectives)
            if not evaluation.ok and len(self.parent_scores):
                ok = np.asarray(self.parent_scores, dtype=float)
                scores = (ok.max(axis=0) + np.abs(ok.max(axis=0)) + 1.0).reshape(1, -1)
        else:
            loss = (self.problem.objectives.loss(evaluation.fitness) if evaluation.ok
                    else self.failure_loss(self.known_losses()))
            scores = np.array([[loss]])
        pool = np.vstack([np.asarray(self.parents, dtype=float).reshape(-1, self.space.dim), vector])
        all_scores = np.vstack([np.asarray(self.parent_scores, dtype=float)
                                .reshape(-1, scores.shape[1]), scores])
        order = self._survivor_order(all_scores)[:int(self.population)]
        self.parents, self.parent_scores = pool[order], all_scores[order]

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        n = int(self.population)
        pool = np.vstack([self.parents, vectors])
        scores = np.vstack([self.parent_scores, self._scores(losses, evaluations)])
        order = self._survivor_order(scores)[:n]
        self.parents, self.parent_scores = pool[order], scores[order]
        n_elite = min(int(self.elite), n - 1)
        self.pending = np.vstack([self.parents[:n_elite], self._children(n - n_elite)])
