"""Small optimizees for the core's tests (importable by worker processes)."""

from __future__ import annotations

import os
import time

import numpy as np
from l2l import Evaluation, Float, Objectives, Optimizee, Space


class Trouble(Optimizee):
    """x in [0, 1]; misbehaves in chosen intervals of x (crash, hang, raise, NaN)."""

    def __init__(self, crash_below: float = 0.0, hang_below: float = 0.0,
                 raise_below: float = 0.0, nan_below: float = 0.0, marker_dir: str = ""):
        self.crash_below = crash_below
        self.hang_below = hang_below
        self.raise_below = raise_below
        self.nan_below = nan_below
        self.marker_dir = marker_dir

    def space(self) -> Space:
        return Space([Float("x", 0.0, 1.0)])

    def setup(self) -> None:
        if self.marker_dir:
            with open(os.path.join(self.marker_dir, f"setup-{os.getpid()}"), "a") as f:
                f.write("setup\n")

    def evaluate(self, params, seed):
        x = params["x"]
        if x < self.crash_below:
            os._exit(7)
        if x < self.hang_below:
            time.sleep(60)
        if x < self.raise_below:
            raise ValueError(f"x={x:.3f} is too small")
        if x < self.nan_below:
            return float("nan")
        return (x - 0.7) ** 2


class Sleeper(Optimizee):
    """Sleeps ``x`` seconds, then returns ``x``."""

    def space(self) -> Space:
        return Space([Float("x", 0.0, 10.0)])

    def evaluate(self, params, seed):
        time.sleep(params["x"])
        return params["x"]


class SlowSeed(Trouble):
    """:class:`Trouble`'s fitness; the evaluation with seed ``slow_seed`` first sleeps
    ``seconds``."""

    def __init__(self, slow_seed: int = -1, seconds: float = 30.0):
        super().__init__()
        self.slow_seed = slow_seed
        self.seconds = seconds

    def evaluate(self, params, seed):
        if seed == self.slow_seed:
            time.sleep(self.seconds)
        return super().evaluate(params, seed)


class TwoGoals(Optimizee):
    """Two objectives: minimise distance, maximise a score."""

    def __init__(self, dimension: int = 2):
        self.dimension = dimension

    def space(self) -> Space:
        return Space([Float("x", -1.0, 1.0, shape=self.dimension)])

    def objectives(self) -> Objectives:
        return Objectives(("dist", "score"), ("min", "max"))

    def evaluate(self, params, seed):
        x = params["x"]
        return Evaluation(fitness=(float(np.sum(x**2)), float(-np.sum((x - 0.5) ** 2))))


class BatchTrouble(Trouble):
    """Trouble with a batch path."""

    def evaluate_batch(self, params, seeds):
        return [self.evaluate(p, s) for p, s in zip(params, seeds)]


class BadSetup(Trouble):
    """Fails in setup()."""

    def setup(self) -> None:
        raise RuntimeError("no simulator here")


class Segv(Optimizee):
    """Segfaults (a null pointer read) for x < 0.5."""

    def space(self) -> Space:
        return Space([Float("x", 0.0, 1.0)])

    def evaluate(self, params, seed):
        if params["x"] < 0.5:
            import ctypes

            ctypes.string_at(0)
        return params["x"]


class SlowSetup(Trouble):
    """Hangs in setup()."""

    def setup(self) -> None:
        time.sleep(60)


class MinBatchProbe(Optimizee):
    """Records which path evaluated it (``info["path"]``); its batch path is only worth it for
    ``min_batch`` or more tasks."""

    def __init__(self, min_batch: int = 2):
        self.min_batch = min_batch

    def space(self) -> Space:
        return Space([Float("x", 0.0, 1.0)])

    def evaluate(self, params, seed):
        return Evaluation(fitness=(params["x"],), info={"path": "single"})

    def evaluate_batch(self, params, seeds):
        return [Evaluation(fitness=(p["x"],), info={"path": "batch", "size": len(params)})
                for p in params]
class Unstorable(Trouble):
    """Returns results the store cannot keep for x < 0.5: a non-JSON info, a string, sys.exit."""

    def evaluate(self, params, seed):
        x = params["x"]
        if x < 0.2:
            return Evaluation(fitness=(x,), info={"handle": object()})
        if x < 0.3:
            return "not a number"
        if x < 0.4:
            raise SystemExit(5)
        return super().evaluate(params, seed)

    def evaluate_batch(self, params, seeds):
        return [self.evaluate(p, s) if p["x"] >= 0.3 or p["x"] < 0.2 else "not a number"
                for p, s in zip(params, seeds)]
