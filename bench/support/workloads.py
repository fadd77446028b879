"""Optimizees that do a fixed amount of CPU work per evaluation, for ``bench/scaling.py``.

Each returns the 10-D Rastrigin value of its parameters (so a GA has something to optimize)
after doing its work; the work does not depend on the parameters, so every executor and worker
count gets exactly the same work. They live in a module of their own so that MPI and Dask
workers can import them.

* :class:`PythonWork`: pure-Python integer arithmetic (holds the GIL throughout);
* :class:`NumpyWork`: a rate network integrated with numpy (matrix-vector products and
  ``tanh`` on 256 units: most of the time in numpy, which releases the GIL);
* :class:`NestWork`: a small NEST run (the Brunel network of ``nest-brunel``).

With ``L2L_BENCH_PIN_DIR`` set, :meth:`setup` pins the worker process to one CPU core that no
other worker holds (a lock file per core in that folder); no free core: left unpinned. Each
evaluation reports the CPU ms its work took and the core it ran on (``info``).
"""

from __future__ import annotations

import fcntl
import os
import time

import numpy as np
from l2l import Evaluation, Float, Optimizee, Space
from l2l.optimizees.functions import rastrigin

_held: list[int] = []  # the lock of this process's core, open for the life of the process


def pin_to_free_core() -> int | None:
    """Pin this process to the first core whose lock file it can take; the core, or None."""
    folder = os.environ.get("L2L_BENCH_PIN_DIR")
    if not folder or not hasattr(os, "sched_setaffinity") or _held:
        return None
    for core in sorted(os.sched_getaffinity(0)):
        fd = os.open(os.path.join(folder, f"core{core}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _held.append(fd)
        os.sched_setaffinity(0, {core})
        return core
    return None


def _core() -> int | None:
    """The core this process is pinned to (None: not pinned)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = os.sched_getaffinity(0)
    return next(iter(cores)) if len(cores) == 1 else None


class _Work(Optimizee):
    def space(self) -> Space:
        return Space([Float("x", -5.12, 5.12, shape=(10,))])

    def setup(self) -> None:
        pin_to_free_core()

    def work(self) -> float:
        raise NotImplementedError

    def evaluate(self, params, seed) -> Evaluation:
        cpu = time.process_time()
        self.work()
        info = {"cpu_ms": (time.process_time() - cpu) * 1e3, "core": _core()}
        return Evaluation(fitness=(float(rastrigin(np.asarray(params["x"]))),), info=info)


class PythonWork(_Work):
    """``iterations`` steps of pure-Python integer arithmetic per evaluation."""

    def __init__(self, iterations: int = 200_000):
        self.iterations = iterations

    def work(self) -> float:
        acc = 0
        for i in range(int(self.iterations)):
            acc = (acc + i * i) % 1_000_003
        return float(acc)


class NumpyWork(_Work):
    """``steps`` Euler steps of a random rate network of ``units`` units (numpy)."""

    def __init__(self, units: int = 256, steps: int = 1000):
        self.units = units
        self.steps = steps

    def work(self) -> float:
        rng = np.random.default_rng(0)
        w = rng.normal(0.0, 1.0 / np.sqrt(self.units), (self.units, self.units))
        x = np.zeros(self.units)
        drive = rng.normal(0.0, 1.0, self.units)
        for _ in range(int(self.steps)):
            x += 0.1 * (np.tanh(w @ x + drive) - x)
        return float(x.sum())


class NestWork(_Work):
    """A small NEST run per evaluation: the Brunel network of ``nest-brunel`` with 200 + 50
    neurons for 300 ms, always with the same parameters and seed."""

    def setup(self) -> None:
        from l2l import build

        super().setup()
        self._net = build("optimizee", "nest-brunel", n_excitatory=200, sim_ms=300.0,
                          warmup_ms=100.0, n_record=50)
        self._net.setup()

    def work(self) -> float:
        return float(self._net.evaluate({"g": 5.0, "eta": 2.0}, 1).fitness[0])

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_net"}
