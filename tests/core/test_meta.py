"""Learning to learn: equal inner budgets, inner seeds as outer repeats, held-out scores of the
inner best, and the inner defaults as the baseline."""

from __future__ import annotations

import pytest

from l2l import Experiment, Store, build
from l2l.noise import Noise
from l2l.validation import validate_run

INNER = {"name": "function", "function": "sphere", "dimension": 3, "noise": 0.3}


def meta(**kw):
    return build("optimizee", "meta", optimizee=INNER,
                 optimizer={"name": "ga", "population": 8},
                 space={"optimizer.mutation_sigma": {"low": 0.01, "high": 0.5},
                        "optimizer.population": {"type": "int", "low": 4, "high": 12}}, **kw)


def test_budget_gives_every_hyper_parameter_set_the_same_inner_evaluations():
    opt = meta(budget=48)
    for population in (5, 12):
        ev = opt.evaluate({"optimizer.mutation_sigma": 0.1, "optimizer.population": population}, 1)
        assert ev.ok
        assert ev.info["inner_evaluations"] == (48 // population) * population
    assert meta(generations=3).inner_generations(7) == 3


def test_inner_seeds_are_outer_repeats_and_the_inner_best_is_scored_on_held_out_data(tmp_store):
    opt = meta(budget=24, score="noise-free")
    result = Experiment(opt, build("optimizer", "random", population=2), store=tmp_store,
                        generations=2, seed=5, noise=Noise(repeats=2)).run()
    assert result.evaluations == 8 and result.best_count == 2
    # the outer fitness is the inner best's noise-free value: never below the optimum 0
    assert all(v >= 0 for v in result.best_candidate.mean)
    # the same (parameters, seed) gives the same inner run
    p = result.best_params
    assert opt.evaluate(p, 9).fitness == opt.evaluate(p, 9).fitness
    assert opt.held_out() == {"noise-free": "inner run with a new seed, its best scored on: "
                                            "the function value without noise: the truth"}
    assert opt.defaults() == {"optimizer.mutation_sigma": 0.1, "optimizer.population": 8}
    with Store(tmp_store) as store:
        vr = validate_run(store, result.run_id, repeats=3, optimizee=opt)
    best, defaults = vr.candidates
    assert defaults.baseline == "defaults" and best.baseline is None
    assert set(best.scores) == set(defaults.scores) == {"fresh", "noise-free"}
    assert best.scores["noise-free"].count == 3
    assert best.scores["noise-free"].mean[0] == pytest.approx(best.scores["fresh"].mean[0])
