"""The store: stores written before it carried a marker still open and resume; one writer per
run (the lease), a dead writer's run reads as failed with the reason, a writer that lost its
lease writes nothing more; the loop's history is stored once, so checkpoints do not grow."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from fault_harness import committed, evaluations, finish, status

from l2l import Experiment, Store, StoreError, build
from l2l.store import APPLICATION_ID, SCHEMA_VERSION

DATA = Path(__file__).parent / "data"


def test_a_store_written_before_the_marker_lists_and_resumes(harness):
    store = harness.root / "v1.sqlite"
    shutil.copy(DATA / "store-v1.sqlite", store)
    before = store.read_bytes()
    listing = harness.run("runs", "--store", store)
    assert listing.returncode == 0, listing.stderr
    assert "v1-finished  finished" in listing.stdout and "v1-killed    failed" in listing.stdout
    assert store.read_bytes() == before  # reading changed nothing
    shown = harness.run("show", "2", "--store", store)
    assert "its process ended without closing it (no lease)" in shown.stdout

    resumed = harness.run("resume", "2", "--store", store)
    assert resumed.returncode == 0, resumed.stderr
    assert "run 2 finished: 6 generations, 36 evaluations" in resumed.stdout
    con = sqlite3.connect(store)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()

    # the uninterrupted run of the same experiment, by this l2l, in a fresh store
    exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=3),
                     build("optimizer", "ga", population=6), build("executor", "serial"),
                     store=str(harness.root / "fresh.db"), generations=6, seed=5)
    full = exp.run()
    exp.store.close()
    assert evaluations(store, 2) == evaluations(harness.root / "fresh.db", 1)
    with Store(store, readonly=True) as s:
        assert s.best_history(2) == full.history  # recomputed from the evaluations


def test_a_second_writer_of_a_live_run_is_refused_and_the_run_is_unharmed(harness):
    config = harness.config(optimizee='name = "probe"\ncost = 0.1', executor="process",
                            executor_keys="workers = 2", generations=60, population=6)
    store = harness.root / "runs.db"
    live = harness.start("run", config, "--store", store)
    while committed(store) < 1:
        assert live.poll() is None, finish(live, 5)
        time.sleep(0.02)
    second = harness.run("resume", "1", "--store", store)
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    assert f"run 1 is being written by process {live.pid} on {socket.gethostname()}" in second.stderr
    other = harness.run("run", config, "--store", store, "--generations", "2")  # another run: fine
    assert other.returncode == 0, other.stderr
    out, err = finish(live, 180)
    assert live.returncode == 0, err
    assert status(store, 1)[0] == "finished" and status(store, 2)[0] == "finished"
    assert len(evaluations(store, 1)) == 360 and evaluations(store, 1)[:12] == evaluations(store, 2)


def _run_parts():
    return (build("optimizee", "function", function="sphere", dimension=2),
            build("optimizer", "ga", population=4))


def test_leases_of_other_hosts_go_stale_by_heartbeat(tmp_path, monkeypatch):
    path = str(tmp_path / "runs.db")
    exp = Experiment(*_run_parts(), store=path, generations=2, seed=1)
    exp.run()
    exp.store.close()
    with Store(path) as store:
        store.db.execute("UPDATE runs SET status = 'running' WHERE id = 1")
        store.db.execute("INSERT INTO leases VALUES (1, 'x', 'elsewhere', 4242, NULL, ?, ?)",
                         (time.time(), time.time()))
        assert store.run(1).status == "running"  # alive: it beat just now
        with pytest.raises(StoreError, match="being written by process 4242 on elsewhere"):
            store.acquire_lease(1)
        monkeypatch.setattr("l2l.store.LEASE_STALE", 0.0)
        record = store.run(1)
        assert record.status == "failed" and "process 4242 on elsewhere" in record.error
        store.acquire_lease(1)  # stale: taken over
        store.release_lease(1)


def test_a_writer_that_lost_its_lease_writes_nothing_more(tmp_path):
    path = str(tmp_path / "runs.db")
    exp = Experiment(*_run_parts(), store=path, generations=1, seed=1)
    exp.run()
    store = exp.store
    store.db.execute("UPDATE runs SET status = 'running' WHERE id = 1")
    store.acquire_lease(1)
    with Store(path) as thief:  # e.g. a resume that judged the lease stale
        thief.db.execute("UPDATE leases SET token = 'theirs' WHERE run_id = 1")
    with pytest.raises(StoreError, match="taken over by another process"):
        store.commit_generation(1, 1, [], exp.optimizee.objectives(), {"optimizer": {}, "loop": {}})
    store.set_status(1, "finished")
    assert status(Path(path)) == ("running", None)
    store.close()


def test_checkpoints_do_not_grow_with_the_number_of_generations(tmp_path):
    path = str(tmp_path / "runs.db")
    exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=5),
                     build("optimizer", "ga", population=20), store=path, generations=120, seed=2)
    result = exp.run()
    sizes = dict(exp.store.db.execute("SELECT generation, LENGTH(state) FROM checkpoints"))
    exp.store.close()
    assert max(sizes.values()) - min(sizes[g] for g in range(5, 120)) <= 16, sizes
    # the history is derivable and derived: one number per generation, from the store
    losses: dict[int, float] = {}
    con = sqlite3.connect(path)
    for g, loss in con.execute("SELECT generation, MIN(loss) FROM evaluations WHERE status = 'ok'"
                               " GROUP BY generation"):
        losses[g] = loss
    con.close()
    best, expected = None, []
    for g in range(120):
        best = losses[g] if best is None else min(best, losses[g])
        expected.append(best)
    assert result.history == expected
