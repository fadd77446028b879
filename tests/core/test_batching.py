"""An optimizee's minimum useful batch size is honoured by run_tasks, the chunking and the
executors: smaller chunks go through evaluate(), one parameter set at a time."""

from __future__ import annotations

import pytest
from core_parts import MinBatchProbe

from l2l import Task
from l2l.executor import default_chunk_size, run_tasks, uses_batch
from l2l.executors.process import ProcessExecutor
from l2l.executors.serial import SerialExecutor


def tasks(n: int) -> list[Task]:
    return [Task(i, {"x": i / 100}, i) for i in range(n)]


def paths(evaluations) -> set[str]:
    return {e.info["path"] for e in evaluations}


def test_run_tasks_uses_the_batch_path_from_min_batch_on():
    probe = MinBatchProbe(min_batch=4)
    assert not uses_batch(probe, tasks(3)) and uses_batch(probe, tasks(4))
    assert paths(run_tasks(probe, tasks(3))) == {"single"}
    assert paths(run_tasks(probe, tasks(4))) == {"batch"}
    assert paths(run_tasks(probe, tasks(3), batch=True)) == {"batch"}  # forced
    assert paths(run_tasks(MinBatchProbe(), tasks(2))) == {"batch"}  # the default: 2


def test_chunking_falls_back_when_chunks_would_be_too_small_for_the_batch():
    # a batch optimizee gets one chunk per worker ...
    assert default_chunk_size(64, 4, batch=True, least=16) == 16
    # ... unless those chunks are below its min_batch: then load-balancing chunks, 4 per worker
    assert default_chunk_size(64, 4, batch=True, least=17) == 4
    assert default_chunk_size(64, 4, batch=False) == 4
    assert default_chunk_size(64, 4, batch=True, chunk=5, least=17) == 5  # explicit chunk


def test_serial_executor_honours_min_batch():
    ex = SerialExecutor()
    ex.start(MinBatchProbe(min_batch=8))
    assert paths(ev for _, ev in ex.map(tasks(7))) == {"single"}
    assert paths(ev for _, ev in ex.map(tasks(8))) == {"batch"}
    ex.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("min_batch, expected", [(4, {"batch"}), (9, {"single"})])
def test_process_executor_honours_min_batch(min_batch, expected):
    ex = ProcessExecutor(workers=2)
    ex.start(MinBatchProbe(min_batch=min_batch))
    try:
        out = [ev for _, ev in ex.map(tasks(16))]  # one chunk per worker would hold 8
    finally:
        ex.close()
    assert len(out) == 16 and paths(out) == expected
    if expected == {"batch"}:
        assert {e.info["size"] for e in out} == {8}
