"""Async mode on the dask executor: one-task submissions complete out of order; the failure
matrix (crash, hang, raise, NaN) is recorded as in generational mode."""

from __future__ import annotations

from l2l import Experiment, build
from l2l.asynchronous import async_stats
from l2l.experiment import Stop
from l2l_dask import DaskExecutor

from executor_checks import assert_async_trouble


def test_failure_matrix_in_async_mode():
    assert_async_trouble(DaskExecutor(workers=2, timeout=1.0))


def test_an_async_ga_run_on_a_local_cluster():
    exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=3, cost=0.01),
                     build("optimizer", "ga", population=6), DaskExecutor(workers=2),
                     seed=4, stop=Stop(max_evaluations=30), mode="async")
    result = exp.run()
    assert result.status == "finished" and result.evaluations == 30
    stats = async_stats(exp.store, result.run_id)
    assert stats is not None and stats.slots >= 2 and stats.in_flight_max >= 2
    assert sorted(c.ask for c in exp.store.completions(result.run_id)) == list(range(30))
