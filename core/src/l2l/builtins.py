"""The built-in parts of ``l2l-core``, registered through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl
from .plugins import Registry


@hookimpl
def l2l_register_optimizers(registry: Registry) -> None:
    from .optimizers.annealing import SimulatedAnnealing
    from .optimizers.auto import Auto
    from .optimizers.cmaes import CMAES
    from .optimizers.cross_entropy import CrossEntropy
    from .optimizers.enkf import EnsembleKalmanFilter
    from .optimizers.evolution_strategies import EvolutionStrategies
    from .optimizers.face import FACE
    from .optimizers.ga import GeneticAlgorithm
    from .optimizers.gradient_descent import GradientDescent
    from .optimizers.grid_search import GridSearch
    from .optimizers.natural_es import SeparableNES
    from .optimizers.random_search import RandomSearch
    from .optimizers.tempering import ParallelTempering

    registry.add("random", RandomSearch)
    registry.add("ga", GeneticAlgorithm)
    registry.add("ce", CrossEntropy)
    registry.add("face", FACE)
    registry.add("es", EvolutionStrategies)
    registry.add("nes", SeparableNES)
    registry.add("gd", GradientDescent)
    registry.add("sa", SimulatedAnnealing)
    registry.add("pt", ParallelTempering)
    registry.add("gs", GridSearch)
    registry.add("enkf", EnsembleKalmanFilter)
    registry.add("cmaes", CMAES)
    registry.add("auto", Auto)


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
