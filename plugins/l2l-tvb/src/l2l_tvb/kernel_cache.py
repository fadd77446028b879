"""The on-disk cache of generated kernels.

Generated sources are written once, named by the hash of their content, under
``$L2L_TVB_CACHE`` or the user's cache directory (``$XDG_CACHE_HOME/l2l-tvb/kernels``,
``~/.cache/l2l-tvb/kernels``; ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows) —
never inside the installed package or the working directory. numba keeps its compiled
machine code next to a generated module (``__pycache__``), so a model compiles once per
machine and content.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from l2l import ConfigError


def cache_dir() -> Path:
    """Where generated kernels live (created on first use)."""
    env = os.environ.get("L2L_TVB_CACHE")
    if env:
        root = Path(env).expanduser()
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "l2l-tvb" / "kernels"
    elif os.name == "nt":
        root = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "l2l-tvb" / "kernels"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "l2l-tvb" / "kernels"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"l2l-tvb: cannot create the kernel cache {root} ({exc}); set L2L_TVB_CACHE") from None
    return root


def content_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def store(prefix: str, source: str, suffix: str) -> Path:
    """The cache file holding ``source`` (written atomically if it is not there yet)."""
    path = cache_dir() / f"{prefix}_{content_hash(source)}{suffix}"
    if not path.exists() or path.read_text() != source:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
        with os.fdopen(fd, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)
    return path


_MODULES: dict[Path, ModuleType] = {}


def import_source(prefix: str, source: str) -> ModuleType:
    """Import ``source`` as a module from its cache file (once per process)."""
    path = store(prefix, source, ".py")
    if path not in _MODULES:
        name = f"l2l_tvb_kernel_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]
