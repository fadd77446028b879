"""Code that runs in the Dask worker processes.

Each worker prepares itself on its first chunk of a run (identified by a token): with
``isolate`` (the default) it starts a one-process :class:`l2l.executors.process.ProcessExecutor`
whose child sets the optimizee up once and evaluates; a crash or a timeout kills only that child
(recorded as a failed evaluation with its reason) and a fresh child takes over. Without
``isolate`` the worker evaluates itself (:func:`l2l.executor.prepared`). A setup error is kept
and raised for every chunk of that run.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from typing import Any, Sequence

from l2l import Evaluation, ExecutorError, Task, run_tasks
from l2l.executor import prepared, worker_name
from l2l.executors.process import ProcessExecutor

_lock = threading.Lock()
_state: dict[str, Any] = {}


def release(token: str | None = None) -> None:
    """Stop this worker's evaluation child (of run ``token``, or whatever run it serves)."""
    with _lock:
        if token is None or _state.get("token") == token:
            supervisor = _state.pop("supervisor", None)
            _state.clear()
            if supervisor is not None:
                supervisor.close()


def _prepare(token: str, payload: bytes, timeout: float | None, isolate: bool,
             start_method: str) -> dict[str, Any]:
    if _state.get("token") == token:
        return _state
    supervisor = _state.pop("supervisor", None)
    if supervisor is not None:
        supervisor.close()
    _state.clear()
    _state["token"] = token
    try:
        optimizee = pickle.loads(payload)
        if isolate:
            # Dask starts its worker processes as daemons, which Python forbids to have
            # children; the evaluation child exits by itself when this worker goes away.
            multiprocessing.current_process()._config["daemon"] = False  # type: ignore[attr-defined]
            supervisor = ProcessExecutor(workers=1, timeout=timeout, start_method=start_method)
            supervisor.start(optimizee)
            _state["supervisor"] = supervisor
        else:
            _state["optimizee"] = prepared(token, optimizee)
    except BaseException as exc:  # noqa: BLE001 - raised with every chunk of this run
        _state["error"] = f"{type(exc).__name__}: {exc}"
    return _state


def run_chunk(token: str, payload: bytes, tasks: Sequence[Task], timeout: float | None,
              isolate: bool, start_method: str) -> list[Evaluation]:
    """Evaluate ``tasks`` on this worker; outcomes in task order."""
    with _lock:
        state = _prepare(token, payload, timeout, isolate, start_method)
    if "error" in state:
        raise ExecutorError(f"optimizee setup failed on dask worker {worker_name()}: "
                            f"{state['error']}")
    if "supervisor" in state:
        return state["supervisor"].submit(tasks).result()
    return run_tasks(state["optimizee"], tasks)
