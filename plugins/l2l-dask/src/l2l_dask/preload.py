"""Preload of the local cluster's Dask workers (``preload=["l2l_dask.preload"]``).

Runs in each worker process as it starts: the worker ignores the terminal's signals (a Ctrl-C
reaches the l2l coordinator, which closes the cluster; the workers print nothing) and dies
with the coordinator, its parent, even after a ``kill -9`` of it (:func:`l2l.lifeline.bind_to`).
SIGTERM keeps its meaning: the nanny stops and restarts workers with it.
"""

from __future__ import annotations

import os
import signal

from l2l import lifeline


def dask_setup(worker: object) -> None:
    lifeline.bind_to(os.getppid(), parent_dies_with_owner=True,
                     signals=(signal.SIGINT, signal.SIGHUP))
