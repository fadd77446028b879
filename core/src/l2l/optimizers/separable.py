"""A coordinate-wise search for the start of ``cmaes``: one-dimensional global searches by
interval division along each coordinate, after the idea of STEP ("select the easiest point",
Swarzberg, Seront & Bersini 1994; used per coordinate in front of BIPOP-aCMA-ES by Loshchilov,
Schoenauer & Sebag 2013), that stops as soon as the coordinates are seen to interact.

The whole state is one dict of arrays and numbers (``start``), so the search is checkpointed
with the optimizer that holds it.

Each coordinate ``i`` keeps the points ``t`` tried along it and their values ``v_i(t)``, known up
to a constant of the coordinate: a point is the current point ``x`` with coordinate ``i`` set to
``t``, and ``v_i(t) = v_i(x_i) + f(point) - f(x)``. If ``f`` is additively separable these
profiles do not depend on the other coordinates, so every point ever tried stays valid while
``x`` moves; ``x`` takes in each coordinate the best value of its profile. That is checked: a
batch opens with the combined point ``x`` whenever two or more coordinates moved at once (its
value is predicted by the profiles), and every ``RECHECK_EVERY`` batches otherwise with the
re-evaluation of a point tried earlier. A check that misses its prediction (error above 1e-9 of
the largest value seen: the profiles are sums of differences, rounded at that scale) means the
coordinates interact: the search ends and hands its best point over. On a non-separable function
that happens in the second batch. Otherwise it ends after ``budget`` evaluations, after
``STALL`` evaluations per coordinate without an improvement, or when nothing is left to divide.

The coordinates take turns (each gets the same share of the evaluations: how hard an interval
is depends on its coordinate's scale), and a coordinate's turns alternate between a global and
a local step. The global step divides the "easiest" interval between neighbouring points of the
profile: the interval ``[a, b]`` of width ``w`` that needs the smallest curvature to dip below
the profile's best value, ``(sqrt(v_a - T) + sqrt(v_b - T))**2 / w**2`` with ``T`` just below
that best (the parabola through both ends that touches ``T``). The local step refines the best
point: the vertex of the parabola through it and its two neighbours when that lies well inside
the bracket, else the midpoint of the wider interval next to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: the points tried first along each coordinate (unit-cube coordinates)
GRID = np.linspace(0.0, 1.0, 5)
#: the narrowest interval that is still divided
MIN_WIDTH = 1e-12
#: the relative error a check may show before the coordinates count as interacting
TOLERANCE = 1e-9
#: a batch without a combined point holds a re-evaluation every this many batches
RECHECK_EVERY = 4
#: the search ends after this many evaluations per coordinate without an improvement
STALL = 100

Probe = dict[str, Any]


def start(x0: np.ndarray, budget: int) -> Probe:
    """A new search from ``x0`` (unit cube) with at most ``budget`` evaluations."""
    d = len(x0)
    queue = [(i, t) for i in range(d) for t in GRID if abs(t - x0[i]) > MIN_WIDTH]
    return {
        "active": True, "budget": int(budget), "evals": 0, "batches": 0, "last_check": 0,
        "x": np.asarray(x0, dtype=float).copy(), "f": 0.0, "f_known": False,
        "f_pred": 0.0, "pred_known": False,
        "coords": np.arange(d), "ts": np.asarray(x0, dtype=float).copy(), "vs": np.zeros(d),
        "queue": np.array(queue, dtype=float).reshape(-1, 2),
        "pending": np.zeros((0, 3)), "pending_pred": 0.0, "turn": 0,
        "steps": np.zeros(d, dtype=np.int64),
        "start": np.asarray(x0, dtype=float).copy(), "interacts": False,
        "best_x": np.asarray(x0, dtype=float).copy(), "best_f": np.inf, "improved_at": 0,
        "scale": 0.0,
    }


def ask(p: Probe, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (rows, unit cube): the check if one is due, then probes along the
    coordinates (random ones when fewer intervals are left than ``n`` asks for). ``pending``
    records them as rows (kind, coordinate, t): kind 1 is the check (coordinate -1: the
    combined point itself), kind 0 a probe."""
    rows = _check(p, rng)
    queue = p["queue"]
    take = min(len(queue), n - len(rows))
    rows += [(0, int(i), float(t)) for i, t in queue[:take]]
    p["queue"] = queue[take:]
    if len(rows) < n:
        rows += [(0, i, t) for i, t in _easiest(p, n - len(rows))]
    while len(rows) < n:   # a population larger than the intervals to divide: random probes
        rows.append((0, int(rng.integers(len(p["x"]))), float(rng.uniform())))
    p["pending"] = np.array(rows, dtype=float).reshape(-1, 3)
    points = np.repeat(p["x"][None, :], len(rows), axis=0)
    for k, (_, i, t) in enumerate(rows):
        if i >= 0:
            points[k, i] = t
    return points


def _check(p: Probe, rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """The check of this batch, with its prediction in ``pending_pred``: the combined point
    while its value is only predicted; else, every few batches, a point tried earlier along a
    coordinate whose profile was recorded at another ``x``; else none."""
    if not p["f_known"]:
        p["pending_pred"] = p["f_pred"]
        return [(1, -1, 0.0)]
    if p["batches"] - p["last_check"] < RECHECK_EVERY:
        return []
    coords, ts, vs, x = p["coords"], p["ts"], p["vs"], p["x"]
    old = np.flatnonzero(ts != x[coords])
    if not len(old):
        return []
    k = int(old[rng.integers(len(old))])
    i = int(coords[k])
    p["pending_pred"] = p["f"] + vs[k] - _here(p, i)
    return [(1, i, float(ts[k]))]


def _here(p: Probe, i: int) -> float:
    """The profile value of coordinate ``i`` at the current point."""
    return float(p["vs"][(p["coords"] == i) & (p["ts"] == p["x"][i])][0])


def _easiest(p: Probe, n: int) -> list[tuple[int, float]]:
    """``n`` points, from the coordinates in turn (they share the evaluations equally: how
    hard an interval is depends on the scale of its coordinate). A coordinate's turns
    alternate between a local step (:func:`_local`) and dividing its easiest interval."""
    coords, ts, vs = p["coords"], p["ts"], p["vs"]
    d = len(p["x"])
    order = np.lexsort((ts, coords))
    c, t, v = coords[order], ts[order], vs[order]
    same = c[1:] == c[:-1]
    a, b, va, vb, ci = t[:-1][same], t[1:][same], v[:-1][same], v[1:][same], c[:-1][same]
    w = b - a
    best = np.full(d, np.inf)
    np.minimum.at(best, c, v)
    target = best[ci] - 1e-12 * (1 + np.abs(best[ci]))
    hard = (np.sqrt(np.maximum(va - target, 0)) + np.sqrt(np.maximum(vb - target, 0))) ** 2
    hard = np.where(w > MIN_WIDTH, hard / np.maximum(w, MIN_WIDTH) ** 2, np.inf)
    ranked = [[k for k in np.flatnonzero(ci == i)[np.argsort(hard[ci == i], kind="stable")]
               if np.isfinite(hard[k])] for i in range(d)]
    steps = p["steps"]
    out: list[tuple[int, float]] = []
    turn = int(p["turn"])
    for step in range(2 * n * d):
        if len(out) == n:
            break
        i = (turn + step) % d
        point = _local(t[c == i], v[c == i]) if steps[i] % 2 == 0 else None
        if point is None or (i, point) in out:
            while ranked[i] and point is None:
                k = ranked[i].pop(0)
                point = (float(a[k]) + float(b[k])) / 2
        if point is not None:
            out.append((i, point))
            steps[i] += 1
            p["turn"] = (i + 1) % d
    return out


def _divisible(p: Probe) -> bool:
    """Whether some profile still has an interval wider than ``MIN_WIDTH``."""
    order = np.lexsort((p["ts"], p["coords"]))
    c, t = p["coords"][order], p["ts"][order]
    return bool(np.any((c[1:] == c[:-1]) & (np.diff(t) > MIN_WIDTH)))


def _local(t: np.ndarray, v: np.ndarray) -> float | None:
    """A step of a one-dimensional local search around the profile's best point: the vertex
    of the parabola through it and its neighbours when that lies inside the bracket and not
    too close to the best point, else the midpoint of the wider interval next to it; None
    when those intervals are narrower than ``MIN_WIDTH``."""
    m = int(np.argmin(v))
    left = t[m] - t[m - 1] if m > 0 else 0.0
    right = t[m + 1] - t[m] if m < len(t) - 1 else 0.0
    if max(left, right) <= MIN_WIDTH:
        return None
    if m > 0 and m < len(t) - 1:
        (t0, t1, t2), (v0, v1, v2) = t[m - 1:m + 2], v[m - 1:m + 2]
        den = (t1 - t0) * (v1 - v2) - (t1 - t2) * (v1 - v0)
        if den != 0:
            vertex = t1 - 0.5 * ((t1 - t0) ** 2 * (v1 - v2) - (t1 - t2) ** 2 * (v1 - v0)) / den
            side = left if vertex < t1 else right
            if t0 < vertex < t2 and 0.01 * side < abs(vertex - t1) < 0.99 * side:
                return float(vertex)
    return float(t[m] - left / 2 if left > right else t[m] + right / 2)


def handover(p: Probe) -> np.ndarray:
    """Where CMA-ES starts once the search has ended: the best point found if the function
    behaved as separable throughout; the search's own start if the coordinates were seen to
    interact (the profiles then say nothing reliable: CMA-ES runs as if there had been no
    search, only later by the evaluations it took)."""
    return np.asarray(p["start"] if p["interacts"] else p["best_x"], dtype=float)


def tell(p: Probe, points: np.ndarray, losses: np.ndarray) -> None:
    """Take the losses of the points of the last :func:`ask`; ends the search (``active``
    False) when a check fails, the budget is spent or nothing is left to divide."""
    losses = np.asarray(losses, dtype=float)
    p["evals"] += len(losses)
    p["batches"] += 1
    p["scale"] = max(float(p["scale"]), float(np.max(np.abs(losses))))
    k = int(np.argmin(losses))
    if not np.isfinite(p["best_f"]) or losses[k] < p["best_f"] - 1e-12 * abs(p["best_f"]):
        p["improved_at"] = p["evals"]
    if losses[k] < p["best_f"]:
        p["best_f"], p["best_x"] = float(losses[k]), points[k].copy()
    pending = p["pending"]
    probes = pending[:, 0] == 0
    if not probes.all():   # the check is the first row
        measured, predicted = float(losses[0]), float(p["pending_pred"])
        p["last_check"] = p["batches"]
        if p["pred_known"]:
            # the profiles are sums of differences of values up to ``scale``: their rounding
            # errors are relative to it, not to the (smaller) values near the optimum
            if not abs(measured - predicted) <= TOLERANCE * (p["scale"] + abs(measured)):
                p["active"], p["interacts"] = False, True
                return
        if not p["f_known"]:
            p["f"], p["f_known"] = measured, True
    f, x = float(p["f"]), p["x"]
    coords, ts, vs = p["coords"], p["ts"], p["vs"]
    here = np.array([_here(p, i) for i in range(len(x))])
    new_c = pending[probes, 1].astype(int)
    new_t = pending[probes, 2]
    new_v = here[new_c] + losses[probes] - f
    p["coords"] = np.concatenate([coords, new_c])
    p["ts"] = np.concatenate([ts, new_t])
    p["vs"] = np.concatenate([vs, new_v])
    moved = []
    for i in np.unique(new_c):
        mine = new_c == i
        j = int(np.argmin(new_v[mine]))
        if new_v[mine][j] < here[i]:
            moved.append((int(i), float(new_t[mine][j]), float(new_v[mine][j] - here[i]),
                          float(losses[probes][mine][j])))
    if moved:
        for i, t, _, _ in moved:
            x[i] = t
        if len(moved) == 1:
            p["f"] = moved[0][3]
        else:
            p["f_pred"] = f + sum(gain for _, _, gain, _ in moved)
            p["f_known"], p["pred_known"] = False, True
    stalled = p["evals"] - p["improved_at"] >= STALL * len(x)
    if p["evals"] >= p["budget"] or stalled or (not len(p["queue"]) and not _divisible(p)
                                                and p["f_known"]):
        p["active"] = False
