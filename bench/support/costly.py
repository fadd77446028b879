"""A BBOB function whose evaluation cost grows with a parameter, for ``bench/async.py``.

The model: a simulation whose run time is proportional to one of its parameters (the size of
a network, the simulated time, a cell's firing rate). The loss is COCO's ``bbob`` function
``function`` (``cocoex``, instance ``instance``, ``dimension`` variables in [-5, 5]) minus its
optimal value ``fopt``; each evaluation first sleeps ``mean · max(0.05, (x_0 + 5) / 5)``
seconds: ``mean`` at the centre, twice that at the upper bound, 5 % at the lower. Sleeping
workers need no CPU, so many of them fit on 2 cores. A module of its own so that worker
processes can import it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from l2l import Evaluation, Float, Objectives, Optimizee, Space


class CostlyBBOB(Optimizee):
    """bbob ``function`` − ``fopt``; an evaluation at ``x`` sleeps :meth:`duration` ``(x)``."""

    def __init__(self, function: int = 15, dimension: int = 10, instance: int = 1,
                 fopt: float = 0.0, mean: float = 0.05):
        self.function = function
        self.dimension = dimension
        self.instance = instance
        self.fopt = fopt
        self.mean = mean

    def space(self) -> Space:
        return Space([Float("x", -5.0, 5.0, shape=(int(self.dimension),))])

    def objectives(self) -> Objectives:
        return Objectives()

    def setup(self) -> None:
        import cocoex

        f, d, i = int(self.function), int(self.dimension), int(self.instance)
        suite = cocoex.Suite("bbob", f"instances:{i}", f"dimensions:{d} function_indices:{f}")
        self._suite: Any = suite
        self._problem = suite.get_problem_by_function_dimension_instance(f, d, i)

    def duration(self, x: np.ndarray) -> float:
        return float(self.mean) * max(0.05, (float(x[0]) + 5.0) / 5.0)

    def evaluate(self, params, seed: int) -> Evaluation:
        x = np.asarray(params["x"], dtype=float)
        time.sleep(self.duration(x))
        return Evaluation(fitness=(float(self._problem(x)) - float(self.fopt),))
