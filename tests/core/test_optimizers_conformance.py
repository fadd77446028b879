"""Every built-in optimizer passes the conformance suite (l2l.testing.check_optimizer), runs in
the real loop with a store, and copes with populations from 2 to thousands."""

from __future__ import annotations

import numpy as np
import pytest

from l2l import (ConfigError, Evaluation, Experiment, Float, Objectives, Problem, Space,
                 build, get_plugins)
from l2l.optimizees.functions import sphere
from l2l.optimizers.random_search import RandomSearch
from l2l.testing import check_optimizer
from l2l.testing.optimizer import LinearFit

NAMES = sorted(get_plugins().names("optimizers"))
EXPECTED = {"random", "ga", "ce", "face", "es", "nes", "gd", "sa", "pt", "gs", "enkf", "cmaes", "auto"}

VARIANTS = [
    ("ga", {"selection": "nsga2"}), ("ga", {"crossover": "uniform", "elite": 0}),
    ("ce", {"distribution": "mixture", "components": 2}), ("face", {"distribution": "mixture"}),
    ("es", {"mirrored": False, "fitness_shaping": False, "population": 5}),
    ("nes", {"mirrored": True, "population": 7}),
    ("gd", {"rule": "classic"}), ("gd", {"rule": "momentum"}), ("gd", {"rule": "rmsprop"}),
    ("sa", {"schedule": "logarithmic"}), ("sa", {"schedule": "linear_multiplicative"}),
    ("sa", {"schedule": "quadratic_multiplicative"}), ("sa", {"schedule": "linear_additive"}),
    ("sa", {"schedule": "quadratic_additive"}), ("sa", {"schedule": "cosine_additive", "t0": 2.0}),
    ("pt", {"t_max": 5.0, "bounding": "reflect"}),
    ("gs", {"points": {"w": 3}, "values": {"c": ["a", "c"]}, "population": 7}),
    ("enkf", {"batches": 3, "iterations": 2, "shuffle": True, "bounding": "reflect"}),
    ("cmaes", {"population": 6, "restarts": "ipop", "max_restarts": 2}),
    ("cmaes", {"x0": "random", "sigma": 0.1, "weights": [2.0], "restarts": "none"}),
    ("cmaes", {"restarts": 3}), ("cmaes", {"damping": "tutorial", "population": 24}),
    ("ce", {"restarts": 0, "patience": 2}), ("face", {"elite": 3, "max_population": 50}),
    ("nes", {"variant": "snes", "restarts": 1}),
    ("es", {"adapt": False}),
    ("gd", {"starts": 3, "population": 12}), ("gd", {"starts": 2, "population": 9, "rule": "classic"}),
    ("gd", {"starts": 2, "probes": 2, "adapt": False, "population": 6}),
    ("sa", {"step": 0.5, "population": 1}),
]


def test_all_optimizers_are_registered() -> None:
    assert EXPECTED <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_conformance(name: str) -> None:
    check_optimizer(get_plugins().get("optimizers", name))


@pytest.mark.parametrize("name,kwargs", VARIANTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_conformance_variants(name: str, kwargs: dict) -> None:
    check_optimizer(get_plugins().get("optimizers", name), **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_runs_in_experiment_with_store(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    exp = Experiment(LinearFit(), build("optimizer", name, population=8),
                     store=str(tmp_path / "r.db"), seed=3, generations=4)
    result = exp.run()
    assert result.status in ("finished", "stopped")
    assert result.best is not None and np.isfinite(result.best_fitness[0])


@pytest.mark.parametrize("name", sorted(set(NAMES) - {"gs"}))
@pytest.mark.parametrize("population", [2, 2000])
def test_population_extremes(name: str, population: int) -> None:
    box = Space([Float("x", -2.0, 3.0, shape=5)])
    problem_space = LinearFit().space() if name == "enkf" else box
    optimizee = LinearFit()
    opt = build("optimizer", name, population=population)
    opt.start(Problem(problem_space, Objectives(), 1, optimizee.targets()))
    for _ in range(3):
        candidates = opt.ask()
        assert len(candidates) == population
        if name == "enkf":
            evaluations = [optimizee.evaluate(c, 0) for c in candidates]
        else:
            x = np.array([c["x"] for c in candidates])
            assert np.all(x >= -2.0) and np.all(x <= 3.0)
            evaluations = [Evaluation(fitness=(float(v),)) for v in sphere(x)]
        opt.tell(candidates, evaluations)


def test_enkf_needs_targets() -> None:
    opt = build("optimizer", "enkf")
    with pytest.raises(ConfigError, match="targets"):
        opt.start(Problem(Space([Float("x", 0.0, 1.0)]), Objectives(), 0, None))


@pytest.mark.parametrize("name,kwargs,match", [
    ("ga", {"selection": "roulette"}, "selection"),
    ("ce", {"elite_fraction": 0.0}, "elite_fraction"),
    ("gd", {"rule": "newton"}, "rule"),
    ("sa", {"schedule": "fast"}, "schedule"),
    ("gs", {"values": {"nope": [1]}}, "unknown parameters"),
    ("gs", {"values": {"x": [7.0]}}, "outside"),
    ("es", {"population": 1}, "population"),
    ("cmaes", {"x0": "corner"}, "x0"),
    ("cmaes", {"damping": "strong"}, "damping"),
    ("cmaes", {"restarts": "sometimes"}, "restarts"),
    ("nes", {"variant": "cma"}, "variant"),
    ("gd", {"starts": 3, "population": 4}, "population"),
])
def test_bad_hyperparameters_raise_config_error(name: str, kwargs: dict, match: str) -> None:
    opt = build("optimizer", name, **kwargs)
    with pytest.raises(ConfigError, match=match):
        opt.start(Problem(Space([Float("x", 0.0, 1.0)]), Objectives(), 0, np.zeros(2)))


def test_weights_scalarise_objectives() -> None:
    """With weights (1, 0) a scalar optimizer ignores the second objective entirely."""
    space = Space([Float("x", -1.0, 1.0, shape=2)])
    objectives = Objectives(("a", "b"), ("min", "max"))
    runs = []
    for second in (0.0, 5.0):
        opt = build("optimizer", "cmaes", weights=[1.0, 0.0])
        opt.start(Problem(space, objectives, 0))
        asked = []
        for _ in range(4):
            c = opt.ask()
            asked.append(np.array([p["x"] for p in c]))
            x = asked[-1]
            opt.tell(c, [Evaluation(fitness=(float(v), second * float(w)))
                         for v, w in zip(sphere(x), x[:, 0])])
        runs.append(np.vstack(asked))
    assert np.array_equal(runs[0], runs[1])


class _Drifting(RandomSearch):
    """Random search with a shift that is not part of its state (breaks resume)."""

    def start(self, problem: Problem) -> None:
        super().start(problem)
        self.shift = 0.0

    def ask_vectors(self) -> np.ndarray:
        return super().ask_vectors() * 0.5 + self.shift

    def tell_losses(self, vectors, losses, evaluations) -> None:  # type: ignore[no-untyped-def]
        self.shift += 0.01


class _Unseeded(_Drifting):
    """Draws from numpy's global generator instead of self.rng."""

    state_attributes = ("shift",)

    def ask_vectors(self) -> np.ndarray:
        return np.random.uniform(self.space.lower, self.space.upper, (4, self.space.dim))


class _Fragile(_Drifting):
    """Crashes when every evaluation of a generation failed."""

    state_attributes = ("shift",)

    def tell_losses(self, vectors, losses, evaluations) -> None:  # type: ignore[no-untyped-def]
        if not any(e.ok for e in evaluations):
            raise ValueError("no successful evaluation")


class _AsyncForgetful(RandomSearch):
    """Async mode with a counter that is not part of its state."""

    asynchronous = True

    def ask_vector(self):  # type: ignore[no-untyped-def]
        self.n = getattr(self, "n", 0) + 1
        return 0, self.space.lower + (self.space.upper - self.space.lower) * (self.n % 7) / 7


@pytest.mark.parametrize("cls,rule", [(_Drifting, "resume-bit-identical"),
                                      (_Unseeded, "deterministic"), (_Fragile, "failure-tolerant"),
                                      (_AsyncForgetful, "async-resume-bit-identical")])
def test_checker_catches_broken_optimizers(cls: type, rule: str) -> None:
    with pytest.raises(AssertionError, match=rule):
        check_optimizer(cls)
