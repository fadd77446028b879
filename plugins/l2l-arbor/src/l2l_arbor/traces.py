"""Recorded voltage traces from files: CSV or NPY with a time column (ms) and a voltage column (mV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from l2l import ConfigError


def load_trace(path: str) -> tuple[np.ndarray, np.ndarray]:
    """``(time, voltage)`` of a file; a CSV may have one header line; an NPY holds an array of
    shape ``(n, 2)`` or ``(2, n)``."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"target trace {str(p)!r} does not exist")
    try:
        if p.suffix.lower() == ".npy":
            data = np.load(p, allow_pickle=False)
        else:
            text = p.read_text().splitlines()
            skip = 0 if text and _numeric(text[0]) else 1
            data = np.loadtxt(p, delimiter=",", skiprows=skip, ndmin=2)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"target trace {str(p)!r}: cannot be read ({exc})") from None
    data = np.asarray(data, dtype=float)
    if data.ndim == 2 and data.shape[0] == 2 and data.shape[1] != 2:
        data = data.T
    if data.ndim != 2 or data.shape[1] != 2 or len(data) < 2:
        raise ConfigError(f"target trace {str(p)!r}: expected two columns (time ms, voltage mV), "
                          f"got shape {data.shape}")
    if not np.all(np.isfinite(data)) or np.any(np.diff(data[:, 0]) <= 0):
        raise ConfigError(f"target trace {str(p)!r}: times must increase and values be finite")
    return data[:, 0], data[:, 1]


def resample(time: np.ndarray, voltage: np.ndarray, grid: np.ndarray, where: str) -> np.ndarray:
    """Linear interpolation of a trace onto the simulation's sample times."""
    step = grid[1] - grid[0] if len(grid) > 1 else 0.0
    if time[0] > grid[0] + step or time[-1] < grid[-1] - step:
        raise ConfigError(f"{where}: the trace spans {time[0]:g}-{time[-1]:g} ms, the simulation "
                          f"{grid[0]:g}-{grid[-1]:g} ms")
    return np.interp(grid, time, voltage)


def _numeric(line: str) -> bool:
    try:
        [float(x) for x in line.split(",")]
    except ValueError:
        return False
    return True
