"""Worker processes that die with their coordinator and stay quiet when the terminal signals.

Every process that l2l starts to evaluate in (a ``process`` executor's worker, the evaluation
child of an MPI rank or of a Dask worker, the Dask workers of a local cluster, spawned MPI
ranks) calls :func:`bind_to` first, with the pid of the process that owns it:

* SIGINT, SIGTERM and SIGHUP are ignored: a Ctrl-C at the terminal (sent to the whole
  process group) or a batch scheduler's SIGTERM reaches the coordinator, which marks the run
  interrupted and closes its workers; the workers print nothing;
* a daemon thread waits for the owner to exit (``pidfd_open``, else polling) and then ends
  this process at once, so that a ``kill -9`` of the coordinator leaves no worker behind;
* on Linux the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) is set
  when the parent is a process that dies with the owner (the owner's main thread, or the
  forkserver, which exits when the owner does): it also ends a worker stuck in compiled code
  that holds the GIL, where the watching thread cannot run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
QUIET = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def bind_to(owner: int, parent_dies_with_owner: bool = False,
            signals: tuple[int, ...] = QUIET) -> None:
    """Make this process ignore ``signals`` (the terminal's and the scheduler's) and die when
    ``owner`` exits.

    ``parent_dies_with_owner``: this process's parent is the owner's main thread or a
    forkserver of the owner's, so the kernel's parent-death signal may be used too.
    """
    quiet_signals(signals)
    if parent_dies_with_owner:
        die_with_parent()
    watch(owner)


def quiet_signals(signals: tuple[int, ...] = QUIET) -> None:
    """Ignore ``signals`` (default SIGINT, SIGTERM and SIGHUP; only possible in the main
    thread)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in signals:
        signal.signal(sig, signal.SIG_IGN)


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent exits (Linux); True if set."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent or parent == 1:  # the parent died before the call
        os._exit(1)
    return True


def release_forkserver() -> None:
    """In a child of multiprocessing's forkserver: drop the child's copy of the forkserver's
    keep-alive pipe, so that the forkserver exits as soon as the owner does (and, with it, this
    child through :func:`die_with_parent`). A later forkserver use in this child starts its own."""
    from multiprocessing import forkserver

    server = forkserver._forkserver  # type: ignore[attr-defined]
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None and getattr(server, "_forkserver_pid", None) is None:
        try:
            os.close(fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None  # type: ignore[attr-defined]


#: seconds a process may still take to end by itself after its owner exited (an owner that
#: exits normally has just asked it to stop) before it is ended
GRACE = 3.0


def watch(owner: int, interval: float = 0.5, grace: float = GRACE) -> threading.Thread:
    """Start a daemon thread that ends this process ``grace`` seconds after process ``owner``
    exits (unless it has ended by itself by then)."""
    thread = threading.Thread(target=_watch, args=(owner, interval, grace), name="l2l-lifeline",
                              daemon=True)
    thread.start()
    return thread


def _watch(owner: int, interval: float, grace: float) -> None:
    fd = None
    if hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(owner)
        except OSError:  # gone already, or no permission: fall back to polling
            fd = None
    if fd is not None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll():
            pass
    else:
        while alive(owner):
            time.sleep(interval)
    time.sleep(grace)
    os._exit(1)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this host) and is not a zombie."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False
        except OSError:
            pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
