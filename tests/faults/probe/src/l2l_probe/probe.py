"""An optimizee that misbehaves on request, for the fault-injection suite.

``x`` in [0, 1]; fitness ``(x - 0.7)**2``. Evaluations with ``x < below`` commit ``fault``
(one of :data:`FAULTS`); with ``fault = "by-x"`` the evaluation at ``x = k / 100`` commits
``FAULTS[k]`` (the whole matrix in one generation). ``cost`` seconds of sleep per evaluation
make runs slow enough to be interrupted. ``batch = true`` adds a batch path (faults then
happen inside the batch).
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

from l2l import Evaluation, Float, Optimizee, Space

#: what a misbehaving evaluation does
FAULTS = ("none", "raise", "segfault", "exit", "sysexit", "kill", "hang", "hang-c", "nan", "inf",
          "string", "wrong-shape", "non-json-info", "huge")


class Probe(Optimizee):
    """Misbehaves (``fault``) for ``x < below``; sleeps ``cost`` s per evaluation."""

    def __init__(self, fault: str = "none", below: float = 0.0, cost: float = 0.0,
                 batch: bool = False):
        self.fault = fault
        self.below = below
        self.cost = cost
        self.batch = batch

    def space(self) -> Space:
        if self.fault not in FAULTS + ("by-x",):
            raise ValueError(f"unknown fault {self.fault!r} (one of {', '.join(FAULTS)})")
        return Space([Float("x", 0.0, 1.0)])

    def has_batch(self) -> bool:  # type: ignore[override]
        return bool(self.batch)

    def evaluate(self, params, seed):
        x = float(params["x"])
        if self.cost:
            time.sleep(self.cost)
        if self.fault == "by-x" and round(x * 100) < len(FAULTS) and abs(x * 100 - round(x * 100)) < 1e-9:
            return misbehave(FAULTS[round(x * 100)], x)
        if x < self.below:
            return misbehave(self.fault, x)
        return (x - 0.7) ** 2

    def evaluate_batch(self, params, seeds):
        return [self.evaluate(p, s) for p, s in zip(params, seeds)]


def misbehave(fault: str, x: float):
    """Commit ``fault`` (returning what a broken optimizee would return, if anything)."""
    if fault == "raise":
        raise RuntimeError(f"probe raised at x={x:.3f}")
    if fault == "segfault":
        ctypes.string_at(0)
    if fault == "exit":
        os._exit(3)
    if fault == "sysexit":
        raise SystemExit(4)
    if fault == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "hang":
        time.sleep(3600)
    if fault == "hang-c":
        hang_in_c()
    if fault == "nan":
        return float("nan")
    if fault == "inf":
        return float("inf")
    if fault == "string":
        return "not a number"
    if fault == "wrong-shape":
        return [1.0, 2.0, 3.0]
    if fault == "non-json-info":
        return Evaluation(fitness=((x - 0.7) ** 2,), info={"handle": object()})
    if fault == "huge":
        return huge_allocation()
    return (x - 0.7) ** 2


def hang_in_c(seconds: int = 3600) -> None:
    """Block every signal and sleep in libc with the GIL held: nothing in this process (not the
    serial executor's SIGALRM, not a KeyboardInterrupt, not a Python thread) can end it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})
    ctypes.PyDLL(None).sleep(seconds)


def huge_allocation() -> float:
    """Ask for far more memory than exists: numpy refuses with MemoryError before anything is
    allocated (safe on any machine)."""
    import numpy as np

    np.empty(2**62, dtype=np.uint8)  # raises MemoryError
    return 0.0
