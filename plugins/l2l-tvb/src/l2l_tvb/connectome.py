"""Structural connectomes: the ones shipped with tvb-data, a TVB zip, or weights + tract files."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from l2l import ConfigError

#: region counts of the connectomes in tvb-data (``tvb_data/connectivity/connectivity_<n>.zip``)
SHIPPED = (66, 68, 76, 96, 192)


@dataclass(frozen=True)
class Connectome:
    """Weights ``w[i, j]`` (input of region i from region j, TVB's convention) and tract
    lengths in mm."""

    weights: np.ndarray
    tract_lengths: np.ndarray
    labels: tuple[str, ...]

    @property
    def n_regions(self) -> int:
        return int(self.weights.shape[0])

    def delays_in_steps(self, speed: float, dt: float) -> np.ndarray:
        """TVB's ``idelays``: ``rint(tract_lengths / speed / dt)``."""
        return np.rint(self.tract_lengths / speed / dt).astype(np.int64)

    def to_tvb(self, speed: float):
        """A configured ``tvb.datatypes.connectivity.Connectivity`` with this data."""
        from tvb.datatypes.connectivity import Connectivity

        conn = Connectivity(weights=self.weights.copy(), tract_lengths=self.tract_lengths.copy(),
                            region_labels=np.array(self.labels),
                            centres=np.zeros((self.n_regions, 3)), speed=np.array([float(speed)]))
        conn.configure()
        return conn


def _shipped_path(n: int) -> str:
    import tvb_data

    return os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", f"connectivity_{n}.zip")


def load_connectome(connectivity: int | str = 76, weights: str | None = None,
                    tract_lengths: str | None = None, normalize: bool = False) -> Connectome:
    """Load a connectome.

    ``connectivity``: a region count of a tvb-data connectome (66, 68, 76, 96, 192) or the path
    of a TVB connectivity zip; ignored when ``weights`` and ``tract_lengths`` (text or ``.npy``
    files of square matrices) are given. ``normalize``: divide the weights by their maximum.
    """
    if weights is not None or tract_lengths is not None:
        if weights is None or tract_lengths is None:
            raise ConfigError("connectivity: give both 'weights' and 'tract_lengths' files")
        w, tl = _square(weights), _square(tract_lengths)
        if w.shape != tl.shape:
            raise ConfigError(f"connectivity: weights {w.shape} and tract lengths {tl.shape} differ in shape")
        labels = tuple(f"r{i}" for i in range(w.shape[0]))
    else:
        path = connectivity
        if isinstance(connectivity, (int, np.integer)) or str(connectivity).isdigit():
            if int(connectivity) not in SHIPPED:
                raise ConfigError(f"connectivity: tvb-data ships {SHIPPED} regions, not {connectivity}")
            path = _shipped_path(int(connectivity))
        if not os.path.exists(str(path)):
            raise ConfigError(f"connectivity: no such file {path!r}")
        from tvb.datatypes.connectivity import Connectivity

        conn = Connectivity.from_file(str(path))
        w, tl = np.asarray(conn.weights, float), np.asarray(conn.tract_lengths, float)
        labels = tuple(str(s) for s in conn.region_labels)
    if np.any(w < 0) or np.any(tl < 0):
        raise ConfigError("connectivity: weights and tract lengths must be non-negative")
    if normalize:
        w = w / w.max()
    return Connectome(w, tl, labels)


def _square(path: str) -> np.ndarray:
    m = read_matrix(path, "connectivity")
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ConfigError(f"connectivity: {path!r} is not a square matrix")
    return m


def read_matrix(path: str, what: str) -> np.ndarray:
    """A float array from ``.npy``, ``.csv`` or whitespace-separated text; ``what`` names it
    in the error for a missing file."""
    if not os.path.exists(path):
        raise ConfigError(f"{what}: no such file {path!r}")
    m = np.load(path) if path.endswith(".npy") else np.loadtxt(path, delimiter="," if path.endswith(".csv") else None)
    return np.asarray(m, dtype=float)
