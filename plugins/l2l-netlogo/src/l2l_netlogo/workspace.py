"""Finding NetLogo and opening a headless workspace through pynetlogo (one JVM per process).

NetLogo itself is not on PyPI: users install NetLogo 6.x and point ``NETLOGO_HOME`` (or the
optimizee's ``netlogo_home`` key) at its folder. Every failure a user can cause becomes a
one-line :class:`l2l.ConfigError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from l2l import ConfigError

INSTALL_HINT = ("install NetLogo 6.x from https://ccl.northwestern.edu/netlogo/ and set "
                "NETLOGO_HOME (or netlogo_home) to its folder")


def netlogo_jars(home: Path) -> list[Path]:
    """NetLogo's own jar(s) under an installation folder (``lib/app/netlogo-6.x.jar`` or
    ``NetLogo.jar`` depending on the release)."""
    return sorted(p for p in home.rglob("*.jar") if p.name.lower().startswith("netlogo"))


def find_netlogo(configured: str | None = None) -> Path | None:
    """The NetLogo installation named by ``configured`` or ``NETLOGO_HOME``, if it holds a
    NetLogo jar; None otherwise."""
    raw = configured or os.environ.get("NETLOGO_HOME")
    if not raw:
        return None
    home = Path(raw).expanduser()
    return home if home.is_dir() and netlogo_jars(home) else None


def require_netlogo(configured: str | None, who: str) -> Path:
    """Like :func:`find_netlogo` but raises a one-line ConfigError saying what is missing."""
    raw = configured or os.environ.get("NETLOGO_HOME")
    if not raw:
        raise ConfigError(f"{who}: NetLogo not found (NETLOGO_HOME is not set): {INSTALL_HINT}")
    home = find_netlogo(raw)
    if home is None:
        raise ConfigError(f"{who}: no NetLogo installation at {raw!r} (no NetLogo jar found): "
                          f"{INSTALL_HINT}")
    return home


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_model(home: Path, model: Path, who: str) -> Any:
    """Start NetLogo headless (the JVM starts once per process) and load ``model``; returns
    the ``pynetlogo.NetLogoLink``."""
    if not model.is_file():
        raise ConfigError(f"{who}: model file {str(model)!r} does not exist")
    try:
        import pynetlogo
    except ImportError:
        raise ConfigError(f"{who}: pynetlogo is not installed (pip install pynetlogo)") from None
    try:
        link = pynetlogo.NetLogoLink(gui=False, netlogo_home=str(home))
    except Exception as exc:  # noqa: BLE001 - JVM or jar problems, reported in one line
        raise ConfigError(f"{who}: cannot start NetLogo from {str(home)!r}: {first_line(exc)}") from None
    try:
        link.load_model(str(model))
    except Exception as exc:  # noqa: BLE001 - NetLogoException carries the compiler message
        raise ConfigError(f"{who}: model {model.name} does not compile: {first_line(exc)}") from None
    return link


def netlogo_literal(value: Any) -> str:
    """A Python value as NetLogo source: numbers, booleans, strings, (nested) lists."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + " ".join(netlogo_literal(v) for v in value) + "]"
    raise ConfigError(f"cannot pass {value!r} ({type(value).__name__}) to NetLogo")


def netlogo_seed(seed: int) -> int:
    """An evaluation seed folded into NetLogo's ``random-seed`` range (32-bit signed)."""
    return int(seed) % (2**31)
