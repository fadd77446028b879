"""The fault-injection suite's harness (tests/faults).

Every command a test starts runs in a subprocess (its own session, like a job on a terminal)
with ``L2L_FAULTS_TOKEN`` set to a value unique to the test, and with ``TMPDIR`` pointing to a
directory of the test: after the test, no process anywhere may still carry the token (workers,
forkservers, resource trackers, process managers, MPI ranks, Dask workers: every descendant
inherits it, even when it is re-parented), and nothing may be left in that TMPDIR.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


TOKEN = "L2L_FAULTS_TOKEN"


def answer_ctrl_c() -> None:
    """Let SIGINT raise KeyboardInterrupt in this process and the commands it starts, as on a
    terminal. A shell starts a background job of a script (and ``nohup`` starts its command)
    with SIGINT ignored, every process it starts inherits that, and l2l rightly leaves an
    ignored SIGINT ignored: the tests that stand in for a user's Ctrl-C would then test nothing
    and fail. Called by the conftests of the suites that have such tests."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def tagged(token: str) -> list:
    """Live processes (psutil) whose environment carries ``token``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(TOKEN) == token:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def lines(self) -> list[str]:
        """stderr without the plain progress lines (``generation N/M: ...``) and blank lines."""
        return [x for x in self.stderr.splitlines() if x.strip() and not x.startswith("generation ")]


class Harness:
    """Runs l2l commands for one test, in a session of their own, tagged with its token."""

    def __init__(self, root: Path):
        self.root = root
        self.token = uuid.uuid4().hex
        # short: multiprocessing puts its AF_UNIX sockets there (at most 107 bytes of path)
        self.tmp = Path(tempfile.mkdtemp(prefix="l2lf-"))
        self.env = {**os.environ, TOKEN: self.token, "TMPDIR": str(self.tmp),
                    "PYTHONFAULTHANDLER": "1", "L2L_SENTINEL_GRACE": "3"}
        self.env.pop("PYTEST_CURRENT_TEST", None)
        #: prefixes of names a test accepts in its TMPDIR afterwards
        self.allow_tmp: tuple[str, ...] = ()

    def start(self, *args: object, script: str | None = None) -> subprocess.Popen:
        """``python -m l2l ARGS`` (or ``python -c SCRIPT ARGS``) in a new session."""
        head = [sys.executable, "-c", script] if script else [sys.executable, "-m", "l2l"]
        return self.start_command([*head, *map(str, args)])

    def start_command(self, argv: list[str]) -> subprocess.Popen:
        """Any command, in a new session, with the test's environment."""
        return subprocess.Popen(argv, cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def run(self, *args: object, timeout: float = 180, script: str | None = None) -> Result:
        t0 = time.monotonic()
        proc = self.start(*args, script=script)
        out, err = finish(proc, timeout)
        return Result(proc.returncode, out, err, time.monotonic() - t0)

    def signal_when(self, proc: subprocess.Popen, store: Path, sig: int, *, generations: int = 0,
                    group: bool = True, delay: float = 0.0, timeout: float = 180) -> Result:
        """Send ``sig`` once ``store`` holds a run with ``generations`` committed generations
        (0: once the run exists), ``delay`` s later; to the process group (a terminal's
        Ctrl-C) or to the coordinator only (``kill``). Returns when the command has ended."""
        t0 = time.monotonic()
        while committed(store) < generations or not run_exists(store):
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                out, err = finish(proc, 5)
                raise AssertionError(f"the run ended or stalled before the signal: {err[-2000:]}")
            time.sleep(0.02)
        time.sleep(delay)
        try:
            (os.killpg if group else os.kill)(proc.pid, sig)
        except ProcessLookupError:
            pass
        out, err = finish(proc, timeout)
        return Result(proc.returncode, out, err, time.monotonic() - t0)

    def config(self, name: str = "exp", *, optimizee: str = 'name = "probe"', executor: str = "serial",
               executor_keys: str = "", generations: int = 6, population: int = 8,
               seed: int = 11) -> Path:
        path = self.root / f"{name}.toml"
        path.write_text(experiment_toml(f'name = "{name}"\nseed = {seed}\ngenerations = {generations}',
                                        optimizee, population, executor, executor_keys))
        return path

    def leftovers(self, within: float = 20.0) -> list[str]:
        """Processes of this test still alive ``within`` s from now (they may be exiting)."""
        deadline = time.monotonic() + within
        while True:
            left = tagged(self.token)
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        out = []
        for p in left:
            try:
                out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
            except Exception:  # noqa: BLE001 - psutil.Error: it has just ended
                continue
        return out

    def kill_leftovers(self) -> None:
        for p in tagged(self.token):
            try:
                p.kill()
            except Exception:  # noqa: BLE001 - psutil.Error: it has just ended
                pass

    def tmp_files(self) -> list[str]:
        """What is left in the test's TMPDIR (names a test allowed aside); removes it."""
        files = sorted(p.name for p in self.tmp.iterdir()
                       if not p.name.startswith(self.allow_tmp or ("\0",)))
        shutil.rmtree(self.tmp, ignore_errors=True)
        return files


def experiment_toml(experiment: str, optimizee: str, population: int, executor: str,
                    executor_keys: str = "") -> str:
    """An experiment file: the ``[experiment]`` and ``[optimizee]`` lines given, the ``ga``
    with ``population``, and ``executor`` with its ``executor_keys`` lines."""
    return f"""
[experiment]
{experiment}
[optimizee]
{optimizee}
[optimizer]
name = "ga"
population = {population}
[executor]
name = "{executor}"
{executor_keys}
"""


def finish(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """Wait for ``proc``; on timeout dump its threads (faulthandler), kill its session, fail."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.kill(proc.pid, signal.SIGABRT)
            time.sleep(1)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        raise AssertionError(f"command did not end within {timeout} s: {err[-3000:]}") from None


def committed(store: Path) -> int:
    """Committed generations in ``store`` (0 while it cannot be read)."""
    return _count(store, "checkpoints")


def run_exists(store: Path) -> bool:
    return _count(store, "runs") > 0


def _count(store: Path, table: str) -> int:
    try:
        con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def evaluations(store: Path, run: int = 1) -> list[tuple]:
    """What must be identical between an interrupted-and-resumed and an uninterrupted run."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return con.execute("SELECT generation, idx, seed, params, status, fitness, loss FROM evaluations"
                           " WHERE run_id = ? ORDER BY generation, idx", (run,)).fetchall()
    finally:
        con.close()


def status(store: Path, run: int = 1) -> tuple[str, str | None]:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return con.execute("SELECT status, error FROM runs WHERE id = ?", (run,)).fetchone()
    finally:
        con.close()


def l2l(*args: object, **kw) -> subprocess.CompletedProcess:
    """``python -m l2l ARGS`` with its output captured as text."""
    return subprocess.run([sys.executable, "-m", "l2l", *map(str, args)], capture_output=True,
                          text=True, **kw)


def evaluation_rows(db: str, run_id: int,
                    columns: str = "generation, idx, params, fitness, status") -> list[tuple]:
    """The ``columns`` of a run's evaluations, in (generation, idx) order."""
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT {columns} FROM evaluations WHERE run_id = ?"
                           " ORDER BY generation, idx", (run_id,)).fetchall()
    finally:
        con.close()
