"""TOML experiment files → parts. Validation happens here, with messages naming the problem.

Tables: ``[experiment]`` (name, seed, generations, stop criteria ``target``,
``max_evaluations``, ``patience``, ``max_seconds``, and noise handling ``repeats``,
``aggregate``, ``reevaluate``: see :class:`l2l.noise.Noise`, and the loop's ``mode``,
``"generational"`` or ``"async"`` with ``in_flight``, ``prefetch``, ``commit_every``, ``commit_seconds``,
``finish``:
see :mod:`l2l.asynchronous`), ``[optimizee]``, ``[optimizer]`` and
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

from . import guard
from .asynchronous import MODES, AsyncSettings
from .errors import ConfigError
from .experiment import Experiment, Progress, Stop
from .noise import Noise
from .plugins import Plugins, get_plugins, plural
from .store import Store

NOISE_KEYS = ("repeats", "aggregate", "reevaluate")
ASYNC_KEYS = ("in_flight", "prefetch", "commit_every", "commit_seconds", "finish")
EXPERIMENT_KEYS = {"name", "seed", "generations", "target", "max_evaluations", "patience",
                   "max_seconds", *NOISE_KEYS, "mode", *ASYNC_KEYS}
TABLES = {"experiment", "optimizee", "optimizer", "executor"}
DEFAULT_EXECUTOR = {"name": "process"}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and parse a TOML experiment file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start}); a TOML file must be UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
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
    """Build a registered part: ``build("optimizer", "ga", population=64)`` (``name`` may be
    qualified, ``"l2l-core:ga"``; ``kind`` singular or plural)."""
    return build_part(get_plugins(), plural(kind), {"name": name, **kwargs})


#: the stop criteria of ``[experiment]``: type, and the smallest value allowed (None: any)
STOP_KEYS: dict[str, tuple[type, float | None]] = {
    "target": (float, None), "max_evaluations": (int, 1), "patience": (int, 1),
    "max_seconds": (float, 0.0)}
#: seeds must fit the store's 64-bit integers
MAX_SEED = 2**63 - 1


def stop_from(table: Mapping[str, Any]) -> Stop:
    """The :class:`Stop` of an ``[experiment]`` table; ConfigError for a value of the wrong
    type or out of range (``max_seconds`` must be positive, counts at least 1)."""
    values = {}
    for key, (typ, low) in STOP_KEYS.items():
        value = table.get(key)
        if value is None:
            continue
        if not _accepts(value, typ) or (typ is float and value != value):
            raise ConfigError(f"[experiment]: {key} = {value!r} should be {typ.__name__}")
        if low is not None and (value <= low if typ is float else value < low):
            bound = "positive" if typ is float else f"at least {low:g}"
            raise ConfigError(f"[experiment]: {key} must be {bound}, got {value!r}")
        values[key] = value
    return Stop(**values)


def check_seed(seed: Any, where: str = "[experiment]: seed") -> int:
    """``seed`` as an int in [0, 2**63); ConfigError otherwise."""
    if not _accepts(seed, int):
        raise ConfigError(f"{where} = {seed!r} should be int")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{where} must be between 0 and 2**63 - 1, got {seed}")
    return int(seed)


def noise_from(table: Mapping[str, Any]) -> Noise:
    """The noise handling of an ``[experiment]`` table (ConfigError for bad values)."""
    return Noise(**{k: table[k] for k in NOISE_KEYS if table.get(k) is not None})


def async_from(table: Mapping[str, Any]) -> dict[str, Any]:
    """The loop mode of an ``[experiment]`` table as keyword arguments of
    :class:`~l2l.experiment.Experiment` (ConfigError for bad values)."""
    mode = table.get("mode", "generational")
    if mode not in MODES:
        raise ConfigError(f"[experiment]: mode = {mode!r} should be one of {', '.join(map(repr, MODES))}")
    given = {k: table[k] for k in ASYNC_KEYS if table.get(k) is not None}
    if mode != "async":
        if given:
            raise ConfigError(f"[experiment]: {', '.join(given)} need(s) mode = \"async\"")
        return {"mode": mode}
    return {"mode": mode, "asynchronous": AsyncSettings(**given)}


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
    for table in TABLES:
        if table in config and not isinstance(config[table], Mapping):
            raise ConfigError(f"[{table}] must be a table, got {config[table]!r}")
    exp = dict(config.get("experiment", {}))
    bad = sorted(set(exp) - EXPERIMENT_KEYS)
    if bad:
        raise ConfigError(f"[experiment]: unknown key(s) {', '.join(map(repr, bad))} "
                          f"(accepted: {', '.join(sorted(EXPERIMENT_KEYS))})")
    for key, typ in (("seed", int), ("generations", int), ("name", str)):
        if key in exp and not _accepts(exp[key], typ):
            raise ConfigError(f"[experiment]: {key} = {exp[key]!r} should be {typ.__name__}")
    if "seed" in exp:
        check_seed(exp["seed"])
    if exp.get("generations", 1) < 1:
        raise ConfigError(f"[experiment]: generations must be at least 1, got {exp['generations']}")
    full = {"experiment": exp, "optimizee": dict(config["optimizee"]),
            "optimizer": dict(config["optimizer"]),
            "executor": dict(config.get("executor", DEFAULT_EXECUTOR))}
    optimizee = build_part(plugins, "optimizees", full["optimizee"])
    optimizer = build_part(plugins, "optimizers", full["optimizer"])
    executor = build_part(plugins, "executors", full["executor"])
    stop = stop_from(exp)
    noise = noise_from(exp)
    loop_mode = async_from(exp)
    guard.call(plugins, "optimizees", optimizee, "space")  # validates its keyword arguments early
    return Experiment(optimizee, optimizer, executor, store, seed=exp.get("seed", 0),
                      generations=exp.get("generations", 10),
                      name=exp.get("name", full["optimizee"].get("name")), stop=stop,
                      config=full, plugins=plugins, progress=progress, noise=noise, **loop_mode)
