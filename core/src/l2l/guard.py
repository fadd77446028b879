"""Calls into plugin code where a run starts, under one error convention.

An exception raised by an optimizer's ``start()`` / ``set_state()``, an optimizee's
``space()``, ``objectives()``, ``targets()`` or ``setup()``, or an executor's ``start()`` ends
the run with one line naming the part, the plugin that registered it and the problem:

* an :class:`~l2l.errors.L2LError` keeps its class and message; the message is prefixed with
  the part (``optimizer 'de' (l2l-mine): ...``) unless it names the part already;
* any other exception becomes a :class:`~l2l.errors.PluginError` whose ``__cause__`` is the
  original (``l2l --debug`` prints both tracebacks);
* a :class:`~l2l.errors.SetupError` (an optimizee's ``setup()`` failed on a worker) and an
  exception raised inside the optimizee's ``setup()`` during an executor's ``start()`` are
  blamed on the optimizee, not on the executor.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from .errors import L2LError, PluginError, SetupError
from .plugins import Plugins


def part_label(plugins: Plugins, kind: str, part: Any) -> str:
    """``optimizer 'de' (l2l-mine)``; an unregistered class is named by its module."""
    owner = plugins.owner(kind, type(part))
    if owner is None:
        cls = type(part)
        return f"{kind.removesuffix('s')} {cls.__qualname__} (module {cls.__module__})"
    return f"{kind.removesuffix('s')} {owner[0]!r} ({owner[1].name})"


def _names_part(message: str, plugins: Plugins, kind: str, part: Any) -> bool:
    owner = plugins.owner(kind, type(part))
    names = [type(part).__name__] + ([owner[0]] if owner else [])
    return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", message) for n in names)


def label(plugins: Plugins, kind: str, part: Any, exc: L2LError) -> L2LError:
    """Prefix ``exc``'s message with the part, in place, unless it names the part already."""
    text = str(exc)
    if not _names_part(text, plugins, kind, part):
        exc.args = (f"{part_label(plugins, kind, part)}: {text}",)
    return exc


def wrap(plugins: Plugins, kind: str, part: Any, method: str, exc: Exception) -> L2LError:
    """The error to raise for ``exc``, raised by ``part.method()``."""
    if isinstance(exc, L2LError):
        return label(plugins, kind, part, exc)
    return PluginError(f"{part_label(plugins, kind, part)}: {method}() raised "
                       f"{type(exc).__name__}: {exc}")


def call(plugins: Plugins, kind: str, part: Any, method: str, *args: Any) -> Any:
    """``part.method(*args)`` under the convention above."""
    try:
        return getattr(part, method)(*args)
    except Exception as exc:  # noqa: BLE001 - re-raised, labelled or wrapped
        error = wrap(plugins, kind, part, method, exc)
        if error is exc:
            raise
        raise error from exc


def _in_setup(tb: TracebackType | None, optimizee: Any) -> bool:
    """Whether the traceback passes through ``optimizee.setup()``."""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "setup" and frame.f_locals.get("self") is optimizee:
            return True
        tb = tb.tb_next
    return False


def blame_setup(plugins: Plugins, optimizee: Any, exc: BaseException) -> BaseException | None:
    """For an exception out of an executor: the optimizee-labelled error if it is a setup
    failure (a SetupError, or raised inside ``optimizee.setup()``), else None."""
    if isinstance(exc, SetupError):
        return label(plugins, "optimizees", optimizee, exc)
    if isinstance(exc, Exception) and _in_setup(exc.__traceback__, optimizee):
        return wrap(plugins, "optimizees", optimizee, "setup", exc)
    return None


def label_setup_error(plugins: Plugins, optimizee: Any, exc: BaseException) -> None:
    """Name the optimizee in a :class:`SetupError` raised while a run goes on (executors whose
    workers set up lazily raise it from ``submit()``/``map()``); other exceptions are left alone."""
    if isinstance(exc, SetupError):
        label(plugins, "optimizees", optimizee, exc)


def start_executor(plugins: Plugins, executor: Any, optimizee: Any) -> None:
    """``executor.start(optimizee)``; a setup failure is blamed on the optimizee."""
    try:
        executor.start(optimizee)
    except Exception as exc:  # noqa: BLE001 - re-raised, labelled or wrapped
        error = blame_setup(plugins, optimizee, exc) or wrap(plugins, "executors", executor,
                                                              "start", exc)
        if error is exc:
            raise
        raise error from exc
