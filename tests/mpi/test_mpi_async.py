"""Async mode on the mpi executor: one-task submissions complete out of order; the failure
matrix (crash, hang, raise, NaN) is recorded as in generational mode."""

from __future__ import annotations

from l2l import Experiment, build
from l2l.asynchronous import async_stats
from l2l.experiment import Stop
from l2l_mpi import MPIExecutor

from executor_checks import assert_async_trouble


def test_failure_matrix_in_async_mode():
    assert_async_trouble(MPIExecutor(workers=2, timeout=1.0))


def test_an_async_cmaes_run_keeps_both_ranks_busy():
    exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=3, cost=0.01),
                     build("optimizer", "cmaes"), MPIExecutor(workers=2), seed=4,
                     stop=Stop(max_evaluations=40), mode="async")
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 40
    stats = async_stats(exp.store, result.run_id)
    # prefetch 1 (the default): a second task queued per rank, in mpi4py's queue
    assert stats is not None and stats.slots == 2 and stats.in_flight_max == 4
    assert sorted(c.ask for c in exp.store.completions(result.run_id)) == list(range(40))
