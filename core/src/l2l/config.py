"""TOML experiment files → parts. Validation happens here, with messages naming the problem.

Tables: ``[experiment]`` (name, seed, generations, stop criteria ``target``,
``max_evaluations``, ``patience``, ``max_seconds``, and noise handling ``repeats``,
``aggregate``, ``reevaluate``: see :class:`l2l.noise.Noise`), ``[optimizee]``, ``[optimizer]`` and
``[executor]``; each part table has ``name`` (a registered name) and keyword arguments for the
class.
"""

from __future__ import annotations

import inspect
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .experiment import Experiment, Progress, Stop
from .noise import Noise
from .plugins import Plugins, get_plugins
from .store import Store

NOISE_KEYS = ("repeats", "aggregate", "reevaluate")
EXPERIMENT_KEYS = {"name", "seed", "generations", "target", "max_evaluations", "patience",
                   "max_seconds", *NOISE_KEYS}
TABLES = {"experiment", "optimizee", "optimizer", "executor"}
DEFAULT_EXECUTOR = {"name": "process"}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and parse a TOML experiment file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: malformed TOML: {exc}") from None
    return data


def _accepts(value: Any, hint: Any) -> bool:
    """Loose check of a TOML value against a type hint (unknown hints accept anything)."""
    if hint is Any or hint is inspect.Parameter.empty:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    base = origin or hint
    if base in (list, tuple, typing.Sequence, __import__("collections.abc").abc.Sequence):
        return isinstance(value, (list, tuple))
    if base in (dict, typing.Mapping, __import__("collections.abc").abc.Mapping):
        return isinstance(value, dict)
    return True


def check_kwargs(cls: type, kwargs: Mapping[str, Any], where: str) -> None:
    """Raise ConfigError for keyword arguments ``cls`` does not take or of the wrong type."""
    sig = inspect.signature(cls.__init__)
    params = {n: p for n, p in sig.parameters.items() if n != "self"}
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} "
                          f"(accepted: {', '.join(params) or 'none'})")
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - unresolvable hints: skip type checks
        hints = {}
    for key, value in kwargs.items():
        hint = hints.get(key, inspect.Parameter.empty)
        if not _accepts(value, hint):
            shown = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
            raise ConfigError(f"{where}: {key} = {value!r} should be {shown}")


def build_part(plugins: Plugins, kind: str, table: Mapping[str, Any]) -> Any:
    """Instantiate the class registered under ``table["name"]`` with the other keys."""
    table = dict(table)
    name = table.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"[{kind[:-1]}] needs a 'name' (one of: {', '.join(plugins.names(kind))})")
    cls = plugins.get(kind, name)
    where = f"[{kind[:-1]}] {name}"
    check_kwargs(cls, table, where)
    try:
        return cls(**table)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def build(kind: str, name: str, **kwargs: Any) -> Any:
    """Build a registered part: ``build("optimizer", "ga", population=64)``."""
    kinds = {"optimizer": "optimizers", "optimizee": "optimizees", "executor": "executors"}
    if kind not in kinds:
        raise ConfigError(f"unknown part kind {kind!r} (use optimizer, optimizee, executor)")
    return build_part(get_plugins(), kinds[kind], {"name": name, **kwargs})


def stop_from(table: Mapping[str, Any]) -> Stop:
    return Stop(**{k: table[k] for k in ("target", "max_evaluations", "patience", "max_seconds")
                   if table.get(k) is not None})


def noise_from(table: Mapping[str, Any]) -> Noise:
    """The noise handling of an ``[experiment]`` table (ConfigError for bad values)."""
    return Noise(**{k: table[k] for k in NOISE_KEYS if table.get(k) is not None})


def experiment_from_config(config: Mapping[str, Any], store: Store | str | None = None, *,
                           plugins: Plugins | None = None, progress: Progress | None = None
                           ) -> Experiment:
    """Build an :class:`Experiment` from a parsed config (all parts validated first)."""
    plugins = plugins or get_plugins()
    unknown = sorted(set(config) - TABLES)
    if unknown:
        raise ConfigError(f"unknown table(s) {', '.join(map(repr, unknown))} "
                          f"(expected: {', '.join(sorted(TABLES))})")
    for table in ("optimizee", "optimizer"):
        if table not in config:
            raise ConfigError(f"the config needs an [{table}] table")
    exp = dict(config.get("experiment", {}))
    bad = sorted(set(exp) - EXPERIMENT_KEYS)
    if bad:
        raise ConfigError(f"[experiment]: unknown key(s) {', '.join(map(repr, bad))} "
                          f"(accepted: {', '.join(sorted(EXPERIMENT_KEYS))})")
    for key, typ in (("seed", int), ("generations", int), ("name", str)):
        if key in exp and not _accepts(exp[key], typ):
            raise ConfigError(f"[experiment]: {key} = {exp[key]!r} should be {typ.__name__}")
    full = {"experiment": exp, "optimizee": dict(config["optimizee"]),
            "optimizer": dict(config["optimizer"]),
            "executor": dict(config.get("executor", DEFAULT_EXECUTOR))}
    optimizee = build_part(plugins, "optimizees", full["optimizee"])
    optimizer = build_part(plugins, "optimizers", full["optimizer"])
    executor = build_part(plugins, "executors", full["executor"])
    try:
        stop = stop_from(exp)
    except TypeError as exc:
        raise ConfigError(f"[experiment]: {exc}") from None
    noise = noise_from(exp)
    optimizee.space()  # validates the optimizee's keyword arguments early
    return Experiment(optimizee, optimizer, executor, store, seed=exp.get("seed", 0),
                      generations=exp.get("generations", 10),
                      name=exp.get("name", full["optimizee"].get("name")), stop=stop,
                      config=full, plugins=plugins, progress=progress, noise=noise)
