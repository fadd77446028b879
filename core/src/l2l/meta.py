"""Learning to learn: an optimizee whose evaluation is a whole inner optimization.

The outer individual holds hyper-parameters of the inner optimizer and/or keyword arguments of
the inner optimizee; each evaluation builds both, runs the inner loop in-process for
``generations`` and returns what it reached: the inner optimizee's :meth:`~l2l.Optimizee.validate`
score of the inner best parameters when it has one, else the inner best fitness.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from .errors import ConfigError
from .evaluation import Evaluation, Objectives, as_evaluation
from .executors.serial import SerialExecutor
from .optimizee import Optimizee
from .space import Params, Space


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
    high = 32}}``); ``generations``: inner generations per outer evaluation.
    """

    def __init__(self, optimizee: Mapping[str, Any] | None = None,
                 optimizer: Mapping[str, Any] | None = None,
                 space: Mapping[str, Mapping[str, Any]] | None = None, generations: int = 10):
        self.optimizee = optimizee
        self.optimizer = optimizer
        self.space_ = space
        self.generations = generations

    def get_params(self) -> dict[str, Any]:
        return {"optimizee": self.optimizee, "optimizer": self.optimizer, "space": self.space_,
                "generations": self.generations}

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

    def evaluate(self, params: Params, seed: int) -> Evaluation:
        from .config import build_part
        from .experiment import Experiment
        from .plugins import get_plugins

        parts: dict[str, dict[str, Any]] = {"optimizer": {}, "optimizee": {}}
        for key, value in params.items():
            where, name = key.split(".", 1)
            parts[where][name] = value.tolist() if hasattr(value, "tolist") else value
        inner = self._inner_optimizee(parts["optimizee"])
        optimizer = build_part(get_plugins(), "optimizers", {**self._tables()[1], **parts["optimizer"]})
        result = Experiment(inner, optimizer, _SetUp(), seed=seed, generations=int(self.generations),
                            name="inner").run()
        if result.best is None:
            return Evaluation.failed("inner run produced no successful evaluation")
        n_obj = len(inner.objectives())
        score = inner.validate(result.best.params, seed)
        ev = result.best.evaluation if score is None else as_evaluation(score, n_obj)
        info = {"inner_history": result.history, "inner_evaluations": result.evaluations,
                "inner_best_fitness": list(result.best.evaluation.fitness)}
        return Evaluation(fitness=ev.fitness, info=info, status=ev.status, error=ev.error)
