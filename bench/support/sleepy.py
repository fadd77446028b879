"""An optimizee whose evaluations sleep for a log-normal time, for ``bench/async.py``.

The subject there is scheduling, not arithmetic: each evaluation sleeps
``mean · exp(sigma · z − sigma² / 2)`` seconds (mean ``mean`` whatever ``sigma``; ``z`` a
standard normal drawn from the evaluation's seed, so a duration depends on the seed only),
then returns a benchmark function's value of its parameters. Sleeping workers need no CPU, so
32 of them run on 2 cores. It lives in a module of its own so that worker processes can
import it.
"""

from __future__ import annotations

import math
import time

import numpy as np
from l2l import Evaluation, Objectives, Optimizee, Space
from l2l.optimizees.functions import FunctionOptimizee


class SleepyFunction(Optimizee):
    """``function`` in ``dimension`` variables, each evaluation sleeping a log-normal time."""

    def __init__(self, mean: float = 0.05, sigma: float = 1.0, function: str = "rastrigin",
                 dimension: int = 10):
        self.mean = mean
        self.sigma = sigma
        self.function = function
        self.dimension = dimension

    def _inner(self) -> FunctionOptimizee:
        return FunctionOptimizee(function=self.function, dimension=self.dimension)

    def space(self) -> Space:
        return self._inner().space()

    def objectives(self) -> Objectives:
        return self._inner().objectives()

    def duration(self, seed: int) -> float:
        z = float(np.random.default_rng(seed).standard_normal())
        return float(self.mean) * math.exp(self.sigma * z - self.sigma ** 2 / 2)

    def evaluate(self, params, seed: int) -> Evaluation:
        time.sleep(self.duration(seed))
        return self._inner().evaluate(params, seed)
