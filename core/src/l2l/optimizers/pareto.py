"""Non-dominated sorting and crowding distance for NSGA-II (Deb et al. 2002), in numpy.

Objective matrices have one row per individual and are minimised column by column (flip the
sign of maximised objectives first, e.g. with ``Objectives.signs``).
"""

from __future__ import annotations

import numpy as np


def dominance(f: np.ndarray) -> np.ndarray:
    """``d[i, j]`` is True when row ``i`` dominates row ``j`` (no worse in every objective,
    better in at least one)."""
    n = len(f)
    no_worse = np.ones((n, n), dtype=bool)
    better = np.zeros((n, n), dtype=bool)
    for k in range(f.shape[1]):
        col = f[:, k]
        no_worse &= col[:, None] <= col[None, :]
        better |= col[:, None] < col[None, :]
    return no_worse & better


def non_dominated_ranks(f: np.ndarray) -> np.ndarray:
    """The front of each row: 0 for the non-dominated ones, 1 for those dominated only by
    front 0, and so on."""
    d = dominance(f)
    dominated_by = d.sum(axis=0)
    ranks = np.full(len(f), -1)
    front = 0
    while (ranks < 0).any():
        current = (dominated_by == 0) & (ranks < 0)
        ranks[current] = front
        dominated_by = dominated_by - d[current].sum(axis=0)
        front += 1
    return ranks


def crowding_distance(f: np.ndarray) -> np.ndarray:
    """Crowding distance of rows within one front; the extremes of each objective get inf."""
    n, m = f.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(f[:, k], kind="stable")
        col = f[order, k]
        span = col[-1] - col[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (col[2:] - col[:-2]) / span
    return distance


def crowded_order(f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted best first by (front, -crowding distance); also the ranks and distances."""
    ranks = non_dominated_ranks(f)
    distance = np.zeros(len(f))
    for r in np.unique(ranks):
        members = ranks == r
        distance[members] = crowding_distance(f[members])
    order = np.lexsort((-distance, ranks))
    return order, ranks, distance
