"""Convergence with fixed seeds: every optimizer measurably beats random search (or its own
starting point, for local gradient descent) on sphere and rastrigin in 5 dimensions; the
ensemble Kalman filter recovers known model weights; NSGA-II spreads along a Pareto front;
grid search visits its grid exactly once."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from l2l import (Categorical, Evaluation, Experiment, Float, Int, Objectives, Optimizee, Problem,
                 Space, build)
from l2l.optimizees.functions import rastrigin, sphere
from l2l.optimizers.pareto import crowding_distance, non_dominated_ranks

BUDGET, SEEDS, DIM = 1000, range(5), 5
FUNCTIONS = {"sphere": sphere, "rastrigin": rastrigin}


def best_found(name: str, function: str, seed: int, budget: int = BUDGET,
               **kwargs) -> tuple[float, float]:
    """(best value reached, value of the first candidate) of a direct ask/tell loop."""
    f = FUNCTIONS[function]
    opt = build("optimizer", name, **kwargs)
    opt.start(Problem(Space([Float("x", -5.12, 5.12, shape=DIM)]), Objectives(), seed))
    used, best, first = 0, np.inf, None
    while used < budget:
        candidates = opt.ask()
        values = f(np.array([c["x"] for c in candidates]))
        first = float(values[0]) if first is None else first
        used += len(values)
        best = min(best, float(values.min()))
        opt.tell(candidates, [Evaluation(fitness=(float(v),)) for v in values])
    return best, float(first)


def median_best(name: str, function: str) -> float:
    return float(np.median([best_found(name, function, s)[0] for s in SEEDS]))


RANDOM = {fn: median_best("random", fn) for fn in FUNCTIONS}
# fraction of random search's median best value each optimizer must reach (median of 5 seeds)
FACTORS = {"sphere": 0.3, "rastrigin": 0.6}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("name", ["ga", "ce", "face", "es", "nes", "sa", "pt", "cmaes"])
def test_beats_random_search(name: str, function: str) -> None:
    ours = median_best(name, function)
    assert ours < FACTORS[function] * RANDOM[function], (name, function, ours, RANDOM[function])


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("rule", ["classic", "momentum", "rmsprop", "adam"])
def test_gradient_descent_descends(rule: str, function: str) -> None:
    lr = {"classic": 1e-4, "momentum": 1e-5, "rmsprop": 0.01, "adam": 0.01}[rule]
    ratios = []
    for seed in SEEDS:
        best, first = best_found("gd", function, seed, budget=600, rule=rule, learning_rate=lr)
        ratios.append(best / first)
    assert np.median(ratios) < (0.05 if function == "sphere" else 0.7), ratios


def test_cmaes_solves_sphere_precisely() -> None:
    assert median_best("cmaes", "sphere") < 1e-8


class Regression(Optimizee):
    """Fit the 4 weights of a linear model ``X w`` or a nonlinear one
    ``tanh(X w / 2) + X w / 10`` to noise-free data generated with known weights."""

    def __init__(self, model: str = "linear"):
        self.model = model

    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.random.default_rng(7).normal(size=(40, 4))
        return x, self._predict(x, np.array([1.5, -0.5, 2.0, -1.0]))

    def _predict(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return x @ w if self.model == "linear" else np.tanh(0.5 * (x @ w)) + 0.1 * (x @ w)

    def space(self) -> Space:
        return Space([Float("w", -3.0, 3.0, shape=4)])

    def targets(self) -> np.ndarray:
        return self._data()[1]

    def evaluate(self, params, seed):  # type: ignore[no-untyped-def]
        x, y = self._data()
        out = self._predict(x, np.asarray(params["w"]))
        return Evaluation(fitness=(float(np.mean((out - y) ** 2)),), observation=out)


@pytest.mark.parametrize("model,kwargs,generations,tolerance", [
    ("linear", {"population": 16}, 25, 0.02),
    ("linear", {"population": 16, "batches": 4, "iterations": 2}, 25, 0.02),
    ("tanh", {"population": 32}, 40, 0.03)])
def test_enkf_recovers_known_weights(model: str, kwargs: dict, generations: int,
                                     tolerance: float) -> None:
    exp = Experiment(Regression(model=model), build("optimizer", "enkf", **kwargs), seed=2,
                     generations=generations)
    result = exp.run()
    w = np.asarray(result.best_params["w"])
    assert np.max(np.abs(w - [1.5, -0.5, 2.0, -1.0])) < tolerance, w
    assert result.history[-1] < 1e-3 * result.history[0]


def zdt1(x: np.ndarray) -> np.ndarray:
    """ZDT1 objectives (both minimised); the Pareto front is g = 1, f2 = 1 - sqrt(f1)."""
    g = 1.0 + 9.0 * x[:, 1:].mean(axis=1)
    return np.stack([x[:, 0], g * (1.0 - np.sqrt(x[:, 0] / g))], axis=1)


def test_nsga2_spreads_along_the_pareto_front() -> None:
    # the second objective is declared "max" and reported negated: directions must be honoured
    objectives = Objectives(("f1", "minus_f2"), ("min", "max"))
    opt = build("optimizer", "ga", population=40, selection="nsga2", mutation_rate=0.2,
                mutation_sigma=0.05)
    opt.start(Problem(Space([Float("x", 0.0, 1.0, shape=5)]), objectives, 4))
    for _ in range(100):
        candidates = opt.ask()
        f = zdt1(np.array([c["x"] for c in candidates]))
        opt.tell(candidates, [Evaluation(fitness=(a, -b)) for a, b in f])
    front = zdt1(opt.parents)
    assert (non_dominated_ranks(front) == 0).sum() >= 30
    gap = front[:, 1] - (1.0 - np.sqrt(front[:, 0]))
    assert np.median(gap) < 0.1, np.median(gap)
    assert front[:, 0].min() < 0.05 and front[:, 0].max() > 0.9
    assert np.max(np.diff(np.sort(front[:, 0]))) < 0.15
    scalar = build("optimizer", "ga", population=40)
    scalar.start(Problem(Space([Float("x", 0.0, 1.0, shape=5)]), objectives, 4))
    for _ in range(100):
        candidates = scalar.ask()
        f = zdt1(np.array([c["x"] for c in candidates]))
        scalar.tell(candidates, [Evaluation(fitness=(a, -b)) for a, b in f])
    assert np.ptp(zdt1(scalar.parents)[:, 0]) < 0.5 * np.ptp(front[:, 0])


def test_crowding_distance_prefers_isolated_points() -> None:
    f = np.array([[0.0, 1.0], [0.1, 0.9], [0.12, 0.88], [0.5, 0.5], [1.0, 0.0]])
    d = crowding_distance(f)
    assert np.isinf(d[0]) and np.isinf(d[4]) and d[3] > d[1] > 0 and d[3] > d[2]


class Tally(Optimizee):
    def space(self) -> Space:
        return Space([Float("a", 0.0, 1.0), Int("k", 1, 3), Categorical("c", ("x", "y")),
                      Float("v", -1.0, 1.0, shape=2)])

    def evaluate(self, params, seed):  # type: ignore[no-untyped-def]
        return float(params["a"] + params["k"])


def test_grid_search_covers_the_grid_exactly_once() -> None:
    opt = build("optimizer", "gs", points={"a": 3}, values={"v": [[0.0, 0.5], [1.0, -1.0]]},
                population=5)
    space = Tally().space()
    opt.start(Problem(space, Objectives(), 0))
    seen = []
    generations = 0
    while not opt.done:
        candidates = opt.ask()
        generations += 1
        seen += [(c["a"], c["k"], c["c"], tuple(c["v"])) for c in candidates]
        opt.tell(candidates, [Evaluation(fitness=(0.0,))] * len(candidates))
    expected = set(itertools.product([0.0, 0.5, 1.0], [1, 2, 3], ["x", "y"],
                                     [(0.0, 0.5), (1.0, -1.0)]))
    assert len(seen) == len(expected) == 36 and set(seen) == expected
    assert generations == 8
    result = Experiment(Tally(), build("optimizer", "gs", points=2, population=8),
                        generations=100).run()
    assert result.status == "stopped" and result.evaluations == 2 * 2 * 2 * 4
