"""``check_optimizer``: the conformance suite an optimizer plugin runs in its tests.

>>> from l2l.testing import check_optimizer
>>> check_optimizer(MyOptimizer, population=8)     # doctest: +SKIP

It drives the optimizer with direct ask/tell loops on a small optimizee (by default
:class:`LinearFit`, which has targets and observations, so data-driven optimizers such as the
ensemble Kalman filter can be checked too) and asserts the optimizer contract. Each rule is an
``assert`` whose message starts with the rule's name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import serialize
from ..errors import ConfigError
from ..evaluation import Evaluation, as_evaluation
from ..optimizee import Optimizee
from ..optimizer import Optimizer, Problem
from ..space import Categorical, Float, Int, Params, Space
from .optimizee import check_constructor, same_value


class LinearFit(Optimizee):
    """Fit the weights ``w`` of a linear model ``y = X w`` (8 data points, 3 weights) to data;
    fitness = mean squared error + a small cost of the int ``k`` and categorical ``c``
    parameters; observation = the model's outputs ``X w``; targets = the data."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        x = rng.normal(size=(8, 3))
        return x, x @ np.array([1.0, -2.0, 0.5])

    def space(self) -> Space:
        return Space([Float("w", -3.0, 3.0, shape=3), Int("k", 0, 4),
                      Categorical("c", ("a", "b", "c"))])

    def targets(self) -> np.ndarray:
        return self._data()[1]

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        x, y = self._data()
        out = x @ np.asarray(params["w"], dtype=float)
        cost = 0.1 * params["k"] + 0.2 * ("abc".index(params["c"]))
        return Evaluation(fitness=(float(np.mean((out - y) ** 2) + cost),), observation=out)


def _failures(generation: int, n: int) -> np.ndarray:
    """Which evaluations the checker fails on purpose: all of generation 1, the odd ones of
    generation 2."""
    if generation == 1:
        return np.ones(n, dtype=bool)
    if generation == 2:
        return np.arange(n) % 2 == 1
    return np.zeros(n, dtype=bool)


def _evaluate(optimizee: Optimizee, candidates: list[Params], generation: int,
              n_obj: int) -> list[Evaluation]:
    failed = _failures(generation, len(candidates))
    return [Evaluation.failed("failure injected by check_optimizer") if bad else
            as_evaluation(optimizee.evaluate(p, i), n_obj)
            for i, (p, bad) in enumerate(zip(candidates, failed))]


def _check_candidates(candidates: Any, space: Space, where: str) -> None:
    assert isinstance(candidates, list) and candidates, (
        f"ask-non-empty: ask() must return a non-empty list of parameter dicts ({where}), "
        f"got {type(candidates).__name__} {candidates!r:.80}")
    for i, params in enumerate(candidates):
        assert isinstance(params, dict), f"ask-dicts: candidate {i} ({where}) is not a dict"
        space.validate(params)
        for p in space:
            value = params[p.name]
            if isinstance(p, Categorical):
                assert value in p.choices, (
                    f"ask-in-space: candidate {i} ({where}): {p.name}={value!r} is not a choice")
                continue
            arr = np.asarray(value, dtype=float)
            assert np.all(np.isfinite(arr)), (
                f"ask-finite: candidate {i} ({where}): {p.name} has non-finite values {arr}")
            assert np.all(arr >= p.low) and np.all(arr <= p.high), (
                f"ask-in-bounds: candidate {i} ({where}): {p.name}={arr} is outside "
                f"[{p.low}, {p.high}]")
            if isinstance(p, Int):
                assert np.all(arr == np.rint(arr)), (
                    f"ask-int: candidate {i} ({where}): {p.name}={arr} is not integral")


def _run(opt: Optimizer, optimizee: Optimizee, first: int, generations: int,
         n_obj: int) -> list[list[Params]]:
    """Ask/tell ``generations`` times starting at generation ``first``; the candidates asked."""
    asked = []
    for gen in range(first, first + generations):
        if opt.done:
            break
        try:
            candidates = opt.ask()
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"ask-succeeds: ask() of generation {gen} raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        _check_candidates(candidates, optimizee.space(), f"generation {gen}")
        asked.append(candidates)
        evaluations = _evaluate(optimizee, candidates, gen, n_obj)
        failed = sum(not e.ok for e in evaluations)
        try:
            opt.tell(candidates, evaluations)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"failure-tolerant: tell() of generation {gen} ({failed} of "
                                 f"{len(evaluations)} evaluations failed) raised "
                                 f"{type(exc).__name__}: {exc}") from exc
    return asked


def _has_nan(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and bool(np.isnan(value).any())
    if isinstance(value, float):
        return value != value
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nan(v) for v in value)
    return False


def _started(cls: type[Optimizer], kwargs: dict[str, Any], problem: Problem) -> Optimizer:
    opt = cls(**kwargs)
    opt.start(problem)
    return opt


def _state_text(opt: Optimizer, where: str) -> str:
    try:
        return serialize.dumps(opt.state())
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"state-serialisable: state() {where} must hold JSON values and "
                             f"numpy arrays only (l2l.serialize.dumps failed: {exc})") from None


def check_optimizer(cls: type[Optimizer], optimizee: Optimizee | None = None,
                    generations: int = 6, seed: int = 0, **kwargs: Any) -> None:
    """Check the optimizer class ``cls``, built with the hyper-parameters ``kwargs``.

    Runs ``generations`` generations on ``optimizee`` (default :class:`LinearFit`), failing
    every evaluation of generation 1 and half of generation 2 on purpose. Rules: the
    constructor only stores its keyword arguments; ask() returns non-empty lists of valid,
    finite, in-bounds parameter dicts; two runs with the same seed ask the same candidates;
    state() survives ``l2l.serialize`` and a fresh optimizer restored with set_state()
    continues bit-identically; failed evaluations are tolerated (no exception, no NaN in the
    candidates or the state); with a ``population`` hyper-parameter (and none given), the
    smallest population the class declares (``min_population``, at least 2) works, and one
    below it is a ConfigError at ``start()``.
    """
    assert issubclass(cls, Optimizer), f"subclass: {cls.__name__} must subclass l2l.Optimizer"
    optimizee = optimizee if optimizee is not None else LinearFit()
    opt = cls(**kwargs)
    check_constructor(opt, picklable=False)
    targets = optimizee.targets()
    problem = Problem(optimizee.space(), optimizee.objectives(), seed,
                      None if targets is None else np.asarray(targets, dtype=float))
    n_obj = len(optimizee.objectives())
    reference = _started(cls, kwargs, problem)
    run_a = _run(reference, optimizee, 0, generations, n_obj)
    assert run_a, "ask-non-empty: the optimizer was done before its first generation"
    twin = _started(cls, kwargs, problem)
    run_b = _run(twin, optimizee, 0, generations, n_obj)
    assert same_value(run_a, run_b), (
        "deterministic: two runs with the same seed asked different candidates")
    # state round-trip: stop after `cut` generations, restore into a fresh optimizer, continue
    cut = max(1, min(3, len(run_a) - 1))
    original = _started(cls, kwargs, problem)
    _run(original, optimizee, 0, cut, n_obj)
    text = _state_text(original, f"after generation {cut - 1}")
    restored = _started(cls, kwargs, problem)
    restored.set_state(serialize.loads(text))
    assert _state_text(restored, "after set_state") == text, (
        "state-round-trip: state() of a restored optimizer differs from the state it was given")
    rest = len(run_a) - cut
    continued = _run(restored, optimizee, cut, rest, n_obj)
    assert same_value(continued, run_a[cut:]), (
        "resume-bit-identical: an optimizer restored with set_state(loads(dumps(state()))) "
        f"after generation {cut - 1} asked different candidates than the uninterrupted run")
    assert _state_text(restored, "after resuming") == _state_text(reference, "at the end"), (
        "resume-bit-identical: after resuming, the final state differs from the uninterrupted "
        "run's")
    assert not _has_nan(serialize.loads(_state_text(reference, "after failed generations"))), (
        "failure-tolerant: the state holds NaN after generations with failed evaluations")
    if "population" in cls._param_names() and "population" not in kwargs:
        _check_smallest_population(cls, kwargs, problem, optimizee, n_obj)
    if getattr(cls, "asynchronous", False):
        _check_async(cls, kwargs, problem, optimizee, n_obj)


def _async_steps(opt: Optimizer, optimizee: Optimizee, flight: list[tuple[int, Params]],
                 steps: int, first: int, n_obj: int) -> list[Params]:
    """Async mode as the loop drives it, 4 in flight: tell the second-oldest outstanding
    candidate (out of ask order; every fifth one failed on purpose), ask one more; the
    candidates asked."""
    asked = []
    for step in range(first, first + steps):
        while len(flight) < 4 and not opt.done:
            try:
                ticket, params = opt.ask_one()
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"async-ask-succeeds: ask_one() raised "
                                     f"{type(exc).__name__}: {exc}") from exc
            assert isinstance(ticket, (int, np.integer)), (
                f"async-ticket: ask_one() must return (int ticket, params), got {ticket!r:.60}")
            _check_candidates([params], optimizee.space(), f"ask_one, step {step}")
            flight.append((int(ticket), params))
            asked.append(params)
        if not flight:
            break
        ticket, params = flight.pop(1 if len(flight) > 1 else 0)
        ev = (Evaluation.failed("failure injected by check_optimizer") if step % 5 == 4
              else as_evaluation(optimizee.evaluate(params, step), n_obj))
        try:
            opt.tell_one(ticket, params, ev)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"async-tell-succeeds: tell_one() (ok={ev.ok}) raised "
                                 f"{type(exc).__name__}: {exc}") from exc
    return asked


def _check_async(cls: type[Optimizer], kwargs: dict[str, Any], problem: Problem,
                 optimizee: Optimizee, n_obj: int) -> None:
    """Async rules: ask_one/tell_one work out of order, and a state taken while candidates
    are in flight continues bit-identically in a fresh optimizer (the loop's resume)."""
    steps, cut = 40, 17
    reference = _started(cls, kwargs, problem)
    flight_a: list[tuple[int, Params]] = []
    asked_a = _async_steps(reference, optimizee, flight_a, steps, 0, n_obj)
    original = _started(cls, kwargs, problem)
    flight_b: list[tuple[int, Params]] = []
    before = _async_steps(original, optimizee, flight_b, cut, 0, n_obj)
    text = _state_text(original, f"in async mode after {cut} tells")
    restored = _started(cls, kwargs, problem)
    restored.set_state(serialize.loads(text))
    after = _async_steps(restored, optimizee, flight_b, steps - cut, cut, n_obj)
    assert same_value(before + after, asked_a), (
        "async-resume-bit-identical: an optimizer restored from state() taken with candidates "
        "in flight asked different candidates than the uninterrupted one")
    assert _state_text(restored, "after resuming") == _state_text(reference, "at the end"), (
        "async-resume-bit-identical: after resuming, the final state differs")


def _check_smallest_population(cls: type[Optimizer], kwargs: dict[str, Any], problem: Problem,
                               optimizee: Optimizee, n_obj: int) -> None:
    smallest = max(2, int(cls.min_population))
    try:
        small = _started(cls, {**kwargs, "population": smallest}, problem)
        _run(small, optimizee, 0, 4, n_obj)
    except Exception as exc:  # noqa: BLE001 - the rules broken at this population included
        detail = str(exc) if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
        raise AssertionError(
            f"smallest-population: population {smallest} failed ({detail}); "
            f"make it work, or declare the smallest that does as {cls.__name__}.min_population"
        ) from exc
    if cls.min_population > 1:
        below = cls(**{**kwargs, "population": cls.min_population - 1})
        try:
            below.start(problem)
        except ConfigError:
            return
        raise AssertionError(
            f"population-below-minimum: population {cls.min_population - 1} (below "
            f"min_population {cls.min_population}) must be a ConfigError at start(); call "
            "super().start(problem)")

