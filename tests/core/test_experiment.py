"""The optimization loop: storage, stop criteria, failures, hooks, meta-learning."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from core_parts import Trouble, TwoGoals
from l2l import ConfigError, Experiment, Stop, Store, build, hookimpl
from l2l.experiment import evaluation_seed
from l2l.plugins import Plugins


def sphere(dim=3):
    return build("optimizee", "function", function="sphere", dimension=dim)


def test_run_stores_every_evaluation_and_improves(tmp_store):
    exp = Experiment(sphere(), build("optimizer", "ga", population=16), store=tmp_store,
                     generations=15, seed=5)
    result = exp.run()
    assert result.status == "finished" and result.generations == 15 and result.evaluations == 240
    assert result.history[-1] < result.history[0] / 10
    assert all(a >= b for a, b in zip(result.history, result.history[1:]))
    with Store(tmp_store) as store:
        rec = store.run(result.run_id)
        assert rec.status == "finished" and rec.evaluations == 240 and rec.generations == 15
        assert rec.versions["l2l-core"] and rec.config["optimizer"]["name"] == "ga"
        assert rec.config["optimizer"]["population"] == 16
        best = store.best(result.run_id)
        assert best.evaluation.fitness == result.best_fitness
        assert np.array_equal(best.params["x"], result.best_params["x"])
        seeds = [i.seed for i in store.individuals(result.run_id, 3)]
        assert seeds == [evaluation_seed(5, 3, k) for k in range(16)]


def test_same_seed_same_run_different_seed_different_run():
    def run(seed):
        return Experiment(sphere(), build("optimizer", "ga", population=8), generations=4,
                          seed=seed).run().history

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_failed_evaluations_are_kept_and_penalised(tmp_store):
    exp = Experiment(Trouble(raise_below=0.3, nan_below=0.4), build("optimizer", "ga", population=20),
                     store=tmp_store, generations=5, seed=2)
    result = exp.run()
    with Store(tmp_store) as store:
        inds = list(store.individuals(result.run_id))
    failed = [i for i in inds if not i.evaluation.ok]
    assert len(inds) == 100 and failed
    assert {e for i in failed for e in [i.evaluation.error.split(":")[0]]} <= {"ValueError", "non-finite fitness (nan,)"}
    assert all(i.params["x"] < 0.4 for i in failed)
    assert result.best_params["x"] >= 0.4 and abs(result.best_params["x"] - 0.7) < 0.05


@pytest.mark.parametrize("stop, expected", [
    (Stop(target=0.5), "stopped"), (Stop(max_evaluations=30), "stopped"),
    (Stop(patience=1), "stopped"), (Stop(), "finished")])
def test_stop_criteria(stop, expected):
    result = Experiment(sphere(), build("optimizer", "random", population=10), generations=200,
                        seed=0, stop=stop).run()
    assert result.status == expected
    if stop.target is not None:
        assert result.history[-1] <= 0.5 and result.history[-2] > 0.5
    if stop.max_evaluations is not None:
        assert result.evaluations == 30
    if stop.patience is not None:
        assert result.generations < 200 and result.history[-1] == result.history[-2]


def test_lifecycle_hooks_fire_in_order():
    events = []

    class Observer:
        @hookimpl
        def l2l_run_start(self, run):
            events.append(("start", run.generation))

        @hookimpl
        def l2l_generation_done(self, run, generation, individuals):
            events.append(("gen", generation, len(individuals)))

        @hookimpl
        def l2l_run_end(self, run, status):
            events.append(("end", status))

    plugins = Plugins(discover=False)
    from l2l import builtins

    plugins.register(builtins, "l2l-core")
    plugins.register(Observer(), "observer")
    Experiment(sphere(), build("optimizer", "random", population=3), generations=2,
               plugins=plugins).run()
    assert events == [("start", 0), ("gen", 0, 3), ("gen", 1, 3), ("end", "finished")]


def test_multi_objective_runs_are_stored_with_directions(tmp_store):
    result = Experiment(TwoGoals(), build("optimizer", "ga", population=10, weights=[1.0, 1.0]),
                        store=tmp_store, generations=3).run()
    with Store(tmp_store) as store:
        rec = store.run(result.run_id)
    assert rec.objectives.directions == ("min", "max")
    assert len(result.best_fitness) == 2


def test_meta_learning_runs_an_inner_optimization():
    meta = build("optimizee", "meta",
                 optimizee={"name": "function", "function": "sphere", "dimension": 3},
                 optimizer={"name": "ga", "population": 8},
                 space={"optimizer.mutation_sigma": {"low": 0.001, "high": 0.5},
                        "optimizer.population": {"type": "int", "low": 4, "high": 12}},
                 generations=5)
    result = Experiment(meta, build("optimizer", "random", population=4), generations=2, seed=3).run()
    assert result.status == "finished" and result.evaluations == 8
    best = result.best
    assert best.evaluation.info["inner_evaluations"] == 5 * best.params["optimizer.population"]
    assert best.evaluation.fitness[0] == pytest.approx(best.evaluation.info["inner_history"][-1])
    with pytest.raises(ConfigError, match="must start with"):
        build("optimizee", "meta", optimizee={"name": "function"}, optimizer={"name": "ga"},
              space={"gamma": {"low": 0, "high": 1}}).space()


def test_generations_must_be_positive():
    with pytest.raises(ConfigError):
        Experiment(sphere(), build("optimizer", "random"), generations=0)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_just_after_the_run_is_stored_leaves_it_interrupted(tmp_store, signum):
    """The window between the run's row and the loop: a Ctrl-C (or a scheduler's SIGTERM) that
    lands there still leaves the run ``interrupted`` with its reason, never ``running``."""

    class SignalledStore(Store):
        def create_run(self, *args, **kwargs):
            run_id = super().create_run(*args, **kwargs)
            os.kill(os.getpid(), signum)  # Python runs the handler at the next bytecode
            return run_id

    store = SignalledStore(tmp_store)
    exp = Experiment(sphere(), build("optimizer", "ga", population=4), store=store, generations=3)
    with pytest.raises(KeyboardInterrupt):
        exp.run()
    record = store.run(exp.run_id)
    assert record.status == "interrupted" and record.evaluations == 0
    assert record.error == ("KeyboardInterrupt: " if signum == signal.SIGINT else "Terminated: SIGTERM")
    assert Experiment.resume(store, exp.run_id).run().status == "finished"
