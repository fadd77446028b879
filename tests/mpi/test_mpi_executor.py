"""The mpi executor: same runs as serial/process, failure semantics, per-worker setup, NEST
under a launcher, the mpiexec launch path, and no processes left behind."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from l2l import (ConfigError, Experiment, SetupError, Store, Task, build,
                 experiment_from_config, load_config)
from l2l_mpi import MPIExecutor
from l2l_mpi.environment import wheel_tool
from core_parts import BadSetup, Trouble
from executor_checks import (TROUBLE_XS, alive, assert_gone, assert_submit_keeps_task_order,
                             assert_trouble_outcomes, run_fitnesses, worker_pid)
from mpi_parts import TinyNest, launcher_variables

HERE = Path(__file__).resolve().parent


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return {p for p in found if alive(p)}


def _mpi_processes() -> set[int]:
    """Worker ranks still running (the singleton's mpiexec lives as long as this process)."""
    out = set()
    for pid in _descendants(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"mpi4py.futures.server" in cmd:
            out.add(pid)
    return out


def test_mpi_gives_the_same_run_as_serial_and_process():
    serial = run_fitnesses(build("executor", "serial"))
    assert run_fitnesses(build("executor", "process", workers=2)) == serial
    assert run_fitnesses(MPIExecutor(workers=2, timeout=30.0)) == serial
    assert run_fitnesses(MPIExecutor(workers=2, isolate=False, chunk=1)) == serial
    assert_gone(set(), others=_mpi_processes)


def test_crash_timeout_raise_and_nan_become_failures_and_runs_finish(tmp_path):
    optimizee = Trouble(crash_below=0.1, hang_below=0.2, raise_below=0.3, nan_below=0.4,
                        marker_dir=str(tmp_path))
    xs = TROUBLE_XS
    ex = MPIExecutor(workers=2, timeout=1.0, chunk=4)
    t0 = time.monotonic()
    ex.start(optimizee)
    try:
        out = {t.index: ev for t, ev in ex.map([Task(i, {"x": x}, i) for i, x in enumerate(xs)])}
        assert_trouble_outcomes(out)
        assert not any(out[i].ok for i in range(4)) and not out[7].ok
        children = {worker_pid(ev.worker) for ev in out.values()}
        assert_submit_keeps_task_order(ex)
    finally:
        ex.close()
    assert time.monotonic() - t0 < 30
    # each replaced child (two crashes, one timeout) set the optimizee up once, like the others
    markers = list(tmp_path.iterdir())
    assert all(m.read_text() == "setup\n" for m in markers)
    assert {int(m.name.split("-")[1]) for m in markers} >= children
    assert_gone(children | {int(m.name.split("-")[1]) for m in markers}, others=_mpi_processes)

    exp = Experiment(optimizee, build("optimizer", "ga", population=8),
                     MPIExecutor(workers=2, timeout=1.0), seed=0, generations=2)
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 16
    failed = [i.evaluation for i in exp.store.individuals(result.run_id) if not i.evaluation.ok]
    assert failed and all(ev.error for ev in failed)


@pytest.mark.parametrize("isolate", [True, False])
def test_setup_runs_once_per_worker(tmp_path, isolate):
    exp = Experiment(Trouble(marker_dir=str(tmp_path)), build("optimizer", "ga", population=16),
                     MPIExecutor(workers=2, isolate=isolate), seed=1, generations=3)
    result = exp.run()
    assert result.evaluations == 48
    markers = {int(m.name.split("-")[1]): m.read_text() for m in tmp_path.iterdir()}
    assert len(markers) == 2 and set(markers.values()) == {"setup\n"}
    workers = {worker_pid(i.evaluation.worker) for i in exp.store.individuals(result.run_id)}
    assert workers == set(markers)
    assert_gone(workers, others=_mpi_processes)


def test_nest_runs_in_workers_of_an_mpi_job():
    pytest.importorskip("nest")
    ex = MPIExecutor(workers=2)
    ex.start(Trouble())
    try:
        # the worker ranks do carry the launcher's variables that make NEST's wheel exit ...
        assert any(v.startswith(("PMI_RANK", "PMIX_RANK", "MPI_LOCALNRANKS"))
                   for v in ex._pool.submit(launcher_variables).result())
    finally:
        ex.close()
    # ... and still NEST simulates in them
    exp = Experiment(TinyNest(sim_ms=100.0), build("optimizer", "ga", population=4),
                     MPIExecutor(workers=2, timeout=60.0), seed=2, generations=2)
    result = exp.run()
    evaluations = [i.evaluation for i in exp.store.individuals(result.run_id)]
    assert result.status == "finished" and len(evaluations) == 8
    assert all(ev.ok for ev in evaluations), [ev.error for ev in evaluations]
    assert len({ev.fitness for ev in evaluations}) > 1  # the weight changes the rate


def test_launched_with_mpiexec_rank0_coordinates(tmp_path):
    # on one node, on loopback: the wheel's gforker (no TCP port) and MPICH's netmod on lo
    mpiexec = wheel_tool("mpiexec.gforker")
    assert mpiexec is not None, "the mpich wheel provides mpiexec.gforker in the environment's bin"
    config = HERE.parents[1] / "plugins" / "l2l-mpi" / "examples" / "sphere-mpi.toml"
    db = tmp_path / "runs.db"
    env = {**os.environ, "PATH": f"{mpiexec.parent}{os.pathsep}{os.environ['PATH']}",
           "UCX_NET_DEVICES": "lo"}
    proc = subprocess.run([str(mpiexec), "-n", "3", sys.executable, "-m", "mpi4py.futures",
                           "-m", "l2l", "run", str(config), "--executor", "mpi", "--store", str(db),
                           "--generations", "2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with sqlite3.connect(db) as con:
        workers = {w for (w,) in con.execute("SELECT DISTINCT worker FROM evaluations")}
        assert con.execute("SELECT status FROM runs").fetchall() == [("finished",)]
    assert len(workers) == 2  # one evaluation child per worker rank (ranks 1 and 2)
    with Store(str(db)) as store:
        launched = [i.evaluation.fitness for i in store.individuals(1)]
    config = load_config(config)
    config["experiment"]["generations"] = 2
    config["executor"] = {"name": "serial"}
    exp = experiment_from_config(config)
    result = exp.run()
    assert launched == [i.evaluation.fitness for i in exp.store.individuals(result.run_id)]
    assert_gone(set(), others=_mpi_processes)


def test_spawn_mode_finds_the_wheels_mpiexec_without_path(tmp_path):
    # a plain `l2l run` from a shell where the venv is not activated: MPICH's singleton init
    # execs `mpiexec` from PATH, so the executor must put the wheel's bin/ there itself
    script = ("from l2l import Experiment, build\n"
              "exp = Experiment(build('optimizee', 'function'),"
              " build('optimizer', 'ga', population=4),"
              " build('executor', 'mpi', workers=2), generations=1)\n"
              "print(exp.run().status)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "HYDRA_"))}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("finished"), proc.stderr


def test_setup_failure_is_a_clear_error():
    exp = Experiment(BadSetup(), build("optimizer", "ga", population=4),
                     MPIExecutor(workers=1), generations=1)
    with pytest.raises(SetupError, match="optimizee BadSetup .*no simulator here"):
        exp.run()
    # the run failed: no failed evaluations recorded, not "finished"
    assert exp.store.run(exp.run_id).status == "failed"
    assert list(exp.store.individuals(exp.run_id)) == []
    assert_gone(set(), others=_mpi_processes)


@pytest.mark.parametrize("kwargs, message", [
    ({"workers": 0}, "workers must be at least 1"),
    ({"timeout": -1.0}, "timeout must be positive"),
    ({"timeout": 5.0, "isolate": False}, "timeout needs isolate"),
    ({"chunk": 0}, "chunk must be at least 1"),
    ({"start_method": "thread"}, "unknown start_method"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MPIExecutor(**kwargs).start(Trouble())


def test_registered_as_mpi():
    assert isinstance(build("executor", "mpi", workers=2), MPIExecutor)
