"""Helpers shared by the vector optimizers: unit-cube scaling and mirroring, rank-based
fitness shaping, and reading the hyper-parameters they have in common."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..space import Space


def widths(space: Space) -> np.ndarray:
    """The range of each coordinate; 0 for a parameter fixed to one value."""
    return space.upper - space.lower


def to_unit(space: Space, x: np.ndarray) -> np.ndarray:
    """Map vectors from the space's box to the unit cube (fixed coordinates map to 0)."""
    w = widths(space)
    return (np.asarray(x, dtype=float) - space.lower) / np.where(w > 0, w, 1.0)


def from_unit(space: Space, u: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_unit` (not bounded: the optimizer base class bounds later)."""
    return space.lower + np.asarray(u, dtype=float) * widths(space)


def reflect_unit(y: np.ndarray) -> np.ndarray:
    """Fold any real vector into [0, 1] by mirroring at the bounds (period 2), so a Gaussian
    sample that leaves the unit cube lands inside it."""
    phase = np.mod(y, 2.0)
    return np.where(phase > 1.0, 2.0 - phase, phase)


def centered_ranks(losses: np.ndarray) -> np.ndarray:
    """Fitness shaping of Salimans et al. (2017): ranks mapped to [-0.5, 0.5], the lowest
    loss to -0.5; ties get the mean of their ranks."""
    n = len(losses)
    if n < 2:
        return np.zeros(n)
    _, inverse, counts = np.unique(losses, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - counts + (counts - 1) / 2.0)[inverse.reshape(-1)]
    return ranks / (n - 1) - 0.5


def nes_utilities(n: int) -> np.ndarray:
    """Rank-based utilities of Wierstra et al. (2014), best first, summing to zero."""
    ranks = np.arange(1, n + 1)
    raw = np.maximum(0.0, np.log(n / 2 + 1) - np.log(ranks))
    return raw / raw.sum() - 1.0 / n if raw.sum() > 0 else np.zeros(n)


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``, else a :class:`ConfigError`."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum or number != value:
        raise ConfigError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return number


def choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else a :class:`ConfigError`."""
    if value not in allowed:
        raise ConfigError(f"unknown {name} {value!r} (use one of {', '.join(allowed)})")
    return str(value)
