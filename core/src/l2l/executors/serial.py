"""In-process execution: the simplest executor and the reference for determinism."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Iterator, Sequence

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..executor import Executor, Task, run_one, run_tasks, setup_optimizee, uses_batch, worker_name
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

    Exceptions, ``sys.exit()``, NaNs and unstorable results become failed evaluations; an
    evaluation that segfaults, calls ``os._exit()``, is killed or hangs in compiled code with
    signals blocked ends the coordinating process, and so the run (``l2l run`` then marks it
    failed and suggests the ``process`` executor, see :mod:`l2l.sentinel`). ``timeout``: seconds allowed per
    evaluation (a batch gets ``timeout`` × its size; None: no limit), enforced with SIGALRM
    (Unix, main thread): an evaluation still running then is interrupted and recorded as failed,
    and the optimizee is torn down and set up again; a batch that runs out of time is re-run
    one evaluation at a time, so that only the culprit fails (as in ``process``). An evaluation blocked
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
        setup_optimizee(optimizee)
        self._optimizee = optimizee
        self._n_obj, self._me = len(optimizee.objectives()), worker_name()

    def submit(self, tasks: Sequence[Task]) -> Future[list[Evaluation]]:
        fut: Future[list[Evaluation]] = Future()
        if self.timeout is None:
            fut.set_result(run_tasks(self._optimizee, tasks, self.batch))
            return fut
        if uses_batch(self._optimizee, tasks, self.batch):
            done = self._timed(list(tasks), True)
            if done is not None:
                fut.set_result(done)
                return fut
        # one at a time; also after a timed-out batch, to isolate the culprit (as ``process``)
        out = []
        for task in tasks:
            done = self._timed([task], False)
            out.append(done[0] if done is not None else
                       Evaluation.failed(f"timeout: evaluation exceeded {self.timeout:g} s"))
        fut.set_result(out)
        return fut

    def set_prefetch(self, depth: int) -> int:
        """0: a submission is evaluated at once, so there is no round trip to hide."""
        return 0

    def _timed(self, tasks: list[Task], batch: bool) -> list[Evaluation] | None:
        """The evaluations of ``tasks`` within ``timeout`` × their number, or None (the
        optimizee then set up again) when the time ran out."""
        try:
            with _alarm(float(self.timeout) * len(tasks)):  # type: ignore[arg-type]
                if not batch:
                    return [run_one(self._optimizee, t, self._n_obj, self._me) for t in tasks]
                return run_tasks(self._optimizee, tasks, batch)
        except _Timeout:
            self._optimizee.teardown()
            self._optimizee.setup()
            return None

    def close(self) -> None:
        if getattr(self, "_optimizee", None) is not None:
            self._optimizee.teardown()
            self._optimizee = None  # type: ignore[assignment]
