"""Learning to learn: an optimizee whose evaluation is a whole inner optimization.

The outer individual holds hyper-parameters of the inner optimizer and/or keyword arguments of
the inner optimizee; each evaluation builds both, runs the inner loop in-process with the
evaluation's seed as the inner run's seed, and returns what it reached: the inner optimizee's
``score`` held-out score (default ``"validation"``, :meth:`~l2l.Optimizee.validate`) of the
inner best parameters when it offers one, else the inner best fitness.

Inner seeds are outer repeats: ``[experiment] repeats = 5`` scores every hyper-parameter set
by five inner runs with different seeds (initial ensembles, populations, noise) and tells the
outer optimizer their mean. ``budget`` fixes the inner evaluations, so that hyper-parameter
sets compete at equal cost: the inner run gets ``budget // population`` generations of its
optimizer's population. ``l2l validate`` of an outer run reports, per fresh inner seed, the
inner best's score on every held-out part of the inner optimizee (e.g. digits' test images).
"""

from __future__ import annotations

import inspect
import json
from collections import OrderedDict
from typing import Any, Mapping

from .errors import ConfigError
from .evaluation import Evaluation, Individual, Objectives, as_evaluation
from .executors.serial import SerialExecutor
from .optimizee import Optimizee
from .space import Params, Space

#: inner runs remembered per worker, so that held-out scores of one (parameters, seed) reuse it
INNER_CACHE = 8


class _SetUp(SerialExecutor):
    """In-process executor for an inner optimizee that is already set up."""

    def start(self, optimizee: Optimizee) -> None:
        self._optimizee = optimizee

    def close(self) -> None:
        self._optimizee = None  # type: ignore[assignment]


class MetaOptimizee(Optimizee):
    """The L2L two-loop scheme with any registered parts.

    ``optimizee``: table of the inner optimizee (``{name = "...", ...}``); ``optimizer``: table
    of the inner optimizer; ``space``: the outer parameters, each named ``optimizer.KEY`` or
    ``optimizee.KEY`` with its bounds (``{"optimizer.population" = {type = "int", low = 4,
    high = 32}}``); ``generations``: inner generations per outer evaluation, or ``budget``:
    inner evaluations (then ``budget // population`` generations, population being the inner
    optimizer's, 1 at least); ``score``: the inner optimizee's held-out score that is the outer
    fitness (None: its best training fitness).
    """

    fresh_seeds = "a new inner run with a new seed, its best scored as in training"

    def __init__(self, optimizee: Mapping[str, Any] | None = None,
                 optimizer: Mapping[str, Any] | None = None,
                 space: Mapping[str, Mapping[str, Any]] | None = None, generations: int = 10,
                 budget: int | None = None, score: str | None = "validation"):
        self.optimizee = optimizee
        self.optimizer = optimizer
        self.space_ = space
        self.generations = generations
        self.budget = budget
        self.score = score

    def get_params(self) -> dict[str, Any]:
        return {"optimizee": self.optimizee, "optimizer": self.optimizer, "space": self.space_,
                "generations": self.generations, "budget": self.budget, "score": self.score}

    def _tables(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if not self.optimizee or not self.optimizer or not self.space_:
            raise ConfigError("meta optimizee: 'optimizee', 'optimizer' and 'space' tables are needed")
        return dict(self.optimizee), dict(self.optimizer)

    def space(self) -> Space:
        self._tables()
        bad = [k for k in self.space_ or {} if k.split(".", 1)[0] not in ("optimizer", "optimizee")
               or "." not in k]
        if bad:
            raise ConfigError(f"meta optimizee: space keys must start with 'optimizer.' or "
                              f"'optimizee.': {bad}")
        if self.budget is not None and int(self.budget) < 1:
            raise ConfigError(f"meta optimizee: budget must be at least 1, got {self.budget}")
        return Space.from_config(self.space_ or {})

    def _inner_optimizee(self, overrides: dict[str, Any]) -> Optimizee:
        from .config import build_part
        from .plugins import get_plugins

        table = {**self._tables()[0], **overrides}
        key = json.dumps(table, sort_keys=True, default=str)
        cache: dict[str, Optimizee] = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            inst = build_part(get_plugins(), "optimizees", table)
            inst.setup()
            cache.clear()
            cache[key] = inst
        return cache[key]

    def objectives(self) -> Objectives:
        from .config import build_part
        from .plugins import get_plugins

        return build_part(get_plugins(), "optimizees", self._tables()[0]).objectives()

    def defaults(self) -> Params:
        """The outer parameters at the values the inner tables give them, else at the inner
        classes' constructor defaults: the baseline that learning to learn must beat."""
        from .plugins import get_plugins

        plugins = get_plugins()
        tables = dict(zip(("optimizee", "optimizer"), self._tables()))
        out: Params = {}
        for key in self.space().names:
            where, name = key.split(".", 1)
            table = tables[where]
            if name in table:
                out[key] = table[name]
                continue
            cls = plugins.get(f"{where}s", table["name"])
            param = inspect.signature(cls.__init__).parameters.get(name)
            if param is None or param.default is inspect.Parameter.empty:
                raise ConfigError(f"meta optimizee: {key} has no default in {table['name']}")
            out[key] = param.default
        return out

    def baselines(self) -> dict[str, Params]:
        """``defaults``: the inner parts as configured, without learning (:meth:`defaults`)."""
        return {"defaults": self.defaults()}

    def inner_generations(self, population: int) -> int:
        """Inner generations for an inner optimizer of ``population``."""
        if self.budget is None:
            return int(self.generations)
        return max(1, int(self.budget) // max(1, int(population)))

    def _inner_run(self, params: Params, seed: int) -> tuple[Optimizee, Individual, dict[str, Any]]:
        """Run (or recall) the inner optimization of ``params`` with ``seed``."""
        from .config import build_part
        from .experiment import Experiment
        from .plugins import get_plugins

        parts: dict[str, dict[str, Any]] = {"optimizer": {}, "optimizee": {}}
        for key, value in params.items():
            where, name = key.split(".", 1)
            parts[where][name] = value.tolist() if hasattr(value, "tolist") else value
        memo_key = json.dumps([parts, int(seed)], sort_keys=True, default=str)
        memo: OrderedDict[str, Any] = self.__dict__.setdefault("_runs", OrderedDict())
        if memo_key in memo:
            memo.move_to_end(memo_key)
            return memo[memo_key]
        inner = self._inner_optimizee(parts["optimizee"])
        optimizer = build_part(get_plugins(), "optimizers", {**self._tables()[1], **parts["optimizer"]})
        population = getattr(optimizer, "population", None) or 1
        result = Experiment(inner, optimizer, _SetUp(), seed=seed,
                            generations=self.inner_generations(population), name="inner").run()
        if result.best is None:
            raise RuntimeError("inner run produced no successful evaluation")
        info = {"inner_history": result.history, "inner_evaluations": result.evaluations,
                "inner_best_fitness": list(result.best.evaluation.fitness)}
        memo[memo_key] = (inner, result.best, info)
        while len(memo) > INNER_CACHE:
            memo.popitem(last=False)
        return memo[memo_key]

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        try:
            inner, best, info = self._inner_run(params, seed)
        except RuntimeError as exc:
            return Evaluation.failed(str(exc))
        n_obj = len(inner.objectives())
        score = None
        if self.score is not None and self.score in inner.held_out():
            score = inner.score_held_out(self.score, best.params, seed)
        ev = best.evaluation if score is None else as_evaluation(score, n_obj)
        return Evaluation(fitness=ev.fitness, info=dict(info), status=ev.status, error=ev.error)

    def held_out(self) -> dict[str, str]:
        """Every held-out score of the inner optimizee, of the best of an inner run."""
        inner = self._inner_optimizee({})
        return {name: f"inner run with a new seed, its best scored on: {text}"
                for name, text in inner.held_out().items()}

    def score_held_out(self, name: str, params: Params, seed: int) -> Evaluation:
        inner, best, info = self._inner_run(params, seed)
        ev = as_evaluation(inner.score_held_out(name, best.params, seed), len(inner.objectives()))
        ev.info = {**ev.info, "inner_evaluations": info["inner_evaluations"]}
        return ev
