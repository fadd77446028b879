"""Code that runs on the MPI worker ranks.

The pool's initializer prepares each rank once per run (identified by a token) as a
:class:`l2l.executors.hosted.HostedOptimizee`: by default evaluations run in a supervised child
process whose launcher environment is cleaned before the optimizee is loaded
(:class:`~l2l_mpi.isolation.Isolated`), so crashes and timeouts are contained and simulators
built without MPI start normally.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import socket
import threading
from typing import Sequence

from l2l import Evaluation, ExecutorError, Optimizee, Task
from l2l import lifeline
from l2l.executor import worker_name
from l2l.executors.hosted import HostedOptimizee

from . import ranks
from .environment import clean_launcher_environment
from .isolation import Isolated

_host: HostedOptimizee | None = None


def _release() -> None:
    global _host
    if _host is not None:
        _host.close()
        _host = None


def init_worker(token: str, payload: bytes, timeout: float | None, isolate: bool,
                start_method: str, owner: tuple[str, int] | None = None) -> None:
    """Pool initializer: set the optimizee up for run ``token`` on this rank. ``owner`` (host,
    pid) is the coordinator: the rank ignores the terminal's signals (the coordinator stops
    the job) and, on the coordinator's host, exits when the coordinator does."""
    global _host
    _release()
    lifeline.quiet_signals()
    if threading.current_thread() is threading.main_thread():
        signal.signal(ranks.ABORT, _abort)
    if owner is not None and owner[0] == socket.gethostname() and owner[1] != os.getpid():
        lifeline.watch(owner[1])

    def load() -> Optimizee:
        optimizee = pickle.loads(payload)
        if isolate:
            return Isolated(optimizee)
        clean_launcher_environment()
        return optimizee

    _host = HostedOptimizee(token, load, timeout, isolate, start_method)


atexit.register(_release)


class _Aborted(Exception):
    """The coordinator is closing: the chunk being evaluated is no longer wanted."""


_running = False


def _abort(signum: int, frame: object) -> None:
    """SIGUSR1 from the coordinator: drop the chunk in progress (its evaluation child is
    stopped when the rank closes); between chunks there is nothing to drop."""
    if _running:
        raise _Aborted("the coordinator stopped the run")


def run_chunk(token: str, tasks: Sequence[Task]) -> list[Evaluation]:
    """Evaluate ``tasks`` on this rank; outcomes in task order."""
    global _running
    if _host is None or _host.token != token:
        raise ExecutorError(f"MPI worker {worker_name()} was not prepared for this run")
    _running = True
    try:
        return _host.run(tasks, "MPI worker")
    finally:
        _running = False
