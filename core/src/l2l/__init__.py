"""l2l: gradient-free and meta-learning optimization of neuroscience models, as plugins."""

from __future__ import annotations

from .config import build, experiment_from_config, load_config
from .errors import ConfigError, EvaluationError, ExecutorError, L2LError, PluginError, SetupError, StoreError
from .evaluation import MAX, MIN, Evaluation, Individual, Objectives
from .executor import Executor, Task, run_tasks
from .experiment import Experiment, RunInfo, RunResult, Stop
from .hookspecs import hookimpl
from .noise import Noise
from .optimizee import Optimizee
from .optimizer import Optimizer, Problem, VectorOptimizer
from .plugins import Plugins, Registry, get_plugins
from .space import Categorical, Float, Int, Space
from .store import Store

__version__ = "0.1.0"

__all__ = [
    "MAX", "MIN", "Categorical", "ConfigError", "Evaluation", "EvaluationError", "Executor",
    "ExecutorError", "Experiment", "Float", "Individual", "Int", "L2LError", "Noise", "Objectives",
    "Optimizee", "Optimizer", "PluginError", "Plugins", "Problem", "Registry", "RunInfo",
    "RunResult", "SetupError", "Space", "Stop", "Store", "StoreError", "Task", "VectorOptimizer", "build",
    "experiment_from_config", "get_plugins", "hookimpl", "load_config", "run_tasks",
]
