"""``l2l new-plugin``: write a ready third-party plugin package from the bundled templates.

The templates live in ``l2l/templates/plugin``; ``*.tmpl`` files are rendered with
:class:`string.Template` (``$name``, ``$dist``, ``$module``, ...), path parts ``__module__``
and ``__name__`` are replaced, and ``*.executor.tmpl`` files are only written when an executor
is asked for (they replace a plain template of the same name).
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from . import __version__
from .errors import ConfigError

NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def check_name(name: str) -> None:
    """Raise ConfigError unless ``name`` is a plugin name such as ``nest-brunel``."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > 40:
        raise ConfigError(f"invalid plugin name {name!r}: use lower-case letters, digits and "
                          "single dashes, starting with a letter (e.g. 'my-model')")
    if name == "l2l" or name.startswith("l2l-") or name == "core":
        raise ConfigError(f"invalid plugin name {name!r}: give it without the 'l2l-' prefix, "
                          "which is added to the package name")


def _templates(root: Traversable, rel: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Traversable]]:
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            out += _templates(entry, rel + (entry.name,))
        elif entry.name.endswith(".tmpl"):
            out.append((rel + (entry.name,), entry))
    return out


def new_plugin(name: str, directory: Path, executor: bool = False) -> Path:
    """Write the package ``l2l-NAME`` into ``directory/l2l-NAME`` and return its path.

    It holds ``pyproject.toml`` (with the ``l2l`` entry point), an example optimizee registered
    as ``NAME`` (and, with ``executor=True``, a thread-pool executor ``NAME-threads``), tests
    using :mod:`l2l.testing`, an example config, ``tox.ini`` and a README.
    """
    check_name(name)
    dist, module = f"l2l-{name}", "l2l_" + name.replace("-", "_")
    target = Path(directory) / dist
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} already exists and is not empty")
    values = {
        "name": name, "dist": dist, "module": module, "core_version": __version__,
        "executor": f"{name}-threads" if executor else "process",
        "executor_row": (f"| executor | `{name}-threads` | `{module}.executor.ThreadExecutor`: "
                         "a pool of threads |\n" if executor else ""),
        "executor_check": " and `check_executor`" if executor else "",
        "executor_keys": (f"\n`[executor] name = \"{name}-threads\"` takes `workers` "
                          "(threads, default 2).\n" if executor else ""),
    }
    chosen: dict[tuple[str, ...], Traversable] = {}
    for rel, entry in _templates(files("l2l") / "templates" / "plugin"):
        base = entry.name.removesuffix(".tmpl")
        if base.endswith(".executor"):
            if not executor:
                continue
            base = base.removesuffix(".executor")
        elif rel[:-1] + (base,) in chosen:
            continue  # the executor variant of this file was chosen already
        chosen[rel[:-1] + (base,)] = entry
    for rel, entry in sorted(chosen.items()):
        parts = [p.replace("__module__", module).replace("__name__", name) for p in rel]
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(entry.read_text(encoding="utf-8")).substitute(values),
                        encoding="utf-8")
    return target
