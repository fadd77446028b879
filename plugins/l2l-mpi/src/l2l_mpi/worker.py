"""Code that runs on the MPI worker ranks.

The pool's initializer prepares each worker once per run (identified by a token): with
``isolate`` (the default) it starts a one-process :class:`l2l.executors.process.ProcessExecutor`
whose child sets the optimizee up once and evaluates; the child is killed and replaced when an
evaluation crashes it or exceeds the timeout, and that evaluation is recorded as failed. Without
``isolate`` the worker rank evaluates itself (:func:`l2l.executor.prepared`), with no timeout
and no crash containment. Setup errors are kept and reported by the first chunk.
"""

from __future__ import annotations

import atexit
import pickle
from typing import Any, Sequence

from l2l import Evaluation, ExecutorError, Task, run_tasks
from l2l.executor import prepared, worker_name
from l2l.executors.process import ProcessExecutor

from .environment import clean_launcher_environment
from .isolation import Isolated

_state: dict[str, Any] = {}


def _release() -> None:
    supervisor = _state.pop("supervisor", None)
    if supervisor is not None:
        supervisor.close()


def init_worker(token: str, payload: bytes, timeout: float | None, isolate: bool,
                start_method: str) -> None:
    """Pool initializer: set the optimizee up for run ``token`` on this rank."""
    _release()
    _state.clear()
    _state["token"] = token
    try:
        optimizee = pickle.loads(payload)
        if isolate:
            supervisor = ProcessExecutor(workers=1, timeout=timeout, start_method=start_method)
            supervisor.start(Isolated(optimizee))
            _state["supervisor"] = supervisor
        else:
            clean_launcher_environment()
            _state["optimizee"] = prepared(token, optimizee)
    except BaseException as exc:  # noqa: BLE001 - reported with the first chunk
        _state["error"] = f"{type(exc).__name__}: {exc}"


atexit.register(_release)


def run_chunk(token: str, tasks: Sequence[Task]) -> list[Evaluation]:
    """Evaluate ``tasks`` on this rank; outcomes in task order."""
    if _state.get("token") != token:
        raise ExecutorError(f"MPI worker {worker_name()} was not prepared for this run")
    if "error" in _state:
        raise ExecutorError(f"optimizee setup failed on MPI worker {worker_name()}: "
                            f"{_state['error']}")
    if "supervisor" in _state:
        return _state["supervisor"].submit(tasks).result()
    return run_tasks(_state["optimizee"], tasks)
