"""Crash, timeout and failure isolation of the process executor."""

from __future__ import annotations

import time

import pytest

from core_parts import BadSetup, BatchTrouble, Segv, SlowSetup, Trouble, Unstorable
from l2l import ConfigError, ExecutorError, Experiment, Task, build
from l2l.executors.process import ProcessExecutor
from l2l.executors.serial import SerialExecutor


def run_map(executor, optimizee, xs):
    executor.start(optimizee)
    try:
        out = dict((t.index, ev) for t, ev in executor.map([Task(i, {"x": x}, i) for i, x in enumerate(xs)]))
    finally:
        executor.close()
    return [out[i] for i in range(len(xs))]


def test_crash_hang_raise_and_nan_become_failures_and_the_run_goes_on():
    opt = Trouble(crash_below=0.1, hang_below=0.2, raise_below=0.3, nan_below=0.4)
    t0 = time.monotonic()
    evs = run_map(ProcessExecutor(workers=2, timeout=1.0), opt,
                  [0.05, 0.15, 0.25, 0.35, 0.5, 0.9, 0.06, 0.7])
    assert time.monotonic() - t0 < 15
    assert not evs[0].ok and "died (exit code 7)" in evs[0].error
    assert not evs[1].ok and "timeout" in evs[1].error
    assert not evs[2].ok and "ValueError: x=0.250 is too small" in evs[2].error
    assert not evs[3].ok and "non-finite" in evs[3].error
    assert not evs[6].ok and "died" in evs[6].error
    assert [e.fitness for e in (evs[4], evs[5], evs[7])] == [((x - 0.7) ** 2,) for x in (0.5, 0.9, 0.7)]


def test_segfault_is_contained():
    evs = run_map(ProcessExecutor(workers=1), Segv(), [0.9, 0.1, 0.8])
    assert evs[0].ok and evs[2].ok
    assert not evs[1].ok and "signal 11" in evs[1].error


def test_a_crash_inside_a_batch_is_isolated_to_its_culprit():
    evs = run_map(ProcessExecutor(workers=2, chunk=4), BatchTrouble(crash_below=0.1),
                  [0.5, 0.05, 0.6, 0.7, 0.8, 0.9])
    assert [e.ok for e in evs] == [True, False, True, True, True, True]
    assert "died" in evs[1].error


def test_setup_runs_once_per_worker_and_workers_are_replaced(tmp_path):
    opt = Trouble(crash_below=0.1, marker_dir=str(tmp_path))
    exp = Experiment(opt, build("optimizer", "random", population=12),
                     ProcessExecutor(workers=2), generations=4, seed=3)
    result = exp.run()
    markers = list(tmp_path.glob("setup-*"))
    crashes = sum(1 for i in exp.store.individuals(result.run_id) if not i.evaluation.ok)
    assert crashes > 0
    assert len(markers) == 2 + crashes  # two workers plus one replacement per crash
    assert all(m.read_text() == "setup\n" for m in markers)
    assert result.evaluations == 48


def test_process_gives_the_same_run_as_serial():
    def run(executor):
        exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=4),
                         build("optimizer", "ga", population=20), executor, generations=6, seed=11)
        res = exp.run()
        return [(i.evaluation.fitness, i.seed) for i in exp.store.individuals(res.run_id)]

    assert run(SerialExecutor()) == run(ProcessExecutor(workers=2))


def test_setup_failure_is_a_clear_error():
    with pytest.raises(ExecutorError, match="setup failed in a worker: RuntimeError: no simulator here"):
        ProcessExecutor(workers=1).start(BadSetup())


def test_no_workers_are_left_behind():
    ex = ProcessExecutor(workers=2)
    ex.start(Trouble())
    procs = [w.process for w in ex._workers]
    ex.close()
    assert all(not p.is_alive() for p in procs)
    ex.close()  # idempotent


def test_bad_settings():
    with pytest.raises(ConfigError):
        ProcessExecutor(workers=0).start(Trouble())
    with pytest.raises(ConfigError):
        ProcessExecutor(start_method="teleport").start(Trouble())


def test_a_hanging_setup_is_a_clear_error_not_a_hang():
    ex = ProcessExecutor(workers=2, setup_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(ExecutorError, match="setup in a worker took longer than 1 s"):
        ex.start(SlowSetup())
    assert time.monotonic() - t0 < 10
    assert all(not w.process.is_alive() for w in getattr(ex, "_workers", None) or [])


def test_unstorable_results_fail_the_evaluation_not_the_worker():
    evs = run_map(ProcessExecutor(workers=1), Unstorable(), [0.1, 0.25, 0.35, 0.9])
    assert evs[0].error.startswith("info is not JSON-serialisable")
    assert evs[1].error.startswith("unusable result 'not a number'")
    assert evs[2].error.startswith("SystemExit: 5")  # in the worker: not a dead worker
    assert evs[3].ok and len({e.worker for e in evs}) == 1


def test_close_stops_busy_workers_at_once_and_fails_what_was_waited_for():
    ex = ProcessExecutor(workers=2)
    ex.start(Trouble(hang_below=0.5))
    fut = ex.submit([Task(0, {"x": 0.1}, 0), Task(1, {"x": 0.2}, 1)])
    time.sleep(0.5)
    procs = [w.process for w in ex._workers]
    t0 = time.monotonic()
    ex.close()
    assert time.monotonic() - t0 < 5  # not the 60 s the evaluations sleep
    assert all(not p.is_alive() for p in procs)
    with pytest.raises(ExecutorError, match="closed before these evaluations finished"):
        fut.result(timeout=1)


def test_a_chunk_sent_to_a_worker_that_has_just_died_goes_back_to_the_queue():
    """A worker can die (a segfault) between two looks of the dispatcher; a chunk sent to it
    meanwhile meets a broken pipe. It goes back to the front of the queue and the worker is
    marked dead for the dispatcher to replace, instead of the broken pipe stopping the
    executor (seen under load in async mode: 'process executor stopped: [Errno 32] Broken
    pipe')."""
    from collections import deque
    from concurrent.futures import Future
    from multiprocessing import Pipe

    from l2l.executors.process import _Chunk, _Job, _Worker

    reader, writer = Pipe(duplex=False)
    reader.close()  # the worker's end, closed by its death
    worker = _Worker(process=None, conn=writer, claim=None)
    ex = ProcessExecutor(workers=1, timeout=5.0)
    ex._pending = deque()
    task = Task(0, {"x": 0.0}, 1)
    chunk = _Chunk(_Job([task], Future(), None), [task], False)
    ex._send(worker, chunk)
    assert worker.dead and not worker.chunks and worker.sent == 0
    assert list(ex._pending) == [chunk]
