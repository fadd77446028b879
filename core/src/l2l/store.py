"""The results store: one SQLite file, written only by the coordinating process.

Tables: ``runs`` (config, seed, versions, status, times), ``evaluations`` (one row per
evaluated candidate, failures included) and ``checkpoints`` (optimizer and loop state after
each generation). A generation's evaluations and its checkpoint are committed in one
transaction, so a killed run loses at most the generation in flight. Values are JSON (arrays
through :mod:`l2l.serialize`); nothing is pickled.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from . import serialize
from .errors import StoreError
from .evaluation import Evaluation, Individual, Objectives

DEFAULT_STORE = "l2l-runs.db"

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
    PRIMARY KEY (run_id, generation)
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
    """Access to one SQLite results file (``":memory:"`` for a throwaway store)."""

    def __init__(self, path: str | Path = DEFAULT_STORE):
        self.path = str(path)
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise StoreError(f"store directory {Path(self.path).parent} does not exist")
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                      check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None

    def close(self) -> None:
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
        ended = None if status == "running" else time.time()
        self.db.execute("UPDATE runs SET status = ?, ended = ?, error = ? WHERE id = ?",
                        (status, ended, error, run_id))

    def set_config(self, run_id: int, config: dict[str, Any]) -> None:
        """Replace a run's stored config (a resume records which plugin provided each part)."""
        self.db.execute("UPDATE runs SET config = ? WHERE id = ?", (serialize.dumps(config), run_id))

    def commit_generation(self, run_id: int, generation: int, individuals: Sequence[Individual],
                          objectives: Objectives, state: dict[str, Any]) -> None:
        """Write a generation's evaluations and the checkpoint after it, atomically."""
        rows = [_row(run_id, ind, objectives) for ind in individuals]
        state_text = serialize.dumps(state)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT INTO evaluations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self.db.execute("INSERT INTO checkpoints VALUES (?,?,?,?)",
                            (run_id, generation, state_text, time.time()))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------------------
    def resolve(self, ref: str | int) -> int:
        """A run id from an id or a run name (the newest run of that name)."""
        text = str(ref)
        if text.isdigit():
            row = self.db.execute("SELECT id FROM runs WHERE id = ?", (int(text),)).fetchone()
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
        run_id = self.resolve(ref)
        row = self.db.execute(
            "SELECT id, name, status, seed, config, versions, space, objectives, started, ended,"
            " error FROM runs WHERE id = ?", (run_id,)).fetchone()
        gens, n, best = self.db.execute(
            "SELECT COUNT(DISTINCT generation), COUNT(*), MIN(loss) FROM evaluations"
            " WHERE run_id = ?", (run_id,)).fetchone()
        return RunRecord(row[0], row[1], row[2], row[3], serialize.loads(row[4]),
                         json.loads(row[5]), json.loads(row[6]),
                         Objectives.from_json(json.loads(row[7])), row[8], row[9], row[10],
                         int(gens), int(n), best)

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
    return (run_id, ind.generation, ind.index, int(ind.seed), serialize.dumps(ind.params),
            ev.status, json.dumps(list(ev.fitness)),
            objectives.loss(ev.fitness) if ev.ok else None,
            None if ev.observation is None else serialize.dumps(ev.observation),
            serialize.dumps(ev.info), ev.error, float(ev.wall_time), ev.worker)
