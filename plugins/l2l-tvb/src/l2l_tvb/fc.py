"""Functional connectivity, its comparison with a target, targets, and BOLD from a signal."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from l2l import ConfigError

from .connectome import read_matrix

#: period (ms) of the averaged signal TVB's Bold monitor convolves with its HRF
BOLD_INTERIM_PERIOD = 4.0


def fc_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson correlation between the columns (regions) of ``x[time, region]``; a region
    without variance gets correlation 0 with every other region (and 1 with itself)."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean(axis=0)
    norm = np.sqrt(np.sum(x * x, axis=0))
    ok = norm > 1e-12 * max(1.0, float(np.abs(x).max(initial=0.0)))
    z = np.where(ok, x / np.where(ok, norm, 1.0), 0.0)
    fc = z.T @ z
    np.fill_diagonal(fc, 1.0)
    return fc


def upper(m: np.ndarray) -> np.ndarray:
    """The strict upper triangle of a square matrix, flattened."""
    return m[np.triu_indices(m.shape[0], 1)]


def square(values: np.ndarray) -> np.ndarray:
    """The symmetric FC matrix (unit diagonal) whose :func:`upper` triangle is ``values``
    (e.g. an evaluation's observation, to save as a target)."""
    n = int(round((1 + np.sqrt(1 + 8 * len(values))) / 2))
    fc = np.eye(n)
    i, j = np.triu_indices(n, 1)
    fc[i, j] = fc[j, i] = values
    return fc


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two vectors (NaN when either is constant)."""
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / den) if den > 0 else float("nan")


def fc_distance(a: np.ndarray, b: np.ndarray, kind: str) -> float:
    """Distance of two FCs given as their upper triangles (:func:`upper`): ``frobenius``:
    Frobenius norm of the difference divided by sqrt(number of pairs) (an RMS difference);
    ``ks``: Kolmogorov–Smirnov statistic between the distributions of their values."""
    if kind == "frobenius":
        return float(np.sqrt(np.mean((a - b) ** 2)))
    if kind == "ks":
        from scipy.stats import ks_2samp

        return float(ks_2samp(a, b).statistic)
    raise ConfigError(f"unknown FC distance {kind!r} (use 'frobenius' or 'ks')")


def load_target(path: str, n_regions: int) -> np.ndarray:
    """An empirical FC matrix from ``.npy``, ``.csv`` or whitespace-separated text."""
    m = read_matrix(path, "target FC")
    if m.shape != (n_regions, n_regions):
        raise ConfigError(f"target FC {path!r} has shape {m.shape}, the connectome has {n_regions} regions")
    return m


@lru_cache(maxsize=None)
def bold_hrf(period: float) -> tuple[np.ndarray, float]:
    """TVB's Bold monitor kernel (first-order Volterra by default) sampled every
    :data:`BOLD_INTERIM_PERIOD` ms, as weights by age of the 4 ms averages (newest first), and
    its ``k_1 * V_0`` scale. TVB's circular stock weights the average of age ``a`` (in 4 ms
    samples) with the kernel at ``(a - 1)`` samples and the newest with the kernel's last value,
    hence the roll by one."""
    from tvb.simulator.monitors import Bold

    mon = Bold(period=period)
    mon.dt = BOLD_INTERIM_PERIOD
    mon.compute_hrf()
    pars = mon.hrf_kernel.parameters
    return np.roll(mon.hemodynamic_response_function[0, ::-1], 1), float(pars["k_1"] * pars["V_0"])


def bold_signal(interim: np.ndarray, period: float) -> np.ndarray:
    """BOLD as TVB's Bold monitor computes it from a signal averaged every 4 ms
    (``interim[t, ...]``): convolution with the HRF over its length, ``(. - 1) * k_1 V_0``,
    one sample per ``period`` ms. Returns ``bold[k, ...]``."""
    from scipy.signal import fftconvolve

    g, k1v0 = bold_hrf(period)
    shape = (-1,) + (1,) * (interim.ndim - 1)
    conv = fftconvolve(interim, g.reshape(shape), axes=0)[: interim.shape[0]]
    every = int(round(period / BOLD_INTERIM_PERIOD))
    return (conv[every - 1::every] - 1.0) * k1v0
