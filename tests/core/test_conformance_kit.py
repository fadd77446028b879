"""The conformance kit passes on the built-ins and names the rule a broken part breaks."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest

from l2l import (Categorical, ConfigError, Evaluation, Float, Objectives, Optimizee, Problem, Space,
                 VectorOptimizer, build)
from l2l.executor import run_tasks
from l2l.executors.process import ProcessExecutor
from l2l.executors.serial import SerialExecutor
from l2l.testing import check_executor, check_optimizee, check_optimizer
from l2l.testing.optimizer import LinearFit


@pytest.mark.parametrize("kwargs", [
    {"function": "sphere", "dimension": 3},
    {"function": "rastrigin", "dimension": 5, "noise": 0.3},
    {"function": "rosenbrock", "dimension": 2, "shift": 0.5, "bound": 2.0},
])
def test_function_optimizee_conforms(kwargs):
    check_optimizee(build("optimizee", "function", **kwargs))


def test_meta_optimizee_conforms():
    # ``space`` is stored as ``space_`` (the name of a method): allowed for method clashes
    check_optimizee(build("optimizee", "meta", generations=2,
                          optimizee={"name": "function", "function": "sphere", "dimension": 2},
                          optimizer={"name": "ga", "population": 6},
                          space={"optimizer.mutation_sigma": {"low": 0.01, "high": 0.5}}),
                    samples=2)


def test_check_optimizee_uses_given_params():
    check_optimizee(build("optimizee", "function", dimension=2),
                    params=[{"x": np.zeros(2)}, {"x": np.array([1.0, -1.0])}])


@pytest.mark.parametrize("kwargs", [{}, {"batch": False}, {"batch": True}])
def test_serial_executor_conforms(kwargs):
    check_executor(SerialExecutor, **kwargs)


@pytest.mark.parametrize("kwargs", [{"workers": 2}, {"workers": 1, "chunk": 1}])
def test_process_executor_conforms(kwargs):
    check_executor(ProcessExecutor, **kwargs)


# -- broken optimizees -------------------------------------------------------------------------
class Quadratic(Optimizee):
    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def space(self) -> Space:
        return Space([Float("a", -1.0, 1.0), Float("b", -1.0, 1.0)])

    def evaluate(self, params, seed):
        return self.scale * (params["a"] ** 2 + params["b"] ** 2)


class WorksInConstructor(Quadratic):
    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.table = np.zeros(10)


class RenamesArgument(Quadratic):
    def __init__(self, scale: float = 1.0):
        self.factor = scale


class UnserialisableArgument(Quadratic):
    def __init__(self, scale: object = None):
        self.scale = scale if scale is not None else object()


class Unseeded(Quadratic):
    def evaluate(self, params, seed):
        return super().evaluate(params, seed) + np.random.default_rng().uniform()


class BatchDiffers(Quadratic):
    def evaluate_batch(self, params, seeds):
        return [self.evaluate(p, s) + 1.0 for p, s in zip(params, seeds)]


class BatchTooShort(Quadratic):
    def evaluate_batch(self, params, seeds):
        return [self.evaluate(p, s) for p, s in zip(params[1:], seeds[1:])]


class ObservationShape(Quadratic):
    def targets(self):
        return np.zeros(3)

    def evaluate(self, params, seed):
        return Evaluation(fitness=(params["a"],), observation=np.zeros(2))


class NoObservation(ObservationShape):
    def evaluate(self, params, seed):
        return params["a"]


class Raises(Quadratic):
    def evaluate(self, params, seed):
        raise RuntimeError("simulator exploded")


class TwoValuesForOneObjective(Quadratic):
    def evaluate(self, params, seed):
        return (1.0, 2.0)


class TupleChoices(Quadratic):
    def space(self) -> Space:
        return Space([Categorical("pair", [(1, 2), (3, 4)])])


class DuplicateObjectives(Quadratic):
    def objectives(self) -> Objectives:
        return Objectives(("loss", "loss"), ("min", "min"))


class SetupFails(Quadratic):
    def setup(self) -> None:
        raise OSError("data file missing")


class NotAnOptimizee:
    pass


@pytest.mark.parametrize("obj, rule", [
    (WorksInConstructor(), "constructor-only-stores"),
    (RenamesArgument(), "constructor-stores-kwargs"),
    (UnserialisableArgument(), "params-serialisable"),
    (Unseeded(), "deterministic"),
    (BatchDiffers(), "batch-equals-single"),
    (BatchTooShort(), "batch-length"),
    (ObservationShape(), "observation-shape"),
    (NoObservation(), "observation-with-targets"),
    (Raises(), "evaluate-succeeds"),
    (TwoValuesForOneObjective(), "evaluate-valid"),
    (TupleChoices(), "space-json-round-trip"),
    (DuplicateObjectives(), "objectives-unique"),
    (SetupFails(), "setup-succeeds"),
    (NotAnOptimizee(), "subclass"),
])
def test_check_optimizee_names_the_broken_rule(obj, rule):
    with pytest.raises(AssertionError, match=rule):
        check_optimizee(obj)


def test_check_optimizee_requires_picklable_before_setup():
    class Local(Quadratic):  # a local class cannot be pickled by reference
        pass

    with pytest.raises(AssertionError, match="picklable"):
        check_optimizee(Local())


def test_a_correct_optimizee_passes():
    check_optimizee(Quadratic(scale=2.0))


# -- broken executors --------------------------------------------------------------------------
class DropsLastTask(SerialExecutor):
    def map(self, tasks):
        yield from list(super().map(tasks))[:-1]


class RepeatsATask(SerialExecutor):
    def map(self, tasks):
        pairs = list(super().map(tasks))
        yield from pairs + pairs[:1]


class WrongSeed(SerialExecutor):
    def submit(self, tasks):
        fut: Future = Future()
        fut.set_result(run_tasks(self._optimizee, [type(t)(t.index, t.params, 0) for t in tasks]))
        return fut


class PropagatesExceptions(SerialExecutor):
    def submit(self, tasks):
        fut: Future = Future()
        fut.set_result([Evaluation(fitness=tuple(self._optimizee.evaluate(t.params, t.seed).fitness))
                        for t in tasks])
        return fut


class SkipsSetup(SerialExecutor):
    def start(self, optimizee):
        self._optimizee = optimizee


class CloseOnce(SerialExecutor):
    def close(self):
        if getattr(self, "closed", False):
            raise RuntimeError("already closed")
        super().close()
        self.closed = True


class ForgetsOrder(SerialExecutor):
    def submit(self, tasks):
        fut = super().submit(tasks)
        return_value = list(reversed(fut.result()))
        out: Future = Future()
        out.set_result(return_value)
        return out


@pytest.mark.parametrize("cls, rule", [
    (DropsLastTask, "each-task-once"),
    (RepeatsATask, "each-task-once"),
    (WrongSeed, "deterministic-vs-serial"),
    (PropagatesExceptions, "executor-never-raises"),
    (SkipsSetup, "setup"),
    (CloseOnce, "close-idempotent"),
    (ForgetsOrder, "submit"),
])
def test_check_executor_names_the_broken_rule(cls, rule):
    with pytest.raises(AssertionError, match=rule):
        check_executor(cls)


class SwallowsSetupFailure(SerialExecutor):
    """Sets up lazily in submit() and turns a failing setup into failed evaluations."""

    def start(self, optimizee):
        self._optimizee, self._ready = optimizee, False

    def submit(self, tasks):
        fut: Future = Future()
        try:
            if not self._ready:
                self._optimizee.setup()
                self._ready = True
            fut.set_result(run_tasks(self._optimizee, tasks))
        except Exception as exc:  # noqa: BLE001 - the mistake this rule catches
            fut.set_result([Evaluation.failed(str(exc)) for _ in tasks])
        return fut


class RaisesPlainErrorOnSetup(SwallowsSetupFailure):
    """Lets the setup's exception out of map() as it is, not as a SetupError."""

    def submit(self, tasks):
        if not self._ready:
            self._optimizee.setup()
            self._ready = True
        return super().submit(tasks)


@pytest.mark.parametrize("cls, rule", [
    (SwallowsSetupFailure, "setup-failure-stops-the-run"),
    (RaisesPlainErrorOnSetup, "setup-failure-is-setuperror"),
])
def test_check_executor_requires_a_failing_setup_to_stop_the_run(cls, rule):
    with pytest.raises(AssertionError, match=rule):
        check_executor(cls)


# -- optimizers that need a minimum population -----------------------------------------------
class NeedsFour(VectorOptimizer):
    """Fails below four members (like differential evolution) unless it declares it."""

    min_population = 4

    def __init__(self, population: int = 8):
        self.population = population

    def ask_vectors(self):
        if int(self.population) < 4:
            raise ValueError("needs four members")
        return self.space.sample_vectors(self.rng, int(self.population))

    def tell_losses(self, vectors, losses, evaluations):
        pass


class NeedsFourUndeclared(NeedsFour):
    min_population = 1


class NeedsFourUnchecked(NeedsFour):
    def start(self, problem):
        self.problem, self.rng = problem, np.random.default_rng(problem.seed)


def test_check_optimizer_runs_the_declared_smallest_population():
    check_optimizer(NeedsFour)  # population 4 is run, 3 must be refused at start()
    with pytest.raises(ConfigError, match="population must be at least 4, got 3"):
        NeedsFour(population=3).start(Problem(LinearFit().space(), Objectives(), 0))


@pytest.mark.parametrize("cls, rule", [
    (NeedsFourUndeclared, "smallest-population: population 2 failed .*min_population"),
    (NeedsFourUnchecked, "population-below-minimum"),
])
def test_check_optimizer_names_the_population_rule(cls, rule):
    with pytest.raises(AssertionError, match=rule):
        check_optimizer(cls)
