"""The embedded Python engine: the ants model vectorised with numpy over ants and over a batch
of colonies (one colony per parameter set, each with its own world and random stream).

Per tick, every ant: senses (pheromone, food and nest scent at ``sense_angle`` left and right,
``sense_distance`` ahead; whether it carries food; a wall ahead; noise; a bias), runs its
spiking network for ``substeps`` steps, turns by ``turn_angle`` per spike of turn-right minus
turn-left, walks ``speed`` × (forward spikes / substeps) unless that leaves the world, lays
``deposit`` pheromone when it carries food and its pheromone neuron fired, then drops food on
the nest or picks one unit up from a food patch (turning around in both cases). Then the
pheromone diffuses (NetLogo's ``diffuse``: each patch gives ``diffusion``/8 of its amount to
each neighbour and keeps the shares of missing neighbours) and evaporates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .network import N_INPUTS, matrices
from .rules import Rules, World


@dataclass
class Outcome:
    """What a batch of colony simulations produced, one entry per colony."""

    delivered: np.ndarray        # food units returned to the nest
    first_delivery: np.ndarray   # tick of the first delivery (``ticks`` when none)
    wasted: np.ndarray           # blocked moves + cancelled turn spikes, all ants
    walked: np.ndarray           # distance walked, all ants
    food_left: np.ndarray        # food remaining on patches
    carried: np.ndarray          # units carried by ants at the end
    spikes: np.ndarray           # spikes of hidden + motor neurons, all ants
    pheromone: np.ndarray        # final pheromone field, (colonies, W, W)
    paths: np.ndarray | None     # (colonies, ticks + 1, ants, 2) positions when recorded
    carrying: np.ndarray | None  # (colonies, ticks + 1, ants) carrying flags when recorded

    def fitness(self, rules: Rules) -> np.ndarray:
        """Food returned minus ``waste_cost`` × wasted movements per ant."""
        return self.delivered - rules.waste_cost * self.wasted / rules.n_ants


def patch_index(coord: np.ndarray, m: int) -> np.ndarray:
    """Index (0..2m) of the patch whose centre is nearest; may fall outside."""
    return np.floor(coord + 0.5).astype(np.int64) + m


def diffuse(field: np.ndarray, rate: float, neighbours: np.ndarray) -> np.ndarray:
    """NetLogo's ``diffuse`` on a non-wrapping world, over the last two axes. Conserves the
    total: shares for missing neighbours stay on the patch."""
    share = field * (rate / 8.0)
    padded = np.pad(share, [(0, 0)] * (field.ndim - 2) + [(1, 1), (1, 1)])
    w = field.shape[-1]
    received = np.zeros_like(field)
    for dx in (0, 1, 2):
        for dy in (0, 1, 2):
            if dx != 1 or dy != 1:
                received += padded[..., dx:dx + w, dy:dy + w]
    return field * (1.0 - rate) + share * (8.0 - neighbours) + received


class PythonEngine:
    """Simulates colonies under ``rules``; one instance can be reused for any batch size."""

    name = "python"

    def __init__(self, rules: Rules):
        self.rules = rules
        self.world = World.build(rules)

    def run(self, weights: Sequence[np.ndarray], delays: Sequence[np.ndarray],
            seeds: Sequence[int], record: bool = False) -> Outcome:
        """Simulate one colony per (weights, delays, seed)."""
        r, world = self.rules, self.world
        nb, na, m, w = len(seeds), r.n_ants, r.max_coord, r.world_size
        hid, dmax = r.hidden, r.neurons.max_delay
        mats = [matrices(wt, dl, hid) for wt, dl in zip(weights, delays)]
        wmat = np.stack([x[0] for x in mats])                      # (B, pre, post)
        dmat = np.stack([x[1] for x in mats])
        n_pre, n_post = wmat.shape[1], wmat.shape[2]
        # (B, dmax * pre, post): weight of a spike emitted k+1 steps ago, stacked over k
        wdel = np.concatenate([wmat * (dmat == k + 1) for k in range(dmax)], axis=1)

        rngs = [np.random.default_rng(s) for s in seeds]
        heading = np.stack([g.uniform(0.0, 360.0, na) for g in rngs])
        noise = np.stack([g.random((r.ticks, na)) for g in rngs])  # (B, T, A)
        x = np.zeros((nb, na))
        y = np.zeros((nb, na))
        carrying = np.zeros((nb, na), dtype=bool)
        food = np.repeat(world.food[None], nb, axis=0)
        pher = np.zeros((nb, w, w))
        acc = np.zeros((nb, na, N_INPUTS))
        v = np.zeros((nb, na, n_post))
        hist = np.zeros((nb, dmax + 1, na, n_pre))
        delivered = np.zeros(nb, dtype=np.int64)
        first = np.full(nb, r.ticks, dtype=np.int64)
        wasted = np.zeros(nb)
        walked = np.zeros(nb)
        spikes = np.zeros(nb, dtype=np.int64)
        b = np.arange(nb)[:, None]
        sense = np.zeros((nb, na, N_INPUTS))
        sense[..., 10] = 1.0
        paths = np.zeros((nb, r.ticks + 1, na, 2)) if record else None
        carry_log = np.zeros((nb, r.ticks + 1, na), dtype=bool) if record else None
        step = 0

        def here() -> tuple[np.ndarray, np.ndarray]:
            return patch_index(x, m), patch_index(y, m)

        def look(angle: float, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rad = np.deg2rad(heading + angle)
            ix, iy = patch_index(x + dist * np.sin(rad), m), patch_index(y + dist * np.cos(rad), m)
            inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < w)
            hx, hy = here()
            return np.where(inside, ix, hx), np.where(inside, iy, hy), inside

        for t in range(r.ticks):
            if record:
                paths[:, t, :, 0], paths[:, t, :, 1], carry_log[:, t] = x, y, carrying
            lx, ly, _ = look(-r.sense_angle, r.sense_distance)
            rx, ry, _ = look(r.sense_angle, r.sense_distance)
            pl, pr = pher[b, lx, ly], pher[b, rx, ry]
            sense[..., 0] = pl / (pl + r.pheromone_half)
            sense[..., 1] = pr / (pr + r.pheromone_half)
            df = world.food_scent[lx, ly] - world.food_scent[rx, ry]
            dn = world.nest_scent[lx, ly] - world.nest_scent[rx, ry]
            sense[..., 2], sense[..., 3] = np.clip(df, 0, 1), np.clip(-df, 0, 1)
            sense[..., 4], sense[..., 5] = np.clip(dn, 0, 1), np.clip(-dn, 0, 1)
            sense[..., 6], sense[..., 7] = carrying, ~carrying
            sense[..., 8] = ~look(0.0, 1.0)[2]
            sense[..., 9] = noise[:, t]

            motor = np.zeros((nb, na, n_post - hid))
            for _ in range(r.substeps):
                acc += sense
                s_in = acc >= 1.0
                acc -= s_in
                order = (step - 1 - np.arange(dmax)) % (dmax + 1)
                delayed = hist[:, order].transpose(0, 2, 1, 3).reshape(nb, na, dmax * n_pre)
                v = v * r.neurons.decay + delayed @ wdel
                fired = v >= r.neurons.threshold
                v[fired] = 0.0
                hist[:, step % (dmax + 1), :, :N_INPUTS] = s_in
                hist[:, step % (dmax + 1), :, N_INPUTS:] = fired[..., :hid]
                motor += fired[..., hid:]
                spikes += fired.sum(axis=(1, 2))
                step += 1

            left, right, fwd, lay = motor[..., 0], motor[..., 1], motor[..., 2], motor[..., 3]
            heading = np.mod(heading + r.turn_angle * (right - left), 360.0)
            wasted += np.minimum(left, right).sum(axis=1)
            dist = r.speed * fwd / r.substeps
            rad = np.deg2rad(heading)
            nx, ny = x + dist * np.sin(rad), y + dist * np.cos(rad)
            ix, iy = patch_index(nx, m), patch_index(ny, m)
            ok = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < w)
            moving = ok & (fwd > 0)
            wasted += ((fwd > 0) & ~ok).sum(axis=1)
            walked += np.where(moving, dist, 0.0).sum(axis=1)
            x, y = np.where(moving, nx, x), np.where(moving, ny, y)

            hx, hy = here()
            laying = carrying & (lay > 0)
            np.add.at(pher, (np.broadcast_to(b, laying.shape)[laying], hx[laying], hy[laying]),
                      r.deposit)
            drop = carrying & world.nest[hx, hy]
            n_drop = drop.sum(axis=1)
            first = np.where((n_drop > 0) & (delivered == 0), t + 1, first)
            delivered += n_drop
            take = self._pickups(~carrying & (food[b, hx, hy] > 0), food, hx, hy)
            carrying = (carrying & ~drop) | take
            heading = np.where(drop | take, np.mod(heading + 180.0, 360.0), heading)

            pher = diffuse(pher, r.diffusion, world.neighbours) * (1.0 - r.evaporation)

        if record:
            paths[:, -1, :, 0], paths[:, -1, :, 1], carry_log[:, -1] = x, y, carrying
        return Outcome(delivered=delivered, first_delivery=first, wasted=wasted, walked=walked,
                       food_left=food.sum(axis=(1, 2)), carried=carrying.sum(axis=1),
                       spikes=spikes, pheromone=pher, paths=paths, carrying=carry_log)

    @staticmethod
    def _pickups(want: np.ndarray, food: np.ndarray, hx: np.ndarray, hy: np.ndarray) -> np.ndarray:
        """Ants that get a unit of food: on a patch, ants take food in index order while it
        lasts. Decrements ``food`` in place."""
        nb, na = want.shape
        w = food.shape[-1]
        flat = food.reshape(-1)
        key = ((np.arange(nb)[:, None] * w + hx) * w + hy)
        cand = np.flatnonzero(want)
        keys = key.reshape(-1)[cand]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        _, starts, counts = np.unique(sorted_keys, return_index=True, return_counts=True)
        rank = np.arange(len(sorted_keys)) - np.repeat(starts, counts)
        granted = rank < flat[sorted_keys]
        np.subtract.at(flat, sorted_keys[granted], 1)
        take = np.zeros(nb * na, dtype=bool)
        take[cand[order[granted]]] = True
        return take.reshape(nb, na)
