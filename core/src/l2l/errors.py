"""The exception hierarchy of l2l.

Every error a user can cause derives from :class:`L2LError`; the CLI turns those into one line
on stderr and exit status 2.
"""

from __future__ import annotations


class L2LError(Exception):
    """Base class of every error l2l raises on purpose."""


class ConfigError(L2LError):
    """Bad user input: a malformed config, an unknown name, a wrong keyword argument."""


class PluginError(L2LError):
    """A plugin failed to load or register (raised only in strict mode)."""


class StoreError(L2LError):
    """The results store cannot be opened, or a run or generation is missing."""


class EvaluationError(L2LError):
    """An optimizee reports a failed evaluation; the message becomes the recorded reason."""


class ExecutorError(L2LError):
    """An executor cannot start or lost its workers beyond recovery."""
