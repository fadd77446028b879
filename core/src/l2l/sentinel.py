"""The sentinel of an ``l2l run``/``l2l resume`` that evaluates in its own process.

The ``serial`` executor runs evaluations in the coordinating process, so an evaluation that
segfaults, calls ``os._exit()``, is killed (SIGKILL, the out-of-memory killer) or hangs inside
compiled code with signals blocked takes the whole run down, and nothing of that process is
left to say so. The CLI therefore starts this small watcher (standard library only, run by path
so that it starts in milliseconds) next to such a run. It holds the read end of a pipe whose
write end only the coordinator has:

* ``done`` on the pipe: the coordinator ended normally (or handled its interruption): exit;
* end of file without ``done``: the coordinator died abruptly: mark its run ``failed`` with
  the reason (the run the coordinator's lease names) and print one line that suggests
  ``--executor process``;
* SIGINT/SIGTERM/SIGHUP (the terminal's Ctrl-C reaches the whole process group): wait
  ``grace`` seconds for the coordinator to end; if it is still running and has not marked its
  run interrupted, it is stuck in compiled code: kill it (SIGKILL) and report as above.

Usage (by the CLI, which starts it with those signals blocked, so that none is lost while it
starts): ``python -I -S sentinel.py STORE PID FD GRACE``.
"""

from __future__ import annotations

import signal
import time

_signalled: list[float] = []
WATCHED = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


def _note(signum: int, frame: object) -> None:
    if not _signalled:
        _signalled.append(time.monotonic())


for _sig in WATCHED:  # first of all: a Ctrl-C now must not end the sentinel
    signal.signal(_sig, _note)
signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)

import os  # noqa: E402
import select  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402


def main(argv: list[str]) -> int:
    store, pid, fd, grace = argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    received = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            received += chunk
            if b"done" in received:
                return 0
            continue
        if _signalled and time.monotonic() - _signalled[0] > grace and _stuck(store, pid):
            os.kill(pid, signal.SIGKILL)
            _report(store, pid, f"did not return to Python within {grace:g} s of the signal "
                                f"(an evaluation stuck in compiled code?) and was killed")
            return 1
    _report(store, pid, _how_it_died(pid))
    return 1


def _stuck(store: str, pid: int) -> bool:
    """The coordinator still runs and its run is still marked running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    run = _run_of(store, pid)
    return run is None or run[1] == "running"


def _run_of(store: str, pid: int) -> tuple[int, str] | None:
    """The run whose lease process ``pid`` (on this host) holds, and its status."""
    try:
        db = sqlite3.connect(store, timeout=30)
        try:
            row = db.execute("SELECT l.run_id, r.status FROM leases l JOIN runs r ON r.id = l.run_id"
                             " WHERE l.pid = ? AND l.host = ?", (pid, socket.gethostname())).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return None if row is None else (int(row[0]), str(row[1]))


def _how_it_died(pid: int) -> str:
    """From the zombie's /proc entry when it is still there (exit_code, field 52)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            code = int(f.read().rsplit(")", 1)[1].split()[49])
    except (OSError, IndexError, ValueError):
        return "died abruptly"
    if code & 0x7F:
        sig = code & 0x7F
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"was killed by {name}"
    return f"exited with status {code >> 8} from inside an evaluation"


def _report(store: str, pid: int, how: str) -> None:
    run = _run_of(store, pid)
    where = f"run {run[0]}" if run else "the run"
    reason = (f"its process {pid} {how} while evaluating with the serial executor, which runs "
              f"evaluations in that process and cannot survive a segfault, os._exit(), SIGKILL "
              f"or a hang in compiled code")
    if run is not None and run[1] == "running":
        try:
            db = sqlite3.connect(store, timeout=30, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("UPDATE runs SET status = 'failed', ended = ?, error = ? WHERE id = ?"
                           " AND status = 'running'", (time.time(), reason, run[0]))
                db.execute("DELETE FROM leases WHERE run_id = ? AND pid = ?", (run[0], pid))
                db.execute("COMMIT")
            finally:
                db.close()
        except sqlite3.Error:
            pass
    resume = (f"continue it with 'l2l resume {run[0]} --store {store} --executor process'"
              if run else "use --executor process")
    print(f"\nl2l: error: {where} failed: {reason}; {resume}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
