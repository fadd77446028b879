"""The worker ranks of a run as processes on this machine (Linux, /proc): to check what they
listen on and to tell them to drop an interrupted chunk."""

from __future__ import annotations

import os
import signal
from pathlib import Path

#: the signal that makes a worker rank abandon the chunk it is evaluating (see worker.py)
ABORT = signal.SIGUSR1


def _table() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process."""
    out = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            out[int(entry.name)] = (ppid, (entry / "cmdline").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    return out


def descendants(pid: int) -> list[int]:
    """Processes below ``pid``."""
    table = _table()
    found: list[int] = []
    frontier = {pid}
    while frontier:
        frontier = {p for p, (pp, _) in table.items() if pp in frontier}
        found += sorted(frontier)
    return found


def local_ranks(launched: bool) -> list[int]:
    """The worker ranks on this machine: spawned, the ``mpi4py.futures`` servers below this
    process; launched, the other ``mpi4py.futures`` processes of this process's launcher."""
    table = _table()
    me = os.getpid()
    if launched:
        parent = table.get(me, (0, b""))[0]
        return sorted(p for p, (pp, cmd) in table.items()
                      if pp == parent and p != me and b"mpi4py.futures" in cmd)
    below = set(descendants(me))
    return sorted(p for p in below if b"mpi4py.futures.server" in table.get(p, (0, b""))[1])


def abort(pids: list[int]) -> None:
    """Tell worker ranks to abandon their chunks (they stay up for the pool's shutdown)."""
    for pid in pids:
        try:
            os.kill(pid, ABORT)
        except OSError:
            pass
