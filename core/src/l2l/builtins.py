"""The built-in parts of ``l2l-core``, registered through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl
from .plugins import Registry


@hookimpl
def l2l_register_optimizers(registry: Registry) -> None:
    from .optimizers.ga import GeneticAlgorithm
    from .optimizers.random_search import RandomSearch

    registry.add("random", RandomSearch)
    registry.add("ga", GeneticAlgorithm)


@hookimpl
def l2l_register_optimizees(registry: Registry) -> None:
    from .meta import MetaOptimizee
    from .optimizees.functions import FunctionOptimizee

    registry.add("function", FunctionOptimizee)
    registry.add("meta", MetaOptimizee)


@hookimpl
def l2l_register_executors(registry: Registry) -> None:
    from .executors.process import ProcessExecutor
    from .executors.serial import SerialExecutor

    registry.add("serial", SerialExecutor)
    registry.add("process", ProcessExecutor)
