"""The exception hierarchy of l2l.

Every error a user or a plugin can cause derives from :class:`L2LError`; the CLI turns those
into one line on stderr and exit status 2 (``--debug`` shows the traceback)::

    L2LError
    ├── ConfigError        bad input: config, CLI arguments, names, keyword arguments
    ├── PluginError        a plugin failed to load, or its code raised at a run's boundary
    ├── StoreError         the results store cannot be opened or lacks a run
    ├── EvaluationError    raised by an optimizee: the evaluation fails with this reason
    └── ExecutorError      an executor cannot start, or lost its workers beyond recovery
        └── SetupError     an optimizee's setup() failed on a worker: the run cannot go on

A failing *evaluation* is never an exception to the run: it is recorded as failed with its
reason. Everything else plugin code raises where a run starts (an optimizer's ``start()``, an
optimizee's ``space()``, ``objectives()``, ``targets()`` or ``setup()``, an executor's
``start()``) ends the run with one line naming the part, its plugin and the problem
(:mod:`l2l.guard`).
"""

from __future__ import annotations


class L2LError(Exception):
    """Base class of every error l2l raises on purpose."""


class ConfigError(L2LError):
    """Bad user input: a malformed config, an unknown name, a wrong keyword argument."""


class PluginError(L2LError):
    """A plugin failed to load or register (raised only in strict mode), or its code raised an
    exception that is not an :class:`L2LError` where a run starts; the message names the part
    and its plugin, the original exception is the ``__cause__``."""


class StoreError(L2LError):
    """The results store cannot be opened, or a run or generation is missing."""


class EvaluationError(L2LError):
    """An optimizee reports a failed evaluation; the message becomes the recorded reason."""


class ExecutorError(L2LError):
    """An executor cannot start or lost its workers beyond recovery."""


class SetupError(ExecutorError):
    """An optimizee's ``setup()`` failed on a worker (or the worker died in it).

    Executors raise it from ``start()`` or, when workers set up lazily, from ``submit()`` /
    ``map()``, never as failed evaluations: a model that cannot be set up fails the run.
    """
