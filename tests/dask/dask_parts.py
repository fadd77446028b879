"""Optimizees for the dask executor's tests (importable by Dask workers and their children)."""

from __future__ import annotations

import os
import time

from l2l import Float, Optimizee, Space


class Trouble(Optimizee):
    """x in [0, 1]; crashes, hangs, raises or returns NaN in chosen intervals of x.

    ``marker_dir``: setup() appends a file per pid there (counts setups per process).
    """

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
        x = float(params["x"])
        if x < self.crash_below:
            os._exit(7)
        if x < self.hang_below:
            time.sleep(60)
        if x < self.raise_below:
            raise ValueError(f"x={x:.3f} is too small")
        if x < self.nan_below:
            return float("nan")
        return (x - 0.7) ** 2


class BadSetup(Trouble):
    """Fails in setup()."""

    def setup(self) -> None:
        raise RuntimeError("no simulator here")
