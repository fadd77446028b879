"""Random search: the baseline every optimizer must beat."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..evaluation import Evaluation
from ..optimizer import VectorOptimizer


class RandomSearch(VectorOptimizer):
    """Uniform random sampling within the bounds (Bergstra & Bengio 2012 as a baseline).

    Hyper-parameters: ``population`` (candidates per generation, default 32). Async mode:
    one uniform sample per ask.
    """

    asynchronous: ClassVar[bool] = True

    def __init__(self, population: int = 32):
        self.population = population

    def ask_vectors(self) -> np.ndarray:
        return self.space.sample_vectors(self.rng, int(self.population))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        """Random search learns nothing."""

    def ask_vector(self) -> tuple[int, np.ndarray]:
        return 0, self.space.sample_vectors(self.rng, 1)[0]

    def tell_loss(self, ticket: int, vector: np.ndarray, loss: float, evaluation: Evaluation) -> None:
        """Random search learns nothing."""
