"""Preload of the local cluster's Dask workers (``preload=["l2l_dask.preload"]``).

Runs in each worker process as it starts: the worker ignores the terminal's signals (a Ctrl-C
reaches the l2l coordinator, which closes the cluster; the workers print nothing) and dies
with the coordinator, its parent, even after a ``kill -9`` of it (:func:`l2l.lifeline.bind_to`).
SIGTERM keeps its meaning: the nanny stops and restarts workers with it. The worker does not
log a heartbeat that failed because the scheduler went away (:func:`quiet_shutdown_race`).
"""

from __future__ import annotations

import logging
import os
import signal

from l2l import lifeline


#: what distributed's worker logs, with a traceback, when a heartbeat finds the scheduler gone
HEARTBEAT_FAILED = "Failed to communicate with scheduler during heartbeat."


def _not_heartbeat_failure(record: logging.LogRecord) -> bool:
    return record.msg != HEARTBEAT_FAILED


def quiet_shutdown_race() -> None:
    """Drop the worker's heartbeat-failure log. The scheduler of l2l's local cluster lives in the
    coordinator and goes away only when the run closes the cluster (or the coordinator dies, and
    the lifeline ends the worker): a heartbeat in flight at that moment fails and distributed
    logs it as an error with a traceback, which is never the user's concern. Other errors are
    logged as before."""
    logger = logging.getLogger("distributed.worker")
    if _not_heartbeat_failure not in logger.filters:
        logger.addFilter(_not_heartbeat_failure)


def dask_setup(worker: object) -> None:
    quiet_shutdown_race()
    lifeline.bind_to(os.getppid(), parent_dies_with_owner=True,
                     signals=(signal.SIGINT, signal.SIGHUP))
