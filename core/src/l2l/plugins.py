"""Plugin discovery and the registry of optimizers, optimizees and executors.

Each entry point of the group ``l2l`` is loaded on its own: one that fails to import or to
register is recorded (name, error) and skipped, unless ``L2L_STRICT_PLUGINS=1``. Two plugins
registering the same name is a conflict: the name is then unusable unqualified, and the
qualified name ``distribution:name`` (e.g. ``l2l-mine:de``) picks one. Runs record the
qualified names of their parts, so installing a second plugin with the same name does not
stop an old run from resuming.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import signal
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy

from . import hookspecs
from .errors import ConfigError, PluginError

KINDS = ("optimizers", "optimizees", "executors")


def plural(kind: str) -> str:
    """``"optimizers"`` for ``"optimizer"`` or ``"optimizers"`` (likewise optimizee, executor);
    ConfigError for anything else."""
    name = kind if isinstance(kind, str) and kind.endswith("s") else f"{kind}s"
    if name not in KINDS:
        raise ConfigError(f"unknown part kind {kind!r} (use optimizer, optimizee or executor)")
    return name


class NameClash(ConfigError):
    """A short name that several plugins register (or that a run recorded from a plugin no
    longer installed, while others register it): say which one with ``distribution:name``."""

    def __init__(self, reason: str, hint: str, kind: str, name: str, plugins: list[str]):
        super().__init__(f"{reason}{hint}")
        self.reason, self.kind, self.name, self.plugins = reason, kind, name, plugins


@dataclass(frozen=True)
class Conflict:
    """A name registered by several plugins with different classes."""

    kind: str  # singular: "optimizer", "optimizee", "executor"
    name: str
    plugins: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.name!r} is registered by {', '.join(self.plugins)}"


@dataclass
class PluginInfo:
    """What ``l2l list-plugins`` shows for one distribution."""

    name: str
    version: str
    status: str = "ok"
    error: str | None = None
    optimizers: list[str] = field(default_factory=list)
    optimizees: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "status": self.status,
                "error": self.error, "optimizers": self.optimizers,
                "optimizees": self.optimizees, "executors": self.executors, "hooks": self.hooks}


class Registry:
    """Passed to the registration hooks: ``registry.add(name, cls)``."""

    def __init__(self, plugins: Plugins, kind: str, info: PluginInfo):
        self._plugins, self.kind, self._info = plugins, kind, info

    def add(self, name: str, cls: type) -> None:
        """Make ``cls`` available under ``name``."""
        if not isinstance(name, str) or not name or ":" in name:
            raise ValueError(f"invalid {self.kind[:-1]} name {name!r}")
        self._plugins._add(self.kind, name, cls, self._info)


class Plugins:
    """The loaded plugins, their registered classes and the lifecycle hook caller."""

    def __init__(self, strict: bool | None = None, discover: bool = True):
        self.strict = os.environ.get("L2L_STRICT_PLUGINS", "") not in ("", "0") \
            if strict is None else strict
        self.pm = pluggy.PluginManager("l2l")
        self.pm.add_hookspecs(hookspecs)
        self.infos: list[PluginInfo] = []
        self._classes: dict[str, dict[str, list[tuple[PluginInfo, type]]]] = {k: {} for k in KINDS}
        if discover:
            for ep in md.entry_points(group="l2l"):
                self._load_entry_point(ep)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def _fail(self, info: PluginInfo, error: str) -> None:
        if self.strict:
            raise PluginError(f"plugin {info.name}: {error}")
        info.status, info.error = "failed", error

    def _load_entry_point(self, ep: md.EntryPoint) -> None:
        dist = ep.dist
        name = dist.name if dist is not None else ep.name
        info = PluginInfo(name, dist.version if dist is not None else "?")
        self.infos.append(info)
        try:
            with _UserInterrupts() as user:
                module = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, never fatal
            self._fail(info, f"{type(exc).__name__}: {exc}")
            return
        except (SystemExit, KeyboardInterrupt) as exc:
            if isinstance(exc, KeyboardInterrupt) and user.pressed:
                raise  # the user's Ctrl-C: stop loading
            self._fail(info, f"{type(exc).__name__} raised while importing the plugin"
                             f"{f' ({exc})' if str(exc) else ''}")
            return
        self.register(module, info)

    def register(self, plugin: Any, info: PluginInfo | str) -> PluginInfo:
        """Add a plugin object (module or instance with hook implementations) and run its
        registration hooks; ``info`` names it (a string creates the entry). A plugin whose
        registration fails is taken out completely (none of its names stay registered)."""
        if isinstance(info, str):
            info = PluginInfo(info, "0")
            self.infos.append(info)
        try:
            self.pm.register(plugin, name=info.name)
        except Exception as exc:  # noqa: BLE001
            self._fail(info, f"{type(exc).__name__}: {exc}")
            return info
        info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        for kind in KINDS:
            caller = getattr(self.pm.hook, f"l2l_register_{kind}")
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    with _UserInterrupts() as user:
                        impl.function(registry=Registry(self, kind, info))
                except (Exception, SystemExit, KeyboardInterrupt) as exc:  # noqa: BLE001
                    if isinstance(exc, KeyboardInterrupt) and user.pressed:
                        raise
                    self._unregister(plugin, info)
                    self._fail(info, f"l2l_register_{kind}: {type(exc).__name__}: {exc}")
                    return info
        return info

    def _unregister(self, plugin: Any, info: PluginInfo) -> None:
        """Take a plugin out again: its hooks and its registered names (so its conflicts)."""
        try:
            self.pm.unregister(plugin)
        except ValueError:
            pass
        for kind in KINDS:
            for name in list(self._classes[kind]):
                owners = [o for o in self._classes[kind][name] if o[0] is not info]
                if owners:
                    self._classes[kind][name] = owners
                else:
                    del self._classes[kind][name]
            getattr(info, kind).clear()
        info.hooks = []

    def _add(self, kind: str, name: str, cls: type, info: PluginInfo) -> None:
        self._classes[kind].setdefault(name, []).append((info, cls))
        getattr(info, kind).append(name)

    @property
    def conflicts(self) -> list[Conflict]:
        """Names registered by several plugins with different classes."""
        out = []
        for kind in KINDS:
            for name, owners in sorted(self._classes[kind].items()):
                if len({id(cls) for _, cls in owners}) > 1:
                    out.append(Conflict(kind[:-1], name, tuple(sorted({i.name for i, _ in owners}))))
        return out

    def names(self, kind: str) -> list[str]:
        return sorted(self._classes[plural(kind)])

    def get(self, kind: str, name: str) -> type:
        """The class registered as ``name`` or ``distribution:name``; ``kind`` is singular or
        plural (``"optimizer"``, ``"optimizers"``). ConfigError otherwise (:class:`NameClash`
        when several plugins register ``name``)."""
        kind = plural(kind)
        plugin, _, short = name.rpartition(":")
        owners = self._classes[kind].get(short, [])
        if plugin:
            owners = [o for o in owners if o[0].name == plugin]
        if not owners:
            failed = [i.name for i in self.infos if i.status != "ok"]
            hint = f"; plugins that failed to load: {', '.join(failed)}" if failed else ""
            raise ConfigError(f"unknown {kind[:-1]} {name!r} (known: "
                              f"{', '.join(self.names(kind)) or 'none'}){hint}")
        if len({id(o[1]) for o in owners}) > 1:
            who = [o[0].name for o in owners]
            raise NameClash(f"{kind[:-1]} {name!r} is registered by several plugins ({', '.join(who)})",
                            f"; write it as PLUGIN:{short}", kind[:-1], short, who)
        return owners[0][1]

    def get_recorded(self, kind: str, name: str, qualified: str | None) -> type:
        """The class of a stored run's part: by the ``qualified`` name the run recorded, or by
        ``name`` for runs stored before qualified names were recorded (``qualified`` None)."""
        if qualified is None:
            return self.get(kind, name)
        kind = plural(kind)
        try:
            return self.get(kind, qualified)
        except ConfigError:
            plugin, _, short = qualified.rpartition(":")
            now = sorted({o[0].name for o in self._classes[kind].get(short, [])})
            if not now:
                raise
            raise NameClash(f"the run's {kind[:-1]} {short!r} came from {plugin}, which is not "
                            f"installed or no longer registers it; {', '.join(now)} "
                            f"register{'s' if len(now) == 1 else ''} {short!r}",
                            ": choose one explicitly", kind[:-1], short, now) from None

    def owner(self, kind: str, cls: type) -> tuple[str, PluginInfo] | None:
        """The registered name of ``cls`` and the plugin that registered it (or None)."""
        for name, owners in self._classes[plural(kind)].items():
            for info, c in owners:
                if c is cls:
                    return name, info
        return None

    def qualified(self, kind: str, cls: type) -> str | None:
        """``distribution:name`` of a registered class (None when it is not registered)."""
        owner = self.owner(kind, cls)
        return None if owner is None else f"{owner[1].name}:{owner[0]}"

    def versions(self, infos: Iterable[PluginInfo] | None = None) -> dict[str, str]:
        return {i.name: i.version for i in (self.infos if infos is None else infos)}

    def to_json(self) -> list[dict[str, Any]]:
        """What ``l2l list-plugins --json`` prints: per distribution its status, what it
        registers, the hooks it implements and its conflicts (``kind``, ``name``, ``with``:
        the other plugins registering that name)."""
        conflicts = self.conflicts
        out = []
        for info in sorted(self.infos, key=lambda i: (i.name != "l2l-core", i.name)):
            mine = [{"kind": c.kind, "name": c.name, "with": [p for p in c.plugins if p != info.name]}
                    for c in conflicts if info.name in c.plugins]
            out.append({**info.to_json(), "conflicts": mine})
        return out


class _UserInterrupts:
    """Tells a KeyboardInterrupt from the user's Ctrl-C (``pressed``) from one that plugin code
    raised itself: while active (main thread only), SIGINT sets ``pressed`` before raising."""

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None

    def __enter__(self) -> _UserInterrupts:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        else:
            self.pressed = True  # cannot tell: treat a KeyboardInterrupt as the user's
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.pressed = True
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


_plugins: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin manager, discovered on first use."""
    global _plugins
    if _plugins is None:
        _plugins = Plugins()
    return _plugins

