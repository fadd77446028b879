"""Async mode: the loop without a generation barrier, its store commits, resume and replay."""

from __future__ import annotations

import time

import numpy as np
import pytest

from executor_checks import assert_async_trouble
from fault_harness import evaluation_rows, l2l

from l2l import ConfigError, Experiment, Noise, Store, build
from l2l.asynchronous import AsyncSettings, async_seed, async_stats, replay
from l2l.config import experiment_from_config
from l2l.experiment import Stop
from l2l.executors.process import ProcessExecutor

ASYNC_OPTIMIZERS = ["random", "ga", "cmaes", "sa", "pt", "gs"]


def experiment(optimizer="ga", executor=None, store=None, evaluations=40, seed=5, **kw):
    opt = build("optimizer", optimizer, **({"population": 6} if optimizer in ("ga", "sa", "pt", "random") else {}))
    return Experiment(build("optimizee", "function", function="rastrigin", dimension=3), opt,
                      executor, store, seed=seed, stop=Stop(max_evaluations=evaluations),
                      mode="async", **kw)


def table(store, run_id):
    return [(i.generation, i.index, i.seed, repr(i.params), i.evaluation.status,
             i.evaluation.fitness) for i in store.individuals(run_id)]


@pytest.mark.parametrize("optimizer", ASYNC_OPTIMIZERS)
def test_every_async_optimizer_spends_the_budget_and_is_deterministic_in_serial(optimizer):
    runs = []
    for _ in range(2):
        exp = experiment(optimizer)
        result = exp.run()
        assert result.status == "finished" and result.evaluations == 40
        runs.append(table(exp.store, result.run_id))
        # serial: evaluations complete in ask order; seeds depend on (run seed, ask) only
        order = [c.ask for c in exp.store.completions(result.run_id)]
        assert order == list(range(40))
        width = exp.store.last_checkpoint(result.run_id)[1]["loop"]["width"]
        assert [r[2] for r in runs[-1]] == [async_seed(5, g * width + i) for g, i, *_ in runs[-1]]
    assert runs[0] == runs[1]


def test_repeats_tell_the_aggregate_once_all_repeats_of_a_candidate_are_in():
    """repeats = 3 (noisy sphere): every candidate has 3 rows (the 2nd and 3rd name the 1st),
    their seeds are the async seeds of its 3 task numbers, and the optimizer is told one
    evaluation per candidate whose fitness is the mean of its 3; a budget of 40 spends 39."""
    told = []

    class Spy:
        def __init__(self):
            self.inner = build("optimizer", "random", population=6)

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def tell_one(self, ticket, params, ev):
            told.append((params, ev))
            self.inner.tell_one(ticket, params, ev)

    spy = Spy()
    type(spy).asynchronous = True
    exp = Experiment(build("optimizee", "function", function="sphere", dimension=2, noise=1.0),
                     spy, seed=3, stop=Stop(max_evaluations=40), mode="async",
                     noise=Noise(repeats=3))
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 39 and len(told) == 13
    width = exp.store.last_checkpoint(result.run_id)[1]["loop"]["width"]
    rows = sorted(exp.store.individuals(result.run_id), key=lambda r: r.generation * width + r.index)
    assert [r.seed for r in rows] == [async_seed(3, t) for t in range(39)]
    for c, (params, ev) in enumerate(told):
        mine = rows[3 * c:3 * c + 3]
        assert all(repr(r.params) == repr(params) for r in mine)
        assert [r.repeat_of for r in mine] == [None] + [divmod(3 * c, width)] * 2
        assert ev.fitness[0] == pytest.approx(np.mean([r.evaluation.fitness[0] for r in mine]))
        assert ev.info["repeats"]["count"] == 3
    assert result.best_count == 3


def test_async_optimizers_improve_on_random_start():
    """Each optimizer learns from what it is told: its best after 300 evaluations on the
    sphere is well below the best of its first 30 (random search excepted)."""
    for name in ("ga", "cmaes", "sa", "pt"):
        opt = build("optimizer", name, **({"population": 6} if name != "cmaes" else {}))
        exp = Experiment(build("optimizee", "function", function="sphere", dimension=4), opt,
                         seed=2, stop=Stop(max_evaluations=300), mode="async")
        result = exp.run()
        losses = [i.evaluation.fitness[0] for i in exp.store.individuals(result.run_id)]
        assert result.best_fitness[0] < min(losses[:30]) / 4, name


@pytest.mark.parametrize("prefetch", [0, 1, 2])
def test_process_executor_keeps_slots_times_one_plus_prefetch_in_flight(tmp_store, prefetch):
    exp = experiment("cmaes", ProcessExecutor(workers=2), tmp_store, evaluations=30,
                     asynchronous=AsyncSettings(prefetch=prefetch))
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 30
    with Store(tmp_store, readonly=True) as store:
        stats = async_stats(store, result.run_id)
        assert stats is not None and stats.slots == 2 and stats.evaluations == 30
        assert stats.in_flight_max == 2 * (1 + prefetch) and 0 < stats.utilisation <= 1.0 + 1e-9
        assert sorted(c.ask for c in store.completions(result.run_id)) == list(range(30))


def test_serial_executor_takes_no_prefetch():
    exp = experiment("random", None, None, evaluations=10, asynchronous=AsyncSettings(prefetch=3))
    result = exp.run()
    loop = exp.store.last_checkpoint(result.run_id)[1]["loop"]
    assert loop["width"] == 1 and loop["slots"] == 1


@pytest.mark.parametrize("first", [0.05, 0.15])  # a crash, a hang past the timeout
def test_chunks_queued_behind_a_dying_evaluation_run_on_the_fresh_worker(first):
    """One worker, prefetch 2: three one-task submissions wait in its pipe; the first kills
    (or hangs) it. That one fails with its reason, the two queued behind it are re-sent to
    the fresh worker and succeed."""
    from core_parts import Trouble

    from l2l import Task

    ex = ProcessExecutor(workers=1, timeout=1)
    ex.start(Trouble(crash_below=0.1, hang_below=0.2))
    try:
        assert ex.set_prefetch(2) == 2
        futures = [ex.submit([Task(i, {"x": x}, i)]) for i, x in enumerate([first, 0.5, 0.9])]
        (dead,), (second,), (third,) = (f.result(timeout=30) for f in futures)
    finally:
        ex.close()
    assert ("died (exit code 7)" if first < 0.1 else "timeout: evaluation exceeded 1 s") in dead.error
    assert second.ok and second.fitness == pytest.approx((0.04,))
    assert third.ok and third.fitness == pytest.approx((0.04,))
    assert second.worker == third.worker != dead.worker


def test_an_idle_worker_takes_a_chunk_queued_behind_a_slow_evaluation():
    """Two workers, prefetch 1: A (3 s) and B run, C waits in A's worker's pipe, D in B's.
    B's worker finishes B and D, falls idle and takes C, which therefore completes long before
    A, on B's worker, and exactly once."""
    from core_parts import Sleeper

    from l2l import Task

    ex = ProcessExecutor(workers=2, chunk=1)
    ex.start(Sleeper())
    try:
        ex.set_prefetch(1)
        tasks = [Task(i, {"x": x}, i) for i, x in enumerate([3.0, 0.05, 0.05, 0.05])]
        t0 = time.monotonic()
        out = [(task.index, ev, time.monotonic() - t0) for task, ev in ex.map(tasks)]
    finally:
        ex.close()
    assert [i for i, *_ in out] == [1, 3, 2, 0]
    evs = {i: ev for i, ev, _ in out}
    assert all(ev.ok for ev in evs.values())
    assert evs[2].worker == evs[1].worker == evs[3].worker != evs[0].worker
    assert out[2][2] < 1.5  # C did not wait for A


def test_repeats_never_exceed_in_flight(tmp_store):
    """repeats = 3 with in_flight = 4: a candidate's repeats that do not fit wait in the loop
    (at most 4 submitted at any time), and the run spends its budget as usual."""
    exp = experiment("random", ProcessExecutor(workers=2), tmp_store, evaluations=30,
                     noise=Noise(repeats=3), asynchronous=AsyncSettings(in_flight=4))
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 30
    with Store(tmp_store, readonly=True) as store:
        stats = async_stats(store, result.run_id)
        assert stats is not None and stats.in_flight_max == 4
        assert sorted(c.ask for c in store.completions(result.run_id)) == list(range(30))


def test_finish_cancel_does_not_wait_for_a_slow_evaluation_at_the_end(tmp_store):
    """Budget 20, in_flight 4, task 17 sleeps 60 s. With finish = "cancel" the run asks past
    the budget, ends at the 20th completion (task 17 cancelled, not stored) well before the
    sleep would end, and replays bit-identically."""
    from core_parts import SlowSeed

    from l2l import Plugins, builtins, hookimpl

    class Parts:
        @hookimpl
        def l2l_register_optimizees(self, registry):
            registry.add("slow-seed", SlowSeed)

    plugins = Plugins(discover=False)
    plugins.register(builtins, "l2l-core")
    plugins.register(Parts(), "parts")
    exp = Experiment(SlowSeed(slow_seed=async_seed(5, 17), seconds=60),
                     build("optimizer", "random", population=4), ProcessExecutor(workers=2),
                     tmp_store, seed=5, stop=Stop(max_evaluations=20), mode="async",
                     asynchronous=AsyncSettings(in_flight=4, finish="cancel"), plugins=plugins)
    t0 = time.monotonic()
    result = exp.run()
    assert time.monotonic() - t0 < 40
    assert result.status == "finished" and result.evaluations == 20
    order = [c.ask for c in exp.store.completions(result.run_id)]
    assert len(order) == 20 and 17 not in order and max(order) > 19
    assert len(list(exp.store.individuals(result.run_id))) == 20
    _, differences = replay(exp.store, result.run_id, plugins=plugins)
    assert differences == []


def test_failure_matrix_in_async_mode_on_the_process_executor():
    assert_async_trouble(ProcessExecutor(workers=2, timeout=1))


def test_commits_every_k_completions(tmp_store):
    exp = experiment("random", None, tmp_store, evaluations=20,
                     asynchronous=AsyncSettings(commit_every=5))
    exp.run()
    with Store(tmp_store, readonly=True) as store:
        checkpoints = store.db.execute("SELECT COUNT(*) FROM checkpoints WHERE run_id = 1")
        assert checkpoints.fetchone()[0] == 4  # 20 completions, a checkpoint per 5


@pytest.mark.parametrize("bad, message", [
    ({"optimizer": {"name": "ce"}}, "optimizer 'ce' does not support it (these do: "),
    ({"experiment": {"reevaluate": 1}}, "does not support reevaluate yet"),
    ({"experiment": {"repeats": 11}}, "max_evaluations (10) must be at least repeats (11)"),
    ({"experiment": {"max_evaluations": None}}, "needs max_evaluations"),
    ({"experiment": {"in_flight": 0}}, "in_flight must be an integer of at least 1"),
    ({"experiment": {"prefetch": -1}}, "prefetch must be an integer of at least 0"),
    ({"experiment": {"commit_every": 1.5}}, "commit_every must be an integer"),
    ({"experiment": {"commit_seconds": -1}}, "commit_seconds must be a positive number"),
    ({"experiment": {"finish": "abandon"}}, "finish = 'abandon' should be one of 'drain', 'cancel'"),
    ({"experiment": {"mode": "asap"}}, "mode = 'asap' should be one of"),
    ({"experiment": {"mode": "generational", "in_flight": 2}}, "in_flight need(s) mode = \"async\""),
])
def test_what_async_mode_cannot_run_is_a_config_error(bad, message):
    config = {"experiment": {"mode": "async", "max_evaluations": 10},
              "optimizee": {"name": "function", "function": "sphere", "dimension": 2},
              "optimizer": {"name": "ga"}, "executor": {"name": "serial"}}
    for part, values in bad.items():
        config[part] = {k: v for k, v in {**config[part], **values}.items() if v is not None} \
            if part == "experiment" else values
    with pytest.raises(ConfigError) as info:
        experiment_from_config(config)
    assert message in str(info.value) and "\n" not in str(info.value)
    if bad.get("optimizer"):
        assert "random" in str(info.value) and "cmaes" in str(info.value)


def write(function_config, executor, evaluations=60, cost=0.02, repeats=1):
    return function_config(f'name = "async-run"\nseed = 11\nmode = "async"\n'
                           f"max_evaluations = {evaluations}\nrepeats = {repeats}", executor,
                           workers=3, cost=cost, population=8, noise=0.5 if repeats > 1 else 0.0)


def rows(db, run_id):
    return evaluation_rows(db, run_id, "generation, idx, seed, params, fitness, status")


@pytest.mark.parametrize("executor, repeats", [("serial", 1), ("serial", 3), ("process", 1),
                                                ("process", 3)])
def test_kill_9_then_resume_then_replay_is_bit_identical(tmp_path, executor, repeats,
                                                         function_config, killed_mid_run):
    """A run killed mid-way, resumed and replayed (with repeats: noisy fitness, 3 seeds
    per candidate, the candidates' repeats split across the kill)."""
    config = write(function_config, executor, cost=0.05, repeats=repeats)
    killed = str(tmp_path / "killed.db")
    done = killed_mid_run(config, killed, 8)  # completions that arrive together: one commit
    before = rows(killed, 1)
    with Store(killed, readonly=True) as store:  # nothing half-written
        assert len(before) == len(store.completions(1)) >= done >= 8
        assert store.run(1).status != "finished" and len(before) < 60, "the kill must land mid-run"
    res = l2l("resume", "1", "--store", killed)
    assert res.returncode == 0, res.stderr
    assert "finished: 60 evaluations (async)" in res.stdout
    after = rows(killed, 1)
    assert len(after) == 60 and set(before) <= set(after)  # committed work kept as it was
    if executor == "serial":  # deterministic order: the same as an uninterrupted run
        reference = str(tmp_path / "reference.db")
        assert l2l("run", str(config), "--store", reference).returncode == 0
        assert rows(reference, 1) == after
    res = l2l("replay", "1", "--store", killed)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "identical to the record" in res.stdout
    assert [r[:-1] for r in rows(killed, 2)] == [r[:-1] for r in after]


def test_replay_reports_a_divergence(tmp_store):
    exp = experiment("ga", None, tmp_store, evaluations=20)
    exp.run()
    with Store(tmp_store) as store:  # tamper with the record: one fitness changed
        store.db.execute("UPDATE evaluations SET fitness = '[123.0]' WHERE generation = 1 AND idx = 0")
        result, differences = replay(store, 1)
    assert result.evaluations == 20
    assert differences and "fitness" in differences[0]


def test_replay_on_another_executor_keeps_the_record_numbering(tmp_store):
    """A run on 2 worker processes with prefetch (8 in flight) replays on the serial
    executor (1 slot, no prefetch) bit-identically: the replay takes the record's in_flight."""
    exp = experiment("ga", ProcessExecutor(workers=2), tmp_store, evaluations=24,
                     asynchronous=AsyncSettings(prefetch=3))
    exp.run()
    with Store(tmp_store) as store:
        assert store.last_checkpoint(1)[1]["loop"]["width"] == 8
        result, differences = replay(store, 1, executor=build("executor", "serial"))
    assert result.evaluations == 24 and differences == []


def test_replay_of_a_generational_run_is_refused(tmp_path):
    store = str(tmp_path / "g.db")
    Experiment(build("optimizee", "function", function="sphere", dimension=2),
               build("optimizer", "ga", population=4), store=store, generations=2).run()
    res = l2l("replay", "1", "--store", store)
    assert res.returncode == 2 and "not an async run" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_run_show_and_progress_state_the_async_facts(tmp_path, function_config):
    config = write(function_config, "process", evaluations=24, cost=0.01)
    store = str(tmp_path / "runs.db")
    res = l2l("run", str(config), "--store", store)
    assert res.returncode == 0, res.stderr
    assert "async: evaluations 24/24" in res.stderr and "in flight" in res.stderr
    assert "utilisation" in res.stderr
    assert "worker utilisation" in res.stdout and "3 slots" in res.stdout
    show = l2l("show", "1", "--store", store)
    assert show.returncode == 0
    assert "async: 24 evaluations" in show.stdout and "worker utilisation" in show.stdout


def test_a_store_of_schema_3_reads_and_upgrades(tmp_path):
    """Stores written before the completions table existed: read as they are, upgraded to
    schema 4 when opened for writing, and an async run can then be added to them."""
    import sqlite3

    db = str(tmp_path / "v3.db")
    Experiment(build("optimizee", "function", function="sphere", dimension=2),
               build("optimizer", "ga", population=4), store=db, generations=2).run()
    con = sqlite3.connect(db)
    con.execute("DROP TABLE completions")
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    with Store(db, readonly=True) as store:
        assert store.completions(1) == [] and async_stats(store, 1) is None
    assert l2l("show", "1", "--store", db).returncode == 0
    exp = experiment("random", None, db, evaluations=5)
    assert exp.run().evaluations == 5
    with Store(db, readonly=True) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == 4
        assert len(store.completions(2)) == 5
