"""Fitting with arbor-cell: an optimizer recovers known HH conductances from target traces."""

from __future__ import annotations

import numpy as np
import pytest
from l2l import Experiment, build


def test_ga_recovers_known_conductances(hh_kwargs, true_params):
    """A GA (l2l.build + l2l.Experiment) fits gnabar and gkbar of a ball-and-stick to the
    features of traces simulated at known values.

    Stated tolerances: every feature of the best cell within 0.5 std of the target's (std = 10 %
    of the target value; the spike counts equal), and both conductances within 5 % of truth.
    """
    opt = build("optimizee", "arbor-cell", **hh_kwargs())
    ga = build("optimizer", "ga", population=32)
    result = Experiment(opt, ga, seed=3, generations=15).run()
    best = result.best
    assert best is not None and best.evaluation.ok
    z = np.array(best.evaluation.fitness)
    assert z.max() <= 0.5, dict(zip(opt.objectives().names, z))
    feats = best.evaluation.info["features"]
    target = opt._prepared().target_features
    for proto in ("weak", "strong"):
        key = f"{proto}.soma.Spikecount"
        assert feats[key] == target[key]
    for name, value in true_params.items():
        assert best.params[name] == pytest.approx(value, rel=0.05), best.params
    assert result.history[-1] < result.history[0]


def test_process_executor_batch_path_matches_serial(hh_kwargs):
    """Worker processes evaluate whole chunks through the batch path (one Arbor simulation per
    chunk) and the run equals the serial one."""
    from l2l.executors.process import ProcessExecutor

    def run(executor):
        opt = build("optimizee", "arbor-cell", **hh_kwargs())
        exp = Experiment(opt, build("optimizer", "ga", population=16), executor, seed=5, generations=3)
        result = exp.run()
        return result, list(exp.store.individuals(result.run_id))

    serial, _ = run(None)
    with ProcessExecutor(workers=2) as executor:
        parallel, rows = run(executor)
    assert parallel.best.params == serial.best.params
    assert parallel.best.evaluation.fitness == pytest.approx(serial.best.evaluation.fitness, abs=1e-9)
    assert parallel.history == pytest.approx(serial.history, abs=1e-9)
    assert len(rows) == 48 and all(r.evaluation.ok for r in rows)
    assert len({r.evaluation.worker for r in rows}) == 2
    # a chunk of 8 ran as one batch: its evaluations share the per-task wall time
    first = [r.evaluation.wall_time for r in rows if r.generation == 0][:8]
    assert len(set(first)) == 1
