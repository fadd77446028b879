"""``check_optimizee``: the conformance suite an optimizee plugin runs in its tests.

>>> from l2l.testing import check_optimizee
>>> check_optimizee(MyModel(n_neurons=10))     # doctest: +SKIP

Each rule is an ``assert`` whose message starts with the rule's name, so a failing pytest run
says which part of the :class:`l2l.Optimizee` contract is broken.
"""

from __future__ import annotations

import json
import pickle
from typing import Any, Sequence

import numpy as np

from .. import serialize
from ..evaluation import Evaluation, Objectives, as_evaluation
from ..optimizee import Optimizee
from ..space import Params, Space


def same_value(a: Any, b: Any) -> bool:
    """Deep equality that understands numpy arrays (and NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.all((a == b) | ((a != a) & (b != b))))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return bool(a == b) or (a != a and b != b)


def check_constructor(obj: Any, allowed: Sequence[str] = (), picklable: bool = True) -> None:
    """Constructor rules shared by optimizees and executors (scikit-learn style).

    ``allowed``: attributes besides the keyword arguments the constructor may set.
    """
    cls = type(obj)
    names = cls._param_names()
    missing = [n for n in names if not hasattr(obj, n)]
    assert not missing, (f"constructor-stores-kwargs: {cls.__name__}.__init__ must store each "
                         f"keyword argument as an attribute of the same name; missing {missing}")
    params = obj.get_params()
    try:
        serialize.dumps(params)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"params-serialisable: the keyword arguments of {cls.__name__} must "
                             f"be JSON values or numpy arrays (they go into the store): {exc}") from None
    try:
        twin = cls(**params)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"get-params-round-trip: {cls.__name__}(**obj.get_params()) "
                             f"raised {type(exc).__name__}: {exc}") from None
    assert same_value(twin.get_params(), params), (
        f"get-params-round-trip: {cls.__name__}(**get_params()).get_params() differs: "
        f"{twin.get_params()!r} != {params!r}")
    # a keyword named like a method (``space``) is stored with a trailing underscore
    renamed = {f"{n}_" for n in names if callable(getattr(cls, n, None))}
    extra = sorted(k for k in vars(twin) if k not in names and k not in allowed and k not in renamed)
    assert not extra, (f"constructor-only-stores: {cls.__name__}.__init__ must only store its "
                       f"keyword arguments (do the work in setup()); it also sets {extra}")
    if not picklable:
        return
    try:
        pickle.loads(pickle.dumps(obj))
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"picklable: {cls.__name__} must be picklable before setup() "
                             f"(it is shipped to worker processes): {type(exc).__name__}: {exc}") from None


def _space(opt: Optimizee) -> Space:
    space = opt.space()
    assert isinstance(space, Space), (
        f"space-type: space() must return an l2l.Space, got {type(space).__name__}")
    assert len(space) > 0, "space-not-empty: space() has no parameters"
    text = json.dumps(space.to_json())
    assert Space.from_json(json.loads(text)) == space, (
        "space-json-round-trip: Space.from_json(space.to_json()) differs from space()")
    assert opt.space() == space, "space-stable: two calls of space() give different spaces"
    return space


def _objectives(opt: Optimizee) -> Objectives:
    obj = opt.objectives()
    assert isinstance(obj, Objectives), (
        f"objectives-type: objectives() must return l2l.Objectives, got {type(obj).__name__}")
    assert len(obj) >= 1, "objectives-not-empty: objectives() declares no objective"
    assert len(set(obj.names)) == len(obj.names), f"objectives-unique: duplicate names {obj.names}"
    assert Objectives.from_json(json.loads(json.dumps(obj.to_json()))) == obj, (
        "objectives-json-round-trip: Objectives.from_json(to_json()) differs")
    return obj


def _evaluate(opt: Optimizee, params: Params, seed: int, n_obj: int, what: str) -> Evaluation:
    try:
        raw = opt.evaluate(params, seed)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"evaluate-succeeds: {what} raised {type(exc).__name__}: {exc}") from None
    ev = as_evaluation(raw, n_obj)
    assert ev.ok, f"evaluate-valid: {what} gave a failed evaluation: {ev.error}"
    try:
        serialize.dumps({"info": ev.info, "observation": ev.observation})
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"evaluation-serialisable: {what}: info must hold JSON values or "
                             f"numpy arrays: {exc}") from None
    return ev


def _close(a: Evaluation, b: Evaluation, rtol: float) -> bool:
    fit = np.allclose(a.fitness, b.fitness, rtol=rtol, atol=0.0)
    if a.observation is None or b.observation is None:
        return fit and a.observation is None and b.observation is None
    return fit and a.observation.shape == b.observation.shape and np.allclose(
        a.observation, b.observation, rtol=rtol, atol=0.0)


def check_optimizee(obj: Optimizee, params: Sequence[Params] | None = None, samples: int = 3,
                    seed: int = 0, rtol: float = 1e-9) -> None:
    """Check ``obj`` (an optimizee instance, not set up) against the optimizee contract.

    Evaluates ``params`` (default: ``samples`` candidates drawn uniformly from the space with
    ``seed``) on a copy that went through pickling and ``setup()``, like a worker does.
    ``rtol`` is the relative tolerance for "the same result" (determinism, batch path).
    """
    assert isinstance(obj, Optimizee), f"subclass: {type(obj).__name__} must subclass l2l.Optimizee"
    check_constructor(obj)
    space = _space(obj)
    objectives = _objectives(obj)
    targets = obj.targets()
    if targets is not None:
        targets = np.asarray(targets, dtype=float)
        assert np.all(np.isfinite(targets)), "targets-finite: targets() has non-finite entries"
    rng = np.random.default_rng(seed)
    candidates = list(params) if params is not None else space.sample(rng, samples)
    assert candidates, "check_optimizee needs at least one parameter set"
    for p in candidates:
        space.validate(p)
    seeds = [int(s) for s in rng.integers(0, 2**31, size=len(candidates))]
    worker = pickle.loads(pickle.dumps(obj))
    try:
        worker.setup()
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"setup-succeeds: setup() raised {type(exc).__name__}: {exc}") from None
    n_obj = len(objectives)
    first = [_evaluate(worker, p, s, n_obj, f"evaluate(candidate {i}, seed={s})")
             for i, (p, s) in enumerate(zip(candidates, seeds))]
    if targets is not None:
        for i, ev in enumerate(first):
            assert ev.observation is not None, (
                f"observation-with-targets: targets() is given but candidate {i}'s evaluation "
                "has no observation")
            assert ev.observation.shape == targets.shape, (
                f"observation-shape: candidate {i}'s observation has shape "
                f"{ev.observation.shape}, targets() has {targets.shape}")
    again = [_evaluate(worker, p, s, n_obj, f"evaluate(candidate {i}) repeated")
             for i, (p, s) in enumerate(zip(candidates, seeds))]
    for i, (a, b) in enumerate(zip(first, again)):
        assert _close(a, b, rtol), (f"deterministic: evaluating candidate {i} twice with seed "
                                    f"{seeds[i]} gave {a.fitness} and {b.fitness}")
    if type(obj).has_batch():
        try:
            batch = worker.evaluate_batch(candidates, seeds)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"batch-succeeds: evaluate_batch raised "
                                 f"{type(exc).__name__}: {exc}") from None
        assert len(batch) == len(candidates), (
            f"batch-length: evaluate_batch returned {len(batch)} results for {len(candidates)}")
        for i, (raw, single) in enumerate(zip(batch, first)):
            ev = as_evaluation(raw, n_obj)
            assert ev.ok, f"batch-valid: evaluate_batch result {i} failed: {ev.error}"
            assert _close(ev, single, rtol), (
                f"batch-equals-single: evaluate_batch result {i} {ev.fitness} differs from "
                f"evaluate() {single.fitness}")
    for i, (p, s) in enumerate(zip(candidates, seeds)):
        try:
            raw = worker.validate(p, s)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"validate-succeeds: validate(candidate {i}) raised "
                                 f"{type(exc).__name__}: {exc}") from None
        if raw is not None:
            ev = as_evaluation(raw, n_obj)
            assert ev.ok, f"validate-valid: validate(candidate {i}) failed: {ev.error}"
    try:
        worker.teardown()
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"teardown-succeeds: teardown() raised {type(exc).__name__}: {exc}") from None
