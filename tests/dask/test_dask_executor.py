"""The dask executor: same runs as serial/process, failure semantics, worker loss, per-worker
setup, a local cluster and a running scheduler, and no processes left behind."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster
from l2l import ConfigError, Experiment, ExecutorError, SetupError, Task, build
from l2l_dask import DaskExecutor
from l2l_dask.executor import LOCAL_SCHEDULER
from core_parts import BadSetup, Trouble
from executor_checks import (TROUBLE_XS, alive, assert_gone, assert_submit_keeps_task_order,
                             assert_trouble_outcomes, run_fitnesses, worker_pid)

QUIET_HTTP = {"dashboard_address": "127.0.0.1:0"}  # no dashboard; HTTP endpoint on a free port


def _dask_workers() -> set[int]:
    """Live Dask worker processes started by this process (multiprocessing spawn children)."""
    out = set()
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit():
                continue
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if (ppid == os.getpid() and b"spawn_main" in (entry / "cmdline").read_bytes()
                    and alive(int(entry.name))):
                out.add(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError, ValueError):
            continue
    return out


@pytest.fixture(scope="module")
def scheduler():
    """A running two-worker cluster reached by address, as a remote one would be."""
    with dask.config.set(LOCAL_SCHEDULER):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR, scheduler_kwargs=QUIET_HTTP)
    with Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
    yield cluster.scheduler_address
    cluster.close()
    assert_gone(worker_pids)


def test_dask_gives_the_same_run_as_serial_and_process(scheduler):
    serial = run_fitnesses(build("executor", "serial"))
    assert run_fitnesses(build("executor", "process", workers=2)) == serial
    assert run_fitnesses(DaskExecutor(address=scheduler, timeout=30.0)) == serial
    assert run_fitnesses(DaskExecutor(address=scheduler, isolate=False, chunk=1)) == serial


def test_local_cluster_runs_and_leaves_nothing_behind(tmp_path):
    before = _dask_workers()
    exp = Experiment(Trouble(marker_dir=str(tmp_path)), build("optimizer", "ga", population=16),
                     DaskExecutor(workers=2), seed=1, generations=3)
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 48
    # one evaluation child per Dask worker, each set up once
    markers = {int(m.name.split("-")[1]): m.read_text() for m in tmp_path.iterdir()}
    assert len(markers) == 2 and set(markers.values()) == {"setup\n"}
    children = {worker_pid(i.evaluation.worker) for i in exp.store.individuals(result.run_id)}
    assert children == set(markers)
    assert_gone(children)
    deadline = time.monotonic() + 15
    while _dask_workers() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _dask_workers() - before, "the local cluster's workers are still running"


def test_crash_timeout_raise_and_nan_become_failures_and_runs_finish(scheduler, tmp_path):
    optimizee = Trouble(crash_below=0.1, hang_below=0.2, raise_below=0.3, nan_below=0.4,
                        marker_dir=str(tmp_path))
    xs = TROUBLE_XS
    ex = DaskExecutor(address=scheduler, timeout=1.0, chunk=4)
    t0 = time.monotonic()
    ex.start(optimizee)
    try:
        out = {t.index: ev for t, ev in ex.map([Task(i, {"x": x}, i) for i, x in enumerate(xs)])}
        assert_submit_keeps_task_order(ex)
    finally:
        ex.close()
    assert time.monotonic() - t0 < 30
    assert_trouble_outcomes(out)
    markers = list(tmp_path.iterdir())
    assert all(m.read_text() == "setup\n" for m in markers)
    # the cluster lives on, but this run's evaluation children are stopped at close()
    assert_gone({int(m.name.split("-")[1]) for m in markers})

    exp = Experiment(optimizee, build("optimizer", "ga", population=8),
                     DaskExecutor(address=scheduler, timeout=1.0), seed=0, generations=2)
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 16
    failed = [i.evaluation for i in exp.store.individuals(result.run_id) if not i.evaluation.ok]
    assert failed and all(ev.error for ev in failed)


def test_a_lost_worker_fails_only_its_evaluation():
    # without isolation the crash takes the Dask worker down: the executor splits the chunk
    # into single tasks, and only the culprit ends as failed; lost workers come back
    ex = DaskExecutor(workers=2, isolate=False, chunk=4)
    ex.start(Trouble(crash_below=0.1))
    try:
        xs = [0.5, 0.05, 0.6, 0.9, 0.8]
        out = {t.index: ev for t, ev in ex.map([Task(i, {"x": x}, i) for i, x in enumerate(xs)])}
        assert out[1].status == "failed" and out[1].error.startswith("dask worker lost")
        assert all(out[i].ok for i in (0, 2, 3, 4))
        again = list(ex.map([Task(i, {"x": 0.7}, i) for i in range(4)]))
        assert all(ev.ok for _, ev in again)
        ex._client.wait_for_workers(2, timeout=60)
        worker_pids = set(ex._client.run(os.getpid).values())
    finally:
        ex.close()
    assert_gone(worker_pids)


def test_a_cluster_without_workers_stops_the_run_instead_of_hanging():
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR, scheduler_kwargs=QUIET_HTTP) as empty:
        exp = Experiment(Trouble(), build("optimizer", "ga", population=4),
                         DaskExecutor(address=empty.scheduler_address, no_workers_timeout=2.0),
                         generations=1)
        t0 = time.monotonic()
        with pytest.raises(ExecutorError, match="no workers for 2 s"):
            exp.run()
        assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("isolate", [True, False])
def test_setup_runs_once_per_worker(scheduler, tmp_path, isolate):
    exp = Experiment(Trouble(marker_dir=str(tmp_path)), build("optimizer", "ga", population=16),
                     DaskExecutor(address=scheduler, isolate=isolate), seed=1, generations=3)
    result = exp.run()
    assert result.evaluations == 48
    markers = {int(m.name.split("-")[1]): m.read_text() for m in tmp_path.iterdir()}
    assert set(markers.values()) == {"setup\n"}
    workers = {worker_pid(i.evaluation.worker) for i in exp.store.individuals(result.run_id)}
    assert workers == set(markers) and 1 <= len(workers) <= 2


def test_setup_failure_is_a_clear_error(scheduler):
    exp = Experiment(BadSetup(), build("optimizer", "ga", population=4),
                     DaskExecutor(address=scheduler), generations=1)
    with pytest.raises(SetupError, match="optimizee BadSetup .*no simulator here"):
        exp.run()
    # the run failed: no failed evaluations recorded, not "finished"
    assert exp.store.run(exp.run_id).status == "failed"
    assert list(exp.store.individuals(exp.run_id)) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"workers": 0}, "workers must be at least 1"),
    ({"address": "localhost:8786"}, "should look like 'tcp://host:port'"),
    ({"address": "tcp://127.0.0.1:9"}, "cannot reach the scheduler"),
    ({"timeout": -1.0}, "timeout must be positive"),
    ({"timeout": 5.0, "isolate": False}, "timeout needs isolate"),
    ({"chunk": 0}, "chunk must be at least 1"),
    ({"start_method": "thread"}, "unknown start_method"),
    ({"no_workers_timeout": 0.0}, "no_workers_timeout must be positive"),
])
def test_bad_settings(kwargs, message):
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(ConfigError, match=message):
            DaskExecutor(**kwargs).start(Trouble())


def test_registered_as_dask():
    assert isinstance(build("executor", "dask", workers=2), DaskExecutor)


def test_a_heartbeat_that_finds_the_scheduler_gone_is_not_logged(caplog):
    """The local cluster's workers drop distributed's heartbeat-failure error (a traceback on the
    user's terminal when the run closes the cluster during a heartbeat); other errors stay."""
    import inspect

    import distributed.worker
    from l2l_dask.preload import HEARTBEAT_FAILED, quiet_shutdown_race

    assert HEARTBEAT_FAILED in inspect.getsource(distributed.worker.Worker.heartbeat)
    quiet_shutdown_race()
    logger = logging.getLogger("distributed.worker")
    with caplog.at_level(logging.ERROR, logger="distributed.worker"):
        try:
            raise OSError("Stream is closed")
        except OSError:
            logger.exception(HEARTBEAT_FAILED)
            logger.exception("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
