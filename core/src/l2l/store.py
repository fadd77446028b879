"""The results store: one SQLite file, written only by the coordinating process.

Tables: ``runs`` (config, seed, versions, status, times), ``evaluations`` (one row per
evaluation, failures included), ``repeats`` (for each row that scores an earlier candidate
again, a repeat or a re-evaluation: that candidate's first row), ``checkpoints`` (optimizer
and loop state after each generation), and ``validation_rounds``/``validations`` (what
``l2l validate`` measured: fresh-seed and held-out scores of a run's best candidates).
A candidate's scores are its first row and every row whose ``repeats`` entry names it; a
run's best is the candidate with the lowest mean loss over all its scores, none failed.
Stores written before the ``repeats`` table existed read as one row per candidate.
A generation's evaluations and its checkpoint are committed in one transaction, so a
killed run loses at most the generation in flight. An asynchronous run (``mode = "async"``)
commits every few completions instead: the evaluations completed since the last commit,
their ``completions`` rows (the order in which they were told to the optimizer, when each was
submitted and when it finished) and the checkpoint (optimizer state, the loop's state with
the candidates still in flight), in one transaction; its checkpoints are numbered by commit.
Values are JSON (arrays through :mod:`l2l.serialize`); nothing is pickled.

The file carries a marker (SQLite's ``application_id``) and a schema version (``user_version``):
a file that is not an l2l store is refused before anything is written to it, and stores written
before the marker existed are recognised by their tables and upgraded when opened for writing.
Reading (``Store(path, readonly=True)``) works on read-only files in read-only directories and
never creates a file. A run being written holds a *lease* (``leases``: process id, host,
heartbeat): a second writer of that run is refused while the lease is alive, and a run whose
lease died (its process was killed) reads as ``failed`` with the reason until it is resumed.
The loop's history (best mean loss after each generation) is a column of ``checkpoints``, so a
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
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import quote

from . import lifeline, serialize
from .errors import StoreError
from .evaluation import Evaluation, Individual, Objectives
from .noise import Candidate, summarize

DEFAULT_STORE = "l2l-runs.db"

#: SQLite ``application_id`` of an l2l store ("L2L1")
APPLICATION_ID = 0x4C324C31
#: schema version (``user_version``): 1 = stores written before the marker existed (no leases,
#: history inside each checkpoint), 2 = marker, ``leases``, ``checkpoints.best_loss``,
#: 3 = ``repeats``, ``validation_rounds``, ``validations``, 4 = ``completions`` (async runs)
SCHEMA_VERSION = 4
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
CREATE TABLE IF NOT EXISTS repeats (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    generation INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    of_generation INTEGER NOT NULL,
    of_idx INTEGER NOT NULL,
    PRIMARY KEY (run_id, generation, idx)
);
CREATE INDEX IF NOT EXISTS repeats_of ON repeats (run_id, of_generation, of_idx);
CREATE TABLE IF NOT EXISTS validation_rounds (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    round INTEGER NOT NULL,
    created REAL NOT NULL,
    settings TEXT NOT NULL,
    PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS validations (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    round INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    score TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    fitness TEXT NOT NULL,
    loss REAL,
    info TEXT NOT NULL,
    error TEXT,
    wall_time REAL NOT NULL,
    PRIMARY KEY (run_id, round, generation, idx, score, repeat)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    generation INTEGER NOT NULL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    best_loss REAL,
    PRIMARY KEY (run_id, generation)
);
CREATE TABLE IF NOT EXISTS completions (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    ask INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    submitted REAL NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (run_id, position)
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


@dataclass(frozen=True)
class Completion:
    """One told evaluation of an async run: its place in the completion order, its ask number
    (and so its ``(generation, idx)`` row), and when it was submitted and finished (epoch s)."""

    position: int
    ask: int
    generation: int
    idx: int
    submitted: float
    finished: float

    def __iter__(self) -> Iterator[Any]:
        return iter((self.position, self.ask, self.generation, self.idx, self.submitted,
                     self.finished))


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
                          best_loss: float | None = None,
                          completions: Sequence[Completion] = ()) -> None:
        """Write a generation's evaluations and the checkpoint after it (with ``best_loss``,
        the loop's best loss so far: the run's history), atomically. An async run passes
        commit numbers as ``generation`` and the ``completions`` of the evaluations."""
        rows = [_row(run_id, ind, objectives) for ind in individuals]
        state_text = serialize.dumps(state)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._check_lease(run_id)
            self.db.executemany(
                "INSERT INTO evaluations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._insert_repeats(run_id, individuals)
            if completions:
                self.db.executemany("INSERT INTO completions VALUES (?,?,?,?,?,?,?)",
                                    [(run_id, *c) for c in completions])
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
        gens, n = self.db.execute(
            "SELECT COUNT(DISTINCT generation), COUNT(*) FROM evaluations"
            " WHERE run_id = ?", (run_id,)).fetchone()
        config = serialize.loads(row[4])
        status, error = row[2], row[10]
        if status == "running":
            reason = self.dead_writer(run_id, row[8], config)
            if reason is not None:
                status, error = "failed", reason
        top = self.top_candidates(run_id, 1)
        best = top[0][2] if top else None
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

    def last_checkpoint(self, run_id: int) -> tuple[int, dict[str, Any]] | None:
        row = self.db.execute("SELECT generation, state FROM checkpoints WHERE run_id = ?"
                              " ORDER BY generation DESC LIMIT 1", (run_id,)).fetchone()
        return None if row is None else (int(row[0]), serialize.loads(row[1]))

    def completions(self, run_id: int) -> list[Completion]:
        """An async run's committed completions in the order they were told (empty for a
        generational run or a store without the table)."""
        if not self._has_table("completions"):
            return []
        return [Completion(*r) for r in self.db.execute(
            "SELECT position, ask, generation, idx, submitted, finished FROM completions"
            " WHERE run_id = ? ORDER BY position", (run_id,))]

    def individuals(self, run_id: int, generation: int | None = None) -> Iterator[Individual]:
        """Evaluations of a run (optionally one generation), in order; a repeat or a
        re-evaluation has ``repeat_of`` set to its candidate's first row."""
        where, args = "e.run_id = ?", (run_id,)
        if generation is not None:
            where, args = where + " AND e.generation = ?", (run_id, generation)  # type: ignore[assignment]
        yield from self._individuals(where, args)

    def _individuals(self, where: str, args: tuple[Any, ...]) -> Iterator[Individual]:
        cols = ("e.generation, e.idx, e.seed, e.params, e.status, e.fitness, e.observation,"
                " e.info, e.error, e.wall_time, e.worker")
        if self._has_table("repeats"):
            sql = (f"SELECT {cols}, r.of_generation, r.of_idx FROM evaluations e"
                   f" LEFT JOIN repeats r {_JOIN} WHERE {where}")
        else:
            sql = f"SELECT {cols}, NULL, NULL FROM evaluations e WHERE {where}"
        for r in self.db.execute(sql + " ORDER BY e.generation, e.idx", args):
            ev = Evaluation(tuple(json.loads(r[5])),
                            None if r[6] is None else serialize.loads(r[6]),
                            serialize.loads(r[7]), r[4], r[8], r[9], r[10])
            yield Individual(r[0], r[1], serialize.loads(r[3]), r[2], ev,
                             None if r[11] is None else (int(r[11]), int(r[12])))

    def best(self, run_id: int, generation: int | None = None) -> Individual | None:
        """The first row of the best candidate (lowest mean loss over all its scores, none
        failed; ties: the earliest), optionally among the candidates first evaluated in
        ``generation``. :meth:`best_candidate` gives its mean, standard error and scores."""
        cand = self.best_candidate(run_id, generation)
        return None if cand is None else cand.rows[0]

    # -- candidates: all the scores of one parameter set ----------------------------------
    def _has_table(self, name: str) -> bool:
        row = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (name,)).fetchone()
        return row is not None

    def _insert_repeats(self, run_id: int, individuals: Sequence[Individual]) -> None:
        rows = [(run_id, ind.generation, ind.index, *ind.repeat_of)
                for ind in individuals if ind.repeat_of is not None]
        if rows:
            self.db.executemany("INSERT INTO repeats VALUES (?,?,?,?,?)", rows)

    def _has_repeats(self, run_id: int) -> bool:
        return self._has_table("repeats") and self.db.execute(
            "SELECT 1 FROM repeats WHERE run_id = ? LIMIT 1", (run_id,)).fetchone() is not None

    def _objectives(self, run_id: int) -> Objectives:
        row = self.db.execute("SELECT objectives FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id} in {self.path}")
        return Objectives.from_json(json.loads(row[0]))

    def candidate_means(self, run_id: int, generation: int | None = None,
                        limit: int | None = None) -> list[tuple[int, int, float]]:
        """``(generation, index, mean loss)`` of the candidates without a failed score, best
        first (ties: the earliest), optionally only those first evaluated in ``generation``
        and at most ``limit`` of them. Means are SQLite's; :meth:`candidate` computes the
        exact summary of one."""
        if self._has_repeats(run_id):
            sql = (f"SELECT {_CAND_G} AS g, {_CAND_I} AS i, AVG(e.loss) AS m FROM evaluations e"
                   f" LEFT JOIN repeats r {_JOIN} WHERE e.run_id = ?"
                   " GROUP BY g, i HAVING SUM(e.status != 'ok') = 0")
            sql += " AND g = ?" if generation is not None else ""
        else:  # one row per candidate (also every store written before repeats existed)
            sql = ("SELECT generation AS g, idx AS i, loss AS m FROM evaluations"
                   " WHERE run_id = ? AND status = 'ok'")
            sql += " AND generation = ?" if generation is not None else ""
        args: tuple[Any, ...] = (run_id,) if generation is None else (run_id, generation)
        sql += " ORDER BY m, g, i"
        if limit is not None:
            sql, args = sql + " LIMIT ?", args + (int(limit),)
        return [(int(g), int(i), float(m)) for g, i, m in self.db.execute(sql, args)]

    def top_candidates(self, run_id: int, n: int) -> list[tuple[int, int, float]]:
        """The ``n`` best candidates by mean loss: :meth:`candidate_means` limited to ``n``."""
        return self.candidate_means(run_id, limit=n) if n > 0 else []

    def candidate(self, run_id: int, generation: int, index: int,
                  objectives: Objectives | None = None) -> Candidate | None:
        """The summary (mean ± SE per objective, count, failures, rows) of the candidate
        whose first row is ``(generation, index)``; None when there is no such row."""
        where = "e.run_id = ? AND e.generation = ? AND e.idx = ?"
        args: tuple[Any, ...] = (run_id, generation, index)
        if self._has_table("repeats"):
            where = ("e.run_id = ? AND ((e.generation = ? AND e.idx = ?)"
                     " OR (r.of_generation = ? AND r.of_idx = ?))")
            args += (generation, index)
        rows = list(self._individuals(where, args))
        if not rows or rows[0].repeat_of is not None:
            return None
        return summarize(rows, objectives or self._objectives(run_id))

    def best_candidate(self, run_id: int, generation: int | None = None) -> Candidate | None:
        """The candidate with the lowest mean loss over all its scores, none failed (ties:
        the earliest), optionally among those first evaluated in ``generation``."""
        objectives = self._objectives(run_id)
        top = self.candidate_means(run_id, generation, limit=RERANK)
        cands = [c for c in (self.candidate(run_id, g, i, objectives) for g, i, _ in top)
                 if c is not None]
        return min(cands, key=lambda c: (c.loss, c.generation, c.index), default=None)

    def best_per_generation(self, run_id: int) -> dict[int, tuple[int, int]]:
        """For each generation, the key of the best candidate first evaluated in it."""
        out: dict[int, tuple[int, int]] = {}
        for g, i, _ in self.candidate_means(run_id):
            out.setdefault(g, (g, i))
        return out

    def best_history(self, run_id: int) -> list[float | None]:
        """The best mean loss so far after each generation (None before any success), as
        the loop tracks it: every candidate's mean over its scores up to that generation,
        candidates with a failed score left out."""
        repeats = self._has_table("repeats")
        sql = ("SELECT e.generation, e.idx, e.status, e.loss, "
               + (f"r.of_generation, r.of_idx FROM evaluations e LEFT JOIN repeats r {_JOIN}"
                  if repeats else "NULL, NULL FROM evaluations e")
               + " WHERE e.run_id = ? ORDER BY e.generation, e.idx")
        return best_so_far(self.db.execute(sql, (run_id,)))

    # -- validations -----------------------------------------------------------------------
    def add_validation(self, run_id: int, settings: dict[str, Any],
                       rows: Sequence[tuple[int, int, str, int, int, Evaluation]],
                       objectives: Objectives) -> int:
        """Store one validation round: ``settings`` (JSON-able) and rows ``(generation,
        index, score name, repeat, seed, evaluation)``; returns the round's number."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            last = self.db.execute("SELECT MAX(round) FROM validation_rounds WHERE run_id = ?",
                                   (run_id,)).fetchone()[0]
            number = 1 if last is None else int(last) + 1
            self.db.execute("INSERT INTO validation_rounds VALUES (?,?,?,?)",
                            (run_id, number, time.time(), serialize.dumps(settings)))
            self.db.executemany(
                "INSERT INTO validations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(run_id, number, g, i, score, rep, int(seed), ev.status,
                  json.dumps(list(ev.fitness)), objectives.loss(ev.fitness) if ev.ok else None,
                  serialize.dumps(ev.info), ev.error, float(ev.wall_time))
                 for g, i, score, rep, seed, ev in rows])
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        return number

    def validation_rounds(self, run_id: int) -> list[tuple[int, float, dict[str, Any]]]:
        """``(round, created, settings)`` of a run's validation rounds, oldest first."""
        if not self._has_table("validation_rounds"):
            return []
        return [(int(r), float(c), serialize.loads(s)) for r, c, s in self.db.execute(
            "SELECT round, created, settings FROM validation_rounds WHERE run_id = ?"
            " ORDER BY round", (run_id,))]

    def validation_scores(self, run_id: int, round_: int
                          ) -> list[tuple[int, int, str, int, int, Evaluation]]:
        """The rows of one validation round: ``(generation, index, score, repeat, seed,
        evaluation)``, in stored order."""
        out = []
        for g, i, score, rep, seed, status, fit, info, error, wall in self.db.execute(
                "SELECT generation, idx, score, repeat, seed, status, fitness, info, error,"
                " wall_time FROM validations WHERE run_id = ? AND round = ?"
                " ORDER BY generation, idx, score, repeat", (run_id, round_)):
            ev = Evaluation(tuple(json.loads(fit)), None, serialize.loads(info), status, error,
                            wall)
            out.append((int(g), int(i), str(score), int(rep), int(seed), ev))
        return out

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


#: joins an evaluation row ``e`` to its ``repeats`` entry ``r`` (if any)
_JOIN = "ON r.run_id = e.run_id AND r.generation = e.generation AND r.idx = e.idx"
#: the key of the candidate a row scores
_CAND_G, _CAND_I = "COALESCE(r.of_generation, e.generation)", "COALESCE(r.of_idx, e.idx)"
#: candidates ranked by SQLite's means whose exact means (numpy, as the loop computes them)
#: are compared to choose the best, so that near-ties resolve as in the loop
RERANK = 4


def best_so_far(rows: Iterable[tuple[int, int, str, float | None, int | None, int | None]]
                ) -> list[float | None]:
    """Best mean loss after each generation from rows ``(generation, index, status, loss,
    of_generation, of_index)`` in (generation, index) order."""
    import heapq

    import numpy as np

    losses: dict[tuple[int, int], list[float]] = {}
    failed: set[tuple[int, int]] = set()
    version: dict[tuple[int, int], int] = {}
    heap: list[tuple[float, int, int, int]] = []
    history: list[float | None] = []
    touched: set[tuple[int, int]] = set()

    def close_generation() -> None:
        for key in sorted(touched):
            version[key] = version.get(key, 0) + 1
            if key in losses and key not in failed:
                heapq.heappush(heap, (float(np.mean(losses[key])), *key, version[key]))
        touched.clear()
        while heap and (heap[0][3] != version[heap[0][1:3]] or heap[0][1:3] in failed):
            heapq.heappop(heap)
        history.append(heap[0][0] if heap else None)

    current = None
    for g, i, status, loss, og, oi in rows:
        if current is not None and g != current:
            close_generation()
        current = g
        key = (int(g), int(i)) if og is None or oi is None else (int(og), int(oi))
        if status == "ok":
            losses.setdefault(key, []).append(float(loss))  # type: ignore[arg-type]
        else:
            failed.add(key)
        touched.add(key)
    if current is not None:
        close_generation()
    return history


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
