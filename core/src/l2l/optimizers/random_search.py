"""Random search: the baseline every optimizer must beat."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..evaluation import Evaluation
from ..optimizer import VectorOptimizer


class RandomSearch(VectorOptimizer):
    """Uniform random sampling within the bounds (Bergstra & Bengio 2012 as a baseline).

    Hyper-parameters: ``population`` (candidates per generation, default 32).
    """

    def __init__(self, population: int = 32):
        self.population = population

    def ask_vectors(self) -> np.ndarray:
        return self.space.sample_vectors(self.rng, int(self.population))

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        """Random search learns nothing."""
