"""Code that runs in the Dask worker processes.

Each worker prepares itself on its first chunk of a run (identified by a token) as a
:class:`l2l.executors.hosted.HostedOptimizee`: by default evaluations run in a supervised child
process, so a crash or a timeout kills only that child (recorded as a failed evaluation with its
reason) and a fresh child takes over.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from typing import Sequence

from l2l import Evaluation, Task
from l2l.executors.hosted import HostedOptimizee

_lock = threading.Lock()
_host: HostedOptimizee | None = None


def release(token: str | None = None) -> None:
    """Stop this worker's evaluation child (of run ``token``, or whatever run it serves)."""
    global _host
    with _lock:
        if _host is not None and (token is None or _host.token == token):
            _host.close()
            _host = None


def _prepare(token: str, payload: bytes, timeout: float | None, isolate: bool,
             start_method: str) -> HostedOptimizee:
    global _host
    if _host is not None and _host.token == token:
        return _host
    if _host is not None:
        _host.close()
    if isolate:
        # Dask starts its worker processes as daemons, which Python forbids to have
        # children; the evaluation child exits by itself when this worker goes away.
        multiprocessing.current_process()._config["daemon"] = False  # type: ignore[attr-defined]
    _host = HostedOptimizee(token, lambda: pickle.loads(payload), timeout, isolate, start_method)
    return _host


def run_chunk(token: str, payload: bytes, tasks: Sequence[Task], timeout: float | None,
              isolate: bool, start_method: str) -> list[Evaluation]:
    """Evaluate ``tasks`` on this worker; outcomes in task order."""
    with _lock:
        host = _prepare(token, payload, timeout, isolate, start_method)
    return host.run(tasks, "dask worker")
