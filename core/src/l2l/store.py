"""The results store: one SQLite file, written only by the coordinating process.

Tables: ``runs`` (config, seed, versions, status, times), ``evaluations`` (one row per
evaluated candidate, failures included) and ``checkpoints`` (optimizer and loop state after
each generation). A generation's evaluations and its checkpoint are committed in one
transaction, so a killed run loses at most the generation in flight. Values are JSON (arrays
through :mod:`l2l.serialize`); nothing is pickled.

The file carries a marker (SQLite's ``application_id``) and a schema version (``user_version``):
a file that is not an l2l store is refused before anything is written to it, and stores written
before the marker existed are recognised by their tables and upgraded when opened for writing.
Reading (``Store(path, readonly=True)``) works on read-only files in read-only directories and
never creates a file. A run being written holds a *lease* (``leases``: process id, host,
heartbeat): a second writer of that run is refused while the lease is alive, and a run whose
lease died (its process was killed) reads as ``failed`` with the reason until it is resumed.
The loop's history (best loss after each generation) is a column of ``checkpoints``, so a
checkpoint's size does not grow with the number of generations.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import quote

from . import lifeline, serialize
from .errors import StoreError
from .evaluation import Evaluation, Individual, Objectives

DEFAULT_STORE = "l2l-runs.db"

#: SQLite ``application_id`` of an l2l store ("L2L1")
APPLICATION_ID = 0x4C324C31
#: schema version (``user_version``): 1 = stores written before the marker existed (no leases,
#: history inside each checkpoint), 2 = marker, ``leases``, ``checkpoints.best_loss``
SCHEMA_VERSION = 2
#: seconds between heartbeats of a lease, and age after which a lease held on another host is stale
LEASE_HEARTBEAT = 10.0
LEASE_STALE = 120.0
#: the columns that make a version-1 store recognisable
_V1_COLUMNS = {"runs": {"id", "name", "status", "seed", "config", "versions", "space",
                        "objectives", "started", "ended", "error"},
               "evaluations": {"run_id", "generation", "idx", "seed", "params", "status",
                               "fitness", "loss", "observation", "info", "error", "wall_time",
                               "worker"},
               "checkpoints": {"run_id", "generation", "state", "created"}}
_MAX_ID = 2**63 - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config TEXT NOT NULL,
    versions TEXT NOT NULL,
    space TEXT NOT NULL,
    objectives TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS evaluations (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    generation INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    fitness TEXT NOT NULL,
    loss REAL,
    observation TEXT,
    info TEXT NOT NULL,
    error TEXT,
    wall_time REAL NOT NULL,
    worker TEXT NOT NULL,
    PRIMARY KEY (run_id, generation, idx)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    generation INTEGER NOT NULL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    best_loss REAL,
    PRIMARY KEY (run_id, generation)
);
CREATE TABLE IF NOT EXISTS leases (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    token TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_started TEXT,
    acquired REAL NOT NULL,
    heartbeat REAL NOT NULL
);
"""


@dataclass
class RunRecord:
    """A row of the ``runs`` table, decoded."""

    id: int
    name: str
    status: str
    seed: int
    config: dict[str, Any]
    versions: dict[str, str]
    space: list[dict[str, Any]]
    objectives: Objectives
    started: float
    ended: float | None
    error: str | None
    generations: int
    evaluations: int
    best_loss: float | None


class Store:
    """Access to one SQLite results file (``":memory:"`` for a throwaway store).

    ``readonly``: open an existing store for reading only (no file is created, nothing is
    written, read-only files and directories are fine).
    """

    def __init__(self, path: str | Path = DEFAULT_STORE, *, readonly: bool = False):
        self.path = str(path)
        self.readonly = readonly
        self._leases: dict[int, Lease] = {}
        self._legacy = False
        if not self.path:
            raise StoreError("the store path is empty")
        if self.path != ":memory:":
            _check_file(Path(self.path), readonly)
        try:
            self.db = self._connect()
            self._adopt()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        if not self.readonly:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            return db
        uri = f"file:{quote(str(Path(self.path).resolve()))}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # a WAL store in a read-only directory without its -shm file: nobody can be
            # writing it (a writer needs that file), so it can be read as immutable
            db.close()
            db = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None,
                                 check_same_thread=False)
        return db

    def _adopt(self) -> None:
        """Check that the file is an l2l store (or empty) before writing anything; create or
        upgrade the schema when writable."""
        app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        objects = self.db.execute("SELECT type, name FROM sqlite_master"
                                  " WHERE name NOT LIKE 'sqlite_%'").fetchall()
        tables = {name for kind, name in objects if kind == "table"}
        if app_id == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise StoreError(f"store {self.path} was written by a newer l2l (schema {version},"
                                 f" this l2l reads up to {SCHEMA_VERSION}); upgrade l2l-core")
            self._legacy = version < 2
        elif app_id == 0 and not objects:
            if self.readonly:
                raise StoreError(f"store {self.path} is empty (no l2l runs in it)")
        elif app_id == 0 and all(cols <= self._columns(t) for t, cols in _V1_COLUMNS.items()):
            self._legacy = True  # written before the marker existed
        else:
            what = f"tables {', '.join(sorted(tables))}" if tables else f"application id {app_id}"
            raise StoreError(f"{self.path} is not an l2l store (another application's SQLite "
                             f"database: {what}); nothing was written to it — choose another --store")
        if self.readonly:
            return
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if "best_loss" not in self._columns("checkpoints"):
                self.db.execute("ALTER TABLE checkpoints ADD COLUMN best_loss REAL")
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self._legacy = False

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        for lease in list(self._leases.values()):
            lease.stop()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def create_run(self, name: str, seed: int, config: dict[str, Any], versions: dict[str, str],
                   space: list[dict[str, Any]], objectives: Objectives) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (name, status, seed, config, versions, space, objectives, started)"
            " VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
            (name, int(seed), serialize.dumps(config), json.dumps(versions), json.dumps(space),
             json.dumps(objectives.to_json()), time.time()))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def set_status(self, run_id: int, status: str, error: str | None = None) -> None:
        """Set a run's status; a writer that lost its lease of the run writes nothing."""
        if run_id in self._leases and not self._leases[run_id].held():
            return
        ended = None if status == "running" else time.time()
        self.db.execute("UPDATE runs SET status = ?, ended = ?, error = ? WHERE id = ?",
                        (status, ended, error, run_id))

    def set_config(self, run_id: int, config: dict[str, Any]) -> None:
        """Replace a run's stored config (a resume records which plugin provided each part)."""
        self.db.execute("UPDATE runs SET config = ? WHERE id = ?", (serialize.dumps(config), run_id))

    def commit_generation(self, run_id: int, generation: int, individuals: Sequence[Individual],
                          objectives: Objectives, state: dict[str, Any],
                          best_loss: float | None = None) -> None:
        """Write a generation's evaluations and the checkpoint after it (with ``best_loss``,
        the loop's best loss so far: the run's history), atomically."""
        rows = [_row(run_id, ind, objectives) for ind in individuals]
        state_text = serialize.dumps(state)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._check_lease(run_id)
            self.db.executemany(
                "INSERT INTO evaluations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self.db.execute("INSERT INTO checkpoints (run_id, generation, state, created, best_loss)"
                            " VALUES (?,?,?,?,?)",
                            (run_id, generation, state_text, time.time(), best_loss))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    # -- leases ----------------------------------------------------------------------------
    def acquire_lease(self, run_id: int) -> Lease:
        """Become the one writer of run ``run_id`` (a heartbeat thread keeps the lease alive
        until :meth:`release_lease`); StoreError while another live process holds it."""
        if run_id in self._leases:
            return self._leases[run_id]
        lease = Lease(self, run_id)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute("SELECT host, pid, pid_started, heartbeat FROM leases"
                                  " WHERE run_id = ?", (run_id,)).fetchone()
            if row is not None:
                holder = LeaseHolder(*row)
                if holder.alive():
                    raise StoreError(f"run {run_id} is being written by {holder}; a run has one "
                                     f"writer at a time (stop that process first, or wait "
                                     f"for it to end)")
            self.db.execute("INSERT OR REPLACE INTO leases VALUES (?,?,?,?,?,?,?)",
                            (run_id, lease.token, lease.host, lease.pid, lease.pid_started,
                             time.time(), time.time()))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self._leases[run_id] = lease
        lease.start()
        return lease

    def release_lease(self, run_id: int) -> None:
        """Stop the heartbeat and give the lease of ``run_id`` up (if this store holds it)."""
        lease = self._leases.pop(run_id, None)
        if lease is None:
            return
        lease.stop()
        self.db.execute("DELETE FROM leases WHERE run_id = ? AND token = ?", (run_id, lease.token))

    def _check_lease(self, run_id: int) -> None:
        lease = self._leases.get(run_id)
        if lease is None:
            return
        row = self.db.execute("SELECT token FROM leases WHERE run_id = ?", (run_id,)).fetchone()
        if row is None or row[0] != lease.token:
            lease.lost = True
            raise StoreError(f"run {run_id} was taken over by another process (its lease "
                             f"went stale); this process stops writing it")

    # -- reading ---------------------------------------------------------------------------
    def resolve(self, ref: str | int) -> int:
        """A run id from an id or a run name (the newest run of that name)."""
        text = str(ref)
        if text.isdigit():
            number = int(text)
            row = None if number > _MAX_ID else self.db.execute(
                "SELECT id FROM runs WHERE id = ?", (number,)).fetchone()
        else:
            row = self.db.execute("SELECT id FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1",
                                  (text,)).fetchone()
        if row is None:
            raise StoreError(f"no run {text!r} in {self.path}")
        return int(row[0])

    def runs(self) -> list[RunRecord]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM runs ORDER BY id")]
        return [self.run(i) for i in ids]

    def run(self, ref: str | int) -> RunRecord:
        """A run's record. A run still marked ``running`` whose writer is gone (its lease is
        dead) reads as ``failed``, with the reason, until it is resumed."""
        run_id = self.resolve(ref)
        row = self.db.execute(
            "SELECT id, name, status, seed, config, versions, space, objectives, started, ended,"
            " error FROM runs WHERE id = ?", (run_id,)).fetchone()
        gens, n, best = self.db.execute(
            "SELECT COUNT(DISTINCT generation), COUNT(*), MIN(loss) FROM evaluations"
            " WHERE run_id = ?", (run_id,)).fetchone()
        config = serialize.loads(row[4])
        status, error = row[2], row[10]
        if status == "running":
            reason = self.dead_writer(run_id, row[8], config)
            if reason is not None:
                status, error = "failed", reason
        return RunRecord(row[0], row[1], status, row[3], config,
                         json.loads(row[5]), json.loads(row[6]),
                         Objectives.from_json(json.loads(row[7])), row[8], row[9], error,
                         int(gens), int(n), best)

    def dead_writer(self, run_id: int, started: float, config: dict[str, Any]) -> str | None:
        """Why run ``run_id`` (marked running) has no live writer, or None if it has one."""
        if run_id in self._leases:
            return None
        row = None
        if not self._legacy:
            row = self.db.execute("SELECT host, pid, pid_started, heartbeat FROM leases"
                                  " WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            if time.time() - started < LEASE_STALE:
                return None  # being set up right now
            reason = "its process ended without closing it (no lease)"
        else:
            holder = LeaseHolder(*row)
            if holder.alive():
                return None
            reason = f"the {holder} that wrote it is gone"
        if config.get("executor", {}).get("name") == "serial":
            reason += (" — the serial executor evaluates in that process, so a segfault, "
                       "os._exit() or SIGKILL during an evaluation ends the run; resume it "
                       "with --executor process")
        return reason

    def history(self, run_id: int) -> list[float | None]:
        """The best loss after each committed generation (None before the first success)."""
        return [r[0] for r in self.db.execute(
            "SELECT best_loss FROM checkpoints WHERE run_id = ? ORDER BY generation", (run_id,))] \
            if "best_loss" in self._columns("checkpoints") else []

    def last_checkpoint(self, run_id: int) -> tuple[int, dict[str, Any]] | None:
        row = self.db.execute("SELECT generation, state FROM checkpoints WHERE run_id = ?"
                              " ORDER BY generation DESC LIMIT 1", (run_id,)).fetchone()
        return None if row is None else (int(row[0]), serialize.loads(row[1]))

    def individuals(self, run_id: int, generation: int | None = None) -> Iterator[Individual]:
        """Evaluated candidates of a run (optionally one generation), in order."""
        sql = ("SELECT generation, idx, seed, params, status, fitness, observation, info, error,"
               " wall_time, worker FROM evaluations WHERE run_id = ?")
        args: tuple[Any, ...] = (run_id,)
        if generation is not None:
            sql += " AND generation = ?"
            args += (generation,)
        for r in self.db.execute(sql + " ORDER BY generation, idx", args):
            ev = Evaluation(tuple(json.loads(r[5])),
                            None if r[6] is None else serialize.loads(r[6]),
                            serialize.loads(r[7]), r[4], r[8], r[9], r[10])
            yield Individual(r[0], r[1], serialize.loads(r[3]), r[2], ev)

    def best(self, run_id: int, generation: int | None = None) -> Individual | None:
        """The successful individual with the lowest loss (ties: the earliest)."""
        sql = "SELECT generation, idx FROM evaluations WHERE run_id = ? AND status = 'ok'"
        args: tuple[Any, ...] = (run_id,)
        if generation is not None:
            sql += " AND generation = ?"
            args += (generation,)
        row = self.db.execute(sql + " ORDER BY loss, generation, idx LIMIT 1", args).fetchone()
        if row is None:
            return None
        return next(i for i in self.individuals(run_id, row[0]) if i.index == row[1])

    def generation_stats(self, run_id: int) -> list[dict[str, Any]]:
        """Per generation: count, failures, best/median/quartile losses, wall time."""
        import numpy as np

        out: list[dict[str, Any]] = []
        rows = self.db.execute("SELECT generation, status, loss, wall_time FROM evaluations"
                               " WHERE run_id = ? ORDER BY generation", (run_id,)).fetchall()
        by_gen: dict[int, list[tuple[str, float | None, float]]] = {}
        for g, status, loss, wall in rows:
            by_gen.setdefault(g, []).append((status, loss, wall))
        for g, items in by_gen.items():
            ok = np.array([loss for s, loss, _ in items if s == "ok"], dtype=float)
            q = np.percentile(ok, [0, 25, 50, 75, 100]) if ok.size else [np.nan] * 5
            out.append({"generation": g, "evaluations": len(items),
                        "failed": sum(s != "ok" for s, _, _ in items),
                        "best": float(q[0]), "q25": float(q[1]), "median": float(q[2]),
                        "q75": float(q[3]), "worst": float(q[4]),
                        "eval_time": float(sum(w for _, _, w in items))})
        return out


def _row(run_id: int, ind: Individual, objectives: Objectives) -> tuple[Any, ...]:
    ev = ind.evaluation
    try:
        info = serialize.dumps(ev.info)
    except (TypeError, ValueError) as exc:  # an executor that did not check it: fail it here
        ev = Evaluation.failed(f"info is not JSON-serialisable: {exc}", wall_time=ev.wall_time,
                               worker=ev.worker)
        info = serialize.dumps(ev.info)
    return (run_id, ind.generation, ind.index, int(ind.seed), serialize.dumps(ind.params),
            ev.status, json.dumps(list(ev.fitness)),
            objectives.loss(ev.fitness) if ev.ok else None,
            None if ev.observation is None else serialize.dumps(ev.observation),
            info, ev.error, float(ev.wall_time), ev.worker)


def _check_file(path: Path, readonly: bool) -> None:
    """Refuse, before SQLite touches it, a path that cannot be (or must not be) a store."""
    if path.is_dir():
        raise StoreError(f"store {path} is a directory")
    if not path.exists():
        if readonly:
            raise StoreError(f"store {path} does not exist")
        if not path.parent.is_dir():
            raise StoreError(f"store directory {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK):
            raise StoreError(f"cannot create store {path}: its directory is not writable")
        return
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror}") from None
    if head and head != b"SQLite format 3\x00":
        raise StoreError(f"{path} is not an l2l store (not an SQLite database); nothing was "
                         f"written to it — choose another --store")
    if not readonly:
        if not os.access(path, os.W_OK):
            raise StoreError(f"store {path} is read-only: runs need a writable store (reading "
                             f"commands such as 'l2l runs' work)")
        if not os.access(path.parent, os.W_OK):
            raise StoreError(f"store {path} is in a read-only directory: SQLite writes its "
                             f"journal next to the store")


def process_started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc; None if unknown): with
    the pid it names one process, even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@dataclass
class LeaseHolder:
    """The process that holds (or held) a run's lease."""

    host: str
    pid: int
    pid_started: str | None
    heartbeat: float

    def alive(self) -> bool:
        """On this host: its process still runs. Elsewhere: it beat within LEASE_STALE s."""
        if self.host == socket.gethostname():
            if not lifeline.alive(self.pid):
                return False
            now = process_started(self.pid)
            return self.pid_started is None or now is None or now == self.pid_started
        return time.time() - self.heartbeat < LEASE_STALE

    def __str__(self) -> str:
        return (f"process {self.pid} on {self.host} (last heartbeat "
                f"{max(0.0, time.time() - self.heartbeat):.0f} s ago)")


class Lease:
    """This process's lease of a run: a heartbeat thread with its own connection."""

    def __init__(self, store: Store, run_id: int):
        self.path, self.run_id = store.path, run_id
        self.token = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.pid_started = process_started(self.pid)
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.path == ":memory:":
            return
        self._thread = threading.Thread(target=self._beat, name=f"l2l-lease-{self.run_id}",
                                        daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while not self._stop.wait(LEASE_HEARTBEAT):
                try:
                    cur = db.execute("UPDATE leases SET heartbeat = ? WHERE run_id = ? AND token = ?",
                                     (time.time(), self.run_id, self.token))
                except sqlite3.Error:
                    continue
                if cur.rowcount == 0:
                    self.lost = True
                    return
        finally:
            db.close()

    def held(self) -> bool:
        return not self.lost

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
