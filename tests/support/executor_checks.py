"""Checks shared by the tests of executors that run evaluations in other processes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import pytest

from l2l import Experiment, Task, build


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def assert_gone(pids: set[int], within: float = 15.0,
                others: Callable[[], set[int]] = set) -> None:
    """Fail unless ``pids`` (and whatever ``others()`` finds) are gone within ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)} | others()
        if not left:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes left behind: {sorted(left)}")


def worker_pid(worker: str) -> int:
    """The pid in an evaluation's ``worker`` field (``host:pid``)."""
    return int(worker.rsplit(":", 1)[1])


def run_fitnesses(executor) -> tuple[list[float], list[tuple]]:
    """History and every fitness of a small noisy GA run, to compare executors."""
    exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=3, noise=0.1),
                     build("optimizer", "ga", population=12), executor, seed=3, generations=3)
    result = exp.run()
    assert result.status == "finished"
    return result.history, [i.evaluation.fitness for i in exp.store.individuals(result.run_id)]


#: x values for core_parts.Trouble(crash_below=0.1, hang_below=0.2, raise_below=0.3, nan_below=0.4)
TROUBLE_XS = [0.05, 0.15, 0.25, 0.35, 0.5, 0.7, 0.95, 0.02]


def assert_trouble_outcomes(out: dict) -> None:
    """The outcomes of TROUBLE_XS by index: crash, timeout (1 s), raise, NaN, then successes."""
    xs = TROUBLE_XS
    assert sorted(out) == list(range(len(xs)))
    assert "died (exit code 7)" in out[0].error and "died (exit code 7)" in out[7].error
    assert out[1].error.startswith("timeout: evaluation exceeded 1 s")
    assert out[2].error.startswith("ValueError: x=0.250 is too small")
    assert out[3].error == "non-finite fitness (nan,)"
    for i in (4, 5, 6):
        assert out[i].ok and out[i].fitness == pytest.approx(((xs[i] - 0.7) ** 2,))


def assert_submit_keeps_task_order(executor) -> None:
    """``submit`` of one chunk returns its outcomes in task order (with a failure in between)."""
    chunk = executor.submit([Task(0, {"x": 0.9}, 0), Task(1, {"x": 0.25}, 1), Task(2, {"x": 0.5}, 2)])
    first, second, third = chunk.result(timeout=30)
    assert first.fitness == pytest.approx((0.04,)) and third.fitness == pytest.approx((0.04,))
    assert second.error.startswith("ValueError")


def assert_async_trouble(executor) -> None:
    """An async run (grid over TROUBLE_XS, in ask order) records the crash, the hang, the
    raise and the NaN as failed evaluations with their reasons, and the others as successes."""
    from core_parts import Trouble

    from l2l.experiment import Stop

    exp = Experiment(Trouble(crash_below=0.1, hang_below=0.2, raise_below=0.3, nan_below=0.4),
                     build("optimizer", "gs", values={"x": TROUBLE_XS}), executor, seed=1,
                     stop=Stop(max_evaluations=len(TROUBLE_XS)), mode="async")
    result = exp.run()
    assert result.status == "finished" and result.evaluations == len(TROUBLE_XS)
    width = exp.store.last_checkpoint(result.run_id)[1]["loop"]["width"]
    out = {i.generation * width + i.index: i.evaluation for i in exp.store.individuals(result.run_id)}
    assert_trouble_outcomes(out)
    order = [c.ask for c in exp.store.completions(result.run_id)]
    assert sorted(order) == list(range(len(TROUBLE_XS)))
