"""OpenAI-style evolution strategies (Salimans et al. 2017)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from .utils import centered_ranks, from_unit, positive_int


class EvolutionStrategies(VectorOptimizer):
    """Evolution strategies as in Salimans et al. (2017), "Evolution Strategies as a Scalable
    Alternative to Reinforcement Learning": perturb the mean with Gaussian noise of std
    ``sigma``, estimate the gradient of the expected loss from the perturbations' losses and
    step the mean against it. Works in the unit cube of the space's bounds; the mean starts
    at a uniformly drawn point.

    Hyper-parameters (defaults): ``population`` (32); ``learning_rate`` (0.02); ``sigma``
    noise std as a fraction of each range (0.05); ``sigma_decay`` factor per generation (1.0:
    constant); ``mirrored`` sampling, pairs +e/-e (True); ``fitness_shaping`` with centered
    ranks (True; else the losses standardised); ``bounding`` ("clip"); ``penalty`` for failed
    evaluations (None: worse than the worst); ``weights`` to scalarise several objectives.
    """

    state_attributes: ClassVar[tuple[str, ...]] = ("mean", "sigma_now", "noise")

    def __init__(self, population: int = 32, learning_rate: float = 0.02, sigma: float = 0.05,
                 sigma_decay: float = 1.0, mirrored: bool = True, fitness_shaping: bool = True,
                 bounding: str = "clip", penalty: float | None = None,
                 weights: Sequence[float] | None = None):
        self.population = population
        self.learning_rate = learning_rate
        self.sigma = sigma
        self.sigma_decay = sigma_decay
        self.mirrored = mirrored
        self.fitness_shaping = fitness_shaping
        self.bounding = bounding
        self.penalty = penalty
        self.weights = weights

    def start(self, problem: Problem) -> None:
        super().start(problem)
        positive_int("population", self.population, 2)
        if float(self.sigma) <= 0:
            raise ConfigError(f"sigma must be positive, got {self.sigma}")
        self.mean = self.rng.uniform(size=self.space.dim)
        self.sigma_now = float(self.sigma)
        self.noise = np.zeros((0, self.space.dim))

    def ask_vectors(self) -> np.ndarray:
        n, d = int(self.population), self.space.dim
        if self.mirrored:
            half = self.rng.standard_normal(((n + 1) // 2, d))
            self.noise = np.vstack([half, -half])[:n]
        else:
            self.noise = self.rng.standard_normal((n, d))
        return from_unit(self.space, self.mean + self.sigma_now * self.noise)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        if self.fitness_shaping:
            scores = centered_ranks(losses)
        else:
            std = losses.std()
            scores = (losses - losses.mean()) / std if std > 0 else np.zeros(len(losses))
        gradient = scores @ self.noise / (len(losses) * self.sigma_now)
        self.mean = np.clip(self.mean - float(self.learning_rate) * gradient, 0.0, 1.0)
        self.sigma_now = self.sigma_now * float(self.sigma_decay)
