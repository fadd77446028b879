"""Kill -9 in the middle of a generation, resume, and get the uninterrupted run's results."""

from __future__ import annotations

import pytest

from fault_harness import evaluation_rows, l2l

from l2l import Experiment, Store, build

EXPERIMENT = 'name = "resumable"\nseed = 7\ngenerations = 12'


rows = evaluation_rows


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_kill_9_mid_generation_then_resume_equals_uninterrupted(tmp_path, executor,
                                                               function_config, killed_mid_run):
    config = function_config(EXPERIMENT, executor)
    reference = str(tmp_path / "reference.db")
    assert l2l("run", str(config), "--store", reference).returncode == 0

    killed = str(tmp_path / "killed.db")
    # into the generation after the 4th (each takes ~0.2 s)
    done = killed_mid_run(config, killed, 4, settle=0.1)
    assert 4 <= done < 12, "the kill must land mid-run"
    with Store(killed, readonly=True) as store:
        record = store.run(1)
        assert record.status == "failed" and "that wrote it is gone" in record.error  # dead lease
        assert record.generations == done  # nothing half-written

    res = l2l("resume", "1", "--store", killed)
    assert res.returncode == 0, res.stderr
    assert "finished" in res.stdout
    assert rows(killed, 1) == rows(reference, 1)
    with Store(killed) as store:
        assert store.run(1).status == "finished" and store.run(1).evaluations == 120


def test_resume_through_the_python_api_continues_bit_identically(tmp_store):
    def parts():
        return (build("optimizee", "function", function="ackley", dimension=3),
                build("optimizer", "ga", population=6))

    full = Experiment(*parts(), generations=8, seed=4).run()
    first = Experiment(*parts(), store=tmp_store, generations=3, seed=4, name="part")
    first.config["experiment"]["generations"] = 8
    first.run()
    with Store(tmp_store) as store:
        resumed = Experiment.resume(store, "part").run()
    assert resumed.history == full.history
    assert resumed.best_fitness == full.best_fitness


def test_resuming_a_finished_run_is_refused(tmp_path, function_config):
    config = function_config(EXPERIMENT, cost=0.0)
    db = str(tmp_path / "r.db")
    assert l2l("run", str(config), "--store", db).returncode == 0
    res = l2l("resume", "1", "--store", db)
    assert res.returncode == 2 and "already finished" in res.stderr
