"""Kill -9 in the middle of a generation, resume, and get the uninterrupted run's results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from fault_harness import committed, evaluation_rows, l2l

from l2l import Experiment, Store, build

CONFIG = """
[experiment]
name = "resumable"
seed = 7
generations = 12
[optimizee]
name = "function"
function = "rastrigin"
dimension = 4
cost = {cost}
[optimizer]
name = "ga"
population = 10
[executor]
name = "{executor}"
{workers}
"""


def write(tmp_path, executor="serial", cost=0.02):
    path = tmp_path / f"exp-{executor}-{cost}.toml"
    path.write_text(CONFIG.format(cost=cost, executor=executor,
                                  workers="workers = 2" if executor == "process" else ""))
    return path


rows = evaluation_rows


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_kill_9_mid_generation_then_resume_equals_uninterrupted(tmp_path, executor):
    config = write(tmp_path, executor)
    reference = str(tmp_path / "reference.db")
    assert l2l("run", str(config), "--store", reference).returncode == 0

    killed = str(tmp_path / "killed.db")
    proc = subprocess.Popen([sys.executable, "-m", "l2l", "run", str(config), "--store", killed],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while committed(killed) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # into the next generation (each takes ~0.2 s)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = committed(killed)
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


def test_resuming_a_finished_run_is_refused(tmp_path):
    config = write(tmp_path, cost=0.0)
    db = str(tmp_path / "r.db")
    assert l2l("run", str(config), "--store", db).returncode == 0
    res = l2l("resume", "1", "--store", db)
    assert res.returncode == 2 and "already finished" in res.stderr
