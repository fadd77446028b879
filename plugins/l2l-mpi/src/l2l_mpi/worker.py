"""Code that runs on the MPI worker ranks.

The pool's initializer prepares each rank once per run (identified by a token) as a
:class:`l2l.executors.hosted.HostedOptimizee`: by default evaluations run in a supervised child
process whose launcher environment is cleaned before the optimizee is loaded
(:class:`~l2l_mpi.isolation.Isolated`), so crashes and timeouts are contained and simulators
built without MPI start normally.
"""

from __future__ import annotations

import atexit
import pickle
from typing import Sequence

from l2l import Evaluation, ExecutorError, Optimizee, Task
from l2l.executor import worker_name
from l2l.executors.hosted import HostedOptimizee

from .environment import clean_launcher_environment
from .isolation import Isolated

_host: HostedOptimizee | None = None


def _release() -> None:
    global _host
    if _host is not None:
        _host.close()
        _host = None


def init_worker(token: str, payload: bytes, timeout: float | None, isolate: bool,
                start_method: str) -> None:
    """Pool initializer: set the optimizee up for run ``token`` on this rank."""
    global _host
    _release()

    def load() -> Optimizee:
        optimizee = pickle.loads(payload)
        if isolate:
            return Isolated(optimizee)
        clean_launcher_environment()
        return optimizee

    _host = HostedOptimizee(token, load, timeout, isolate, start_method)


atexit.register(_release)


def run_chunk(token: str, tasks: Sequence[Task]) -> list[Evaluation]:
    """Evaluate ``tasks`` on this rank; outcomes in task order."""
    if _host is None or _host.token != token:
        raise ExecutorError(f"MPI worker {worker_name()} was not prepared for this run")
    return _host.run(tasks, "MPI worker")
