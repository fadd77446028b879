"""In-process execution: the simplest executor and the reference for determinism."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Iterator, Sequence

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..executor import Executor, Task, run_tasks, uses_batch
from ..optimizee import Optimizee


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException, so that ``except Exception`` in an optimizee or in
    :func:`run_tasks` does not swallow it."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` in this (the main) thread after ``seconds`` of wall time."""
    def ring(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class SerialExecutor(Executor):
    """Evaluates in the coordinating process, one chunk after another.

    Exceptions and NaNs become failed evaluations; a crashing evaluation cannot be contained
    in-process (use the ``process`` executor for that). ``timeout``: seconds allowed per
    evaluation (a batch gets ``timeout`` × its size; None: no limit), enforced with SIGALRM
    (Unix, main thread): an evaluation still running then is interrupted and recorded as failed
    (all of a batch), and the optimizee is torn down and set up again. An evaluation blocked
    inside compiled code is only interrupted when it returns to Python; the ``process``
    executor kills it instead. ``batch`` forces (True) or disables (False) the optimizee's
    batch path; None uses it when offered.
    """

    def __init__(self, batch: bool | None = None, timeout: float | None = None):
        self.batch = batch
        self.timeout = timeout
        self.workers = 1

    def start(self, optimizee: Optimizee) -> None:
        if self.timeout is not None:
            if not float(self.timeout) > 0:
                raise ConfigError(f"serial executor: timeout must be positive, got {self.timeout}")
            if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
                raise ConfigError("serial executor: timeout needs SIGALRM in the main thread "
                                  "(Unix); use the process executor")
        optimizee.setup()
        self._optimizee = optimizee

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        fut: Future[list[Evaluation]] = Future()
        if self.timeout is None:
            fut.set_result(run_tasks(self._optimizee, tasks, self.batch))
            return fut
        batch = uses_batch(self._optimizee, tasks, self.batch)
        chunks = [list(tasks)] if batch else [[t] for t in tasks]
        fut.set_result([ev for chunk in chunks for ev in self._timed(chunk, batch)])
        return fut

    def _timed(self, tasks: list[Task], batch: bool) -> list[Evaluation]:
        limit = float(self.timeout) * len(tasks)  # type: ignore[arg-type]
        try:
            with _alarm(limit):
                return run_tasks(self._optimizee, tasks, batch)
        except _Timeout:
            self._optimizee.teardown()
            self._optimizee.setup()
            what = f"batch of {len(tasks)}" if batch else "evaluation"
            return [Evaluation.failed(f"timeout: {what} exceeded {limit:g} s") for _ in tasks]

    def close(self) -> None:
        if getattr(self, "_optimizee", None) is not None:
            self._optimizee.teardown()
            self._optimizee = None  # type: ignore[assignment]
