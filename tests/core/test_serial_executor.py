"""The ``serial`` executor's timeout: a hanging evaluation is interrupted and recorded."""

from __future__ import annotations

import threading
import time

import pytest
from core_parts import BatchTrouble, Trouble, Unstorable
from l2l import ConfigError, Experiment, build
from l2l.executor import Task


def tasks(*xs: float) -> list[Task]:
    return [Task(i, {"x": x}, i) for i, x in enumerate(xs)]


def setups(marker_dir) -> int:
    return sum(len(p.read_text().splitlines()) for p in marker_dir.glob("setup-*"))


def test_a_hanging_evaluation_fails_with_the_reason_and_the_optimizee_is_set_up_again(tmp_path):
    ex = build("executor", "serial", timeout=0.5)
    ex.start(Trouble(hang_below=0.3, marker_dir=str(tmp_path)))
    t0 = time.perf_counter()
    evs = ex.submit(tasks(0.1, 0.5, 0.9)).result()
    ex.close()
    assert time.perf_counter() - t0 < 10          # not the 60 s the evaluation sleeps
    assert [e.ok for e in evs] == [False, True, True]
    assert evs[0].error == "timeout: evaluation exceeded 0.5 s"
    assert evs[2].fitness == pytest.approx(((0.9 - 0.7) ** 2,))
    assert setups(tmp_path) == 2


def test_a_hanging_batch_is_rerun_one_by_one_and_only_the_culprit_fails(tmp_path):
    ex = build("executor", "serial", timeout=0.2)
    ex.start(BatchTrouble(hang_below=0.3, marker_dir=str(tmp_path)))
    t0 = time.perf_counter()
    evs = ex.submit(tasks(0.5, 0.1, 0.9)).result()
    assert time.perf_counter() - t0 < 10          # the batch's 0.6 s, then 0.2 s for the culprit
    assert [e.ok for e in evs] == [True, False, True]
    assert evs[1].error == "timeout: evaluation exceeded 0.2 s"
    assert setups(tmp_path) == 3                  # start, after the batch, after the culprit
    assert all(e.ok for e in ex.submit(tasks(0.5, 0.9)).result())   # usable afterwards
    ex.close()


def test_the_run_goes_on_and_records_the_timeouts(tmp_path):
    exp = Experiment(Trouble(hang_below=0.15), build("optimizer", "random", population=8),
                     executor=build("executor", "serial", timeout=0.3), seed=4, generations=2)
    res = exp.run()
    evs = [i.evaluation for i in exp.store.individuals(res.run_id)]
    failed = [e for e in evs if not e.ok]
    assert failed and all(e.error.startswith("timeout") for e in failed)
    assert res.status == "finished" and res.best_fitness is not None and len(evs) == 16


def test_timeout_errors():
    with pytest.raises(ConfigError, match="timeout must be positive"):
        build("executor", "serial", timeout=0).start(Trouble())
    errors = []

    def off_main():
        try:
            build("executor", "serial", timeout=1).start(Trouble())
        except ConfigError as exc:
            errors.append(str(exc))

    t = threading.Thread(target=off_main)
    t.start()
    t.join()
    assert errors and "main thread" in errors[0]


@pytest.mark.parametrize("batch", [False, True])
def test_unstorable_results_fail_only_their_evaluation(batch):
    ex = build("executor", "serial", batch=batch)
    ex.start(Unstorable())
    evs = ex.submit(tasks(0.1, 0.25, 0.35, 0.9)).result()
    ex.close()
    assert evs[0].error.startswith("info is not JSON-serialisable: TypeError")
    assert evs[1].error.startswith("unusable result 'not a number'")
    assert evs[2].error.startswith("SystemExit: 5")
    assert evs[3].ok and evs[3].fitness == pytest.approx(((0.9 - 0.7) ** 2,))


def test_a_run_with_unstorable_results_finishes():
    exp = Experiment(Unstorable(), build("optimizer", "random", population=10),
                     build("executor", "serial"), seed=1, generations=2)
    result = exp.run()
    failed = [i.evaluation.error for i in exp.store.individuals(result.run_id) if not i.evaluation.ok]
    assert result.status == "finished" and failed
