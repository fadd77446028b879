"""``check_executor``: the conformance suite an executor plugin runs in its tests.

>>> from l2l.testing import check_executor
>>> check_executor(MyExecutor, workers=2)      # doctest: +SKIP

The executor is driven through its whole life cycle with a small probe optimizee (importable
from this module, so worker processes can unpickle it) whose evaluations succeed, raise or
return NaN depending on the parameters; every outcome is compared with an in-process run of
the same tasks. Assertion messages start with the name of the broken rule.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import SetupError
from ..evaluation import Evaluation, Objectives
from ..executor import Executor, Task, run_tasks
from ..optimizee import Optimizee
from ..space import Float, Params, Space
from .optimizee import check_constructor

RAISE_ABOVE = 0.9
NAN_BELOW = -0.9


class ProbeOptimizee(Optimizee):
    """``x`` in [-1, 1]; raises above 0.9, returns NaN below -0.9; needs ``setup()`` first.

    Fitness and observation depend on the seed, so a task run with the wrong seed shows.
    """

    def space(self) -> Space:
        return Space([Float("x", -1.0, 1.0)])

    def objectives(self) -> Objectives:
        return Objectives(("error", "seed_term"), ("min", "max"))

    def setup(self) -> None:
        self._ready = True

    def _values(self, x: float, seed: int) -> tuple[tuple[float, float], np.ndarray]:
        if not getattr(self, "_ready", False):
            raise RuntimeError("setup() was not called in this worker")
        if x > RAISE_ABOVE:
            raise ValueError(f"probe: x={x:.3f} is above {RAISE_ABOVE}")
        if x < NAN_BELOW:
            return (float("nan"), 0.0), np.array([x, 0.0])
        jitter = np.random.default_rng(seed).uniform()
        return ((x - 0.3) ** 2 + 1e-3 * jitter, float(seed % 97)), np.array([x, jitter])

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        fitness, obs = self._values(float(params["x"]), seed)
        return Evaluation(fitness=fitness, observation=obs, info={"path": "single"})


class BatchProbeOptimizee(ProbeOptimizee):
    """The probe with a batch path (one call for many parameter sets)."""

    def evaluate_batch(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Any]:
        out = []
        for p, s in zip(params, seeds):
            fitness, obs = self._values(float(p["x"]), s)
            out.append(Evaluation(fitness=fitness, observation=obs, info={"path": "batch"}))
        return out


SETUP_FAILURE = "probe: setup() fails on purpose"


class BrokenSetupProbe(ProbeOptimizee):
    """The probe whose ``setup()`` raises: an executor must fail the run, not evaluate."""

    def setup(self) -> None:
        raise RuntimeError(SETUP_FAILURE)


def probe_tasks(n: int = 13, offset: int = 0) -> list[Task]:
    """``n`` tasks with distinct parameters and seeds; index 2 raises, index 5 returns NaN."""
    xs = np.linspace(-0.85, 0.85, n)
    xs[2 % n], xs[5 % n] = 0.95, -0.95
    return [Task(i, {"x": float(x) + offset * 1e-3}, 1000 + 7 * i + offset)
            for i, x in enumerate(xs)]


def _reference(probe: ProbeOptimizee, tasks: Sequence[Task]) -> list[Evaluation]:
    local = type(probe)()
    local.setup()
    return run_tasks(local, tasks, batch=False)


def _check_outcomes(pairs: list[tuple[Task, Evaluation]], tasks: Sequence[Task],
                    reference: Sequence[Evaluation], what: str) -> None:
    by_index: dict[int, list[Evaluation]] = {}
    for task, ev in pairs:
        assert isinstance(task, Task) and isinstance(ev, Evaluation), (
            f"map-yields-pairs: {what} must yield (Task, Evaluation) pairs, got "
            f"({type(task).__name__}, {type(ev).__name__})")
        assert 0 <= task.index < len(tasks) and task.params == tasks[task.index].params \
            and task.seed == tasks[task.index].seed, (
                f"map-returns-its-tasks: {what} yielded a task that was not submitted: {task}")
        by_index.setdefault(task.index, []).append(ev)
    twice = sorted(i for i, evs in by_index.items() if len(evs) > 1)
    missing = sorted(set(range(len(tasks))) - set(by_index))
    assert not twice, f"each-task-once: {what} returned tasks {twice} more than once"
    assert not missing, f"each-task-once: {what} never returned tasks {missing}"
    for i, ref in enumerate(reference):
        _same_outcome(by_index[i][0], ref, f"{what}, task {i}")


def _same_outcome(ev: Evaluation, ref: Evaluation, what: str) -> None:
    if not ref.ok:
        assert not ev.ok, f"failures-recorded: {what} should have failed ({ref.error}) but is ok"
        if "ValueError" in (ref.error or ""):
            assert "ValueError" in (ev.error or ""), (
                f"exceptions-become-failures: {what}: the reason should name the exception "
                f"(ValueError), got {ev.error!r}")
        if "non-finite" in (ref.error or ""):
            assert "non-finite" in (ev.error or ""), (
                f"nan-becomes-failure: {what}: a NaN fitness must be a failure saying "
                f"'non-finite', got {ev.error!r}")
        return
    assert ev.ok, f"evaluations-succeed: {what} failed: {ev.error}"
    assert ev.fitness == ref.fitness, (
        f"deterministic-vs-serial: {what} has fitness {ev.fitness}, the serial run "
        f"{ref.fitness} (wrong seed or parameters sent?)")
    assert ev.observation is not None and ref.observation is not None \
        and np.array_equal(ev.observation, ref.observation), (
        f"observation-returned: {what} lost or changed its observation array")
    assert isinstance(ev.worker, str) and ev.worker, (
        f"worker-recorded: {what} has no worker name (use l2l.run_tasks on the worker side)")


def check_executor(cls: type, *, timeout: float = 120.0, **kwargs: Any) -> None:
    """Check the executor class ``cls`` (built with ``kwargs``) against the executor contract.

    Rules: constructor stores only its keyword arguments; ``start`` sets the optimizee up on
    every worker; ``submit`` returns a future of evaluations in task order; ``map`` yields
    every task exactly once as ``(task, evaluation)``; exceptions and NaNs come back as failed
    evaluations with their reason; outcomes equal an in-process run (same seeds); the executor
    serves several generations and the batch path; ``close`` is idempotent, also before
    ``start``; an optimizee whose ``setup()`` fails makes ``start()`` raise, or ``map()`` raise
    :class:`~l2l.errors.SetupError`, never returns evaluations.
    """
    assert issubclass(cls, Executor), f"subclass: {cls.__name__} must subclass l2l.Executor"
    try:
        cls(**kwargs).close()
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"close-before-start: close() on a never started executor raised "
                             f"{type(exc).__name__}: {exc}") from None
    for probe in (ProbeOptimizee(), BatchProbeOptimizee()):
        executor = cls(**kwargs)
        check_constructor(executor, allowed=("workers",), picklable=False)
        assert isinstance(executor.workers, int) and executor.workers >= 1, (
            f"workers: executor.workers must be a positive int, got {executor.workers!r}")
        kind = "batch probe" if probe.has_batch() else "probe"
        tasks, later = probe_tasks(), probe_tasks(7, offset=1)
        try:
            executor.start(probe)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"start-succeeds: start({kind}) raised "
                                 f"{type(exc).__name__}: {exc}") from None
        try:
            _drive(executor, probe, kind, tasks, later, timeout)
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"executor-never-raises: driving the executor ({kind}) raised "
                                 f"{type(exc).__name__}: {exc}; failures must come back as "
                                 "failed evaluations") from None
        finally:
            executor.close()
        try:
            executor.close()
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"close-idempotent: a second close() raised "
                                 f"{type(exc).__name__}: {exc}") from None
    _check_setup_failure(cls, kwargs)


def _chain(exc: BaseException | None) -> str:
    """The messages of an exception and its causes."""
    out = []
    while exc is not None:
        out.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return " <- ".join(out)


def _check_setup_failure(cls: type, kwargs: dict[str, Any]) -> None:
    """A failing ``setup()`` must stop the run: ``start()`` raises (any exception: the core
    names the optimizee), or ``submit()``/``map()`` raise :class:`~l2l.errors.SetupError`;
    never evaluations."""
    executor = cls(**kwargs)
    try:
        try:
            executor.start(BrokenSetupProbe())
        except Exception as exc:  # noqa: BLE001
            assert SETUP_FAILURE in _chain(exc), (
                f"setup-failure-reported: start() raised {_chain(exc)}, which does not carry the "
                f"optimizee's own error ({SETUP_FAILURE!r})")
            return
        try:
            got = list(executor.map(probe_tasks(4)))
        except SetupError as exc:
            assert SETUP_FAILURE in str(exc), (
                f"setup-failure-reported: the SetupError ({exc}) does not carry the optimizee's "
                f"own error ({SETUP_FAILURE!r})")
            return
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                f"setup-failure-is-setuperror: with an optimizee whose setup() fails, map() raised "
                f"{_chain(exc)}; raise l2l.SetupError (l2l.executor.setup_optimizee and "
                "l2l.executor.prepared do)") from None
        raise AssertionError(
            f"setup-failure-stops-the-run: the optimizee's setup() failed, yet the executor "
            f"returned {len(got)} evaluations; raise l2l.SetupError from start() or map() "
            "(l2l.executor.setup_optimizee / prepared), never failed evaluations")
    finally:
        executor.close()


def _drive(executor: Executor, probe: ProbeOptimizee, kind: str, tasks: list[Task],
           later: list[Task], timeout: float) -> None:
    """Submit one chunk, map two generations and an empty list."""
    future = executor.submit(tasks[:4])
    chunk = future.result(timeout=timeout)
    assert len(chunk) == 4, f"submit-length: submit(4 tasks) gave {len(chunk)} evaluations"
    for i, (ev, ref) in enumerate(zip(chunk, _reference(probe, tasks[:4]))):
        _same_outcome(ev, ref, f"submit ({kind}), position {i} (results in task order)")
    _check_outcomes(list(executor.map(tasks)), tasks, _reference(probe, tasks),
                    f"map ({kind}, generation 1)")
    _check_outcomes(list(executor.map(later)), later, _reference(probe, later),
                    f"map ({kind}, generation 2)")
    assert list(executor.map([])) == [], "empty-map: map([]) must yield nothing"
