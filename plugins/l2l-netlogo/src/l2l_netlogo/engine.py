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

from .network import INPUTS
from .rules import Rules, World
from .snn import Brains


@dataclass
class Outcome:
    """What a batch of colony simulations produced, one entry per colony."""

    delivered: np.ndarray        # food units returned to the nest
    first_delivery: np.ndarray   # tick of the first delivery (``ticks`` when none)
    wasted: np.ndarray           # blocked moves + cancelled turn spikes, all ants
    walked: np.ndarray           # distance walked, all ants
    food: np.ndarray             # food remaining per patch, (colonies, W, W)
    carried: np.ndarray          # units carried by ants at the end
    spikes: np.ndarray           # spikes of hidden + motor neurons, all ants
    pheromone: np.ndarray        # final pheromone field, (colonies, W, W)
    paths: np.ndarray | None     # (colonies, ticks + 1, ants, 2) positions when recorded
    carrying: np.ndarray | None  # (colonies, ticks + 1, ants) carrying flags when recorded
    homing: np.ndarray | None = None  # distance to the nest closed by carrying ants, all ants

    @property
    def food_left(self) -> np.ndarray:
        """Food remaining on patches, per colony."""
        return self.food.sum(axis=(1, 2))

    def fitness(self, rules: Rules) -> np.ndarray:
        """Food returned minus ``waste_cost`` × wasted movements per ant."""
        return self.delivered - rules.waste_cost * self.wasted / rules.n_ants

    def shaped(self, rules: Rules, bonus: float) -> np.ndarray:
        """:meth:`fitness` plus ``bonus`` × the distance to the nest that carrying ants closed
        (signed, so walking away with food counts against it), in units of the world's half
        width: a training signal for carrying food home before any delivery happens."""
        if self.homing is None:
            raise ValueError("this engine does not measure homing (the 'shaped' objective)")
        return self.fitness(rules) + bonus * self.homing / rules.max_coord


def patch_index(coord: np.ndarray, m: int) -> np.ndarray:
    """Index (0..2m) of the patch whose centre is nearest; may fall outside."""
    return np.floor(coord + 0.5).astype(np.int64) + m


def diffuse(field: np.ndarray, rate: float, neighbours: np.ndarray) -> np.ndarray:
    """NetLogo's ``diffuse`` on a non-wrapping world, over the last two axes. Conserves the
    total: shares for missing neighbours stay on the patch."""
    share = field * (rate / 8.0)
    padded = np.zeros(field.shape[:-2] + (field.shape[-2] + 2, field.shape[-1] + 2))
    padded[..., 1:-1, 1:-1] = share
    rows = padded[..., :-2, :] + padded[..., 1:-1, :] + padded[..., 2:, :]
    box = rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]   # 3x3 sums of shares
    return field * (1.0 - rate) + share * (8.0 - neighbours) + (box - share)


class Colonies:
    """The bodies and worlds of a batch of colonies: positions, headings, loads, food,
    pheromone and the tallies of the fitness."""

    def __init__(self, rules: Rules, world: World, seeds: Sequence[int]):
        self.rules, self.world = rules, world
        nb, na = len(seeds), rules.n_ants
        rngs = [np.random.default_rng(s) for s in seeds]
        self.heading = np.stack([g.uniform(0.0, 360.0, na) for g in rngs])
        self.noise = np.stack([g.random((rules.ticks, na)) for g in rngs])  # (colonies, T, ants)
        self.x, self.y = np.zeros((nb, na)), np.zeros((nb, na))
        self.carrying = np.zeros((nb, na), dtype=bool)
        self.food = np.repeat(world.food[None], nb, axis=0)
        self.pher = np.zeros((nb, rules.world_size, rules.world_size))
        self.active = world.remaining(self.food) > 0
        self.scent = world.food_scent(self.active)
        self.delivered = np.zeros(nb, dtype=np.int64)
        self.first = np.full(nb, rules.ticks, dtype=np.int64)
        self.wasted, self.walked, self.homing = np.zeros(nb), np.zeros(nb), np.zeros(nb)
        self.b = np.arange(nb)[:, None]
        self.inputs = np.zeros((nb, na, len(INPUTS)))
        self.inputs[..., INPUTS.index("bias")] = 1.0

    def inside(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        w = self.rules.world_size
        return (ix >= 0) & (ix < w) & (iy >= 0) & (iy < w)

    def here(self) -> tuple[np.ndarray, np.ndarray]:
        m = self.rules.max_coord
        return patch_index(self.x, m), patch_index(self.y, m)

    def look(self, angle: float, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patch ``dist`` ahead at ``angle`` degrees right of each ant (its own patch where
        that is outside the world), and whether it is inside."""
        m = self.rules.max_coord
        rad = np.deg2rad(self.heading + angle)
        ix = patch_index(self.x + dist * np.sin(rad), m)
        iy = patch_index(self.y + dist * np.cos(rad), m)
        ok = self.inside(ix, iy)
        hx, hy = self.here()
        return np.where(ok, ix, hx), np.where(ok, iy, hy), ok

    def sense(self, t: int) -> np.ndarray:
        """The inputs of every ant at tick ``t`` (colonies, ants, 11), in ``INPUTS`` order."""
        r, b, s = self.rules, self.b, self.inputs
        lx, ly, _ = self.look(-r.sense_angle, r.sense_distance)
        rx, ry, _ = self.look(r.sense_angle, r.sense_distance)
        pl, pr = self.pher[b, lx, ly], self.pher[b, rx, ry]
        s[..., 0], s[..., 1] = pl / (pl + r.pheromone_half), pr / (pr + r.pheromone_half)
        df = self.scent[b, lx, ly] - self.scent[b, rx, ry]
        dn = self.world.nest_scent[lx, ly] - self.world.nest_scent[rx, ry]
        s[..., 2], s[..., 3] = np.clip(df, 0, 1), np.clip(-df, 0, 1)
        s[..., 4], s[..., 5] = np.clip(dn, 0, 1), np.clip(-dn, 0, 1)
        s[..., 6], s[..., 7] = self.carrying, ~self.carrying
        s[..., 8] = ~self.look(0.0, 1.0)[2]
        s[..., 9] = self.noise[:, t]
        return s

    def act(self, motor: np.ndarray, t: int) -> None:
        """Turn, walk, lay pheromone, drop or pick up food, from the motor spike counts."""
        r, b, world = self.rules, self.b, self.world
        left, right, fwd, lay = (motor[..., k] for k in range(4))
        self.heading = np.mod(self.heading + r.turn_angle * (right - left), 360.0)
        self.wasted += np.minimum(left, right).sum(axis=1)
        dist = r.speed * fwd / r.substeps
        rad = np.deg2rad(self.heading)
        nx, ny = self.x + dist * np.sin(rad), self.y + dist * np.cos(rad)
        ok = self.inside(patch_index(nx, r.max_coord), patch_index(ny, r.max_coord))
        moving = ok & (fwd > 0)
        self.wasted += ((fwd > 0) & ~ok).sum(axis=1)
        self.walked += np.where(moving, dist, 0.0).sum(axis=1)
        closer = np.hypot(self.x, self.y) - np.hypot(nx, ny)   # signed: moving away counts < 0
        self.homing += np.where(moving & self.carrying, closer, 0.0).sum(axis=1)
        self.x, self.y = np.where(moving, nx, self.x), np.where(moving, ny, self.y)

        hx, hy = self.here()
        laying = self.carrying & (lay > 0)
        if laying.any():
            lb = np.broadcast_to(b, laying.shape)[laying]
            np.add.at(self.pher, (lb, hx[laying], hy[laying]), r.deposit)
        drop = self.carrying & world.nest[hx, hy]
        n_drop = drop.sum(axis=1)
        self.first = np.where((n_drop > 0) & (self.delivered == 0), t + 1, self.first)
        self.delivered += n_drop
        take = pickups(~self.carrying & (self.food[b, hx, hy] > 0), self.food, hx, hy)
        self.carrying = (self.carrying & ~drop) | take
        self.heading = np.where(drop | take, np.mod(self.heading + 180.0, 360.0), self.heading)
        if take.any():
            still = world.remaining(self.food) > 0
            if (still != self.active).any():
                self.active, self.scent = still, world.food_scent(still)

    def spread(self) -> None:
        """Diffusion, then evaporation, of the pheromone."""
        r = self.rules
        self.pher = diffuse(self.pher, r.diffusion, self.world.neighbours) * (1.0 - r.evaporation)


def pickups(want: np.ndarray, food: np.ndarray, hx: np.ndarray, hy: np.ndarray) -> np.ndarray:
    """Ants that get a unit of food: on a patch, ants take food in index order while it lasts.
    Decrements ``food`` (colonies, W, W) in place."""
    if not want.any():
        return want
    nb, na = want.shape
    w = food.shape[-1]
    flat = food.reshape(-1)
    cand = np.flatnonzero(want)
    keys = ((np.arange(nb)[:, None] * w + hx) * w + hy).reshape(-1)[cand]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    _, starts, counts = np.unique(sorted_keys, return_index=True, return_counts=True)
    rank = np.arange(len(sorted_keys)) - np.repeat(starts, counts)
    granted = rank < flat[sorted_keys]
    np.subtract.at(flat, sorted_keys[granted], 1)
    take = np.zeros(nb * na, dtype=bool)
    take[cand[order[granted]]] = True
    return take.reshape(nb, na)


class PythonEngine:
    """Simulates colonies under ``rules``; one instance can be reused for any batch size."""

    name = "python"

    def __init__(self, rules: Rules):
        self.rules = rules
        self.world = World.build(rules)

    def run(self, weights: Sequence[np.ndarray], delays: Sequence[np.ndarray],
            seeds: Sequence[int], record: bool = False) -> Outcome:
        """Simulate one colony per (weights, delays, seed); ``record`` keeps the ants' paths."""
        r = self.rules
        brains = Brains(weights, delays, r.hidden, r.n_ants, r.neurons)
        col = Colonies(r, self.world, seeds)
        kept = r.ticks + 1 if record else 0
        paths = np.zeros((len(seeds), kept, r.n_ants, 2))
        loads = np.zeros((len(seeds), kept, r.n_ants), dtype=bool)
        for t in range(r.ticks + 1):
            if record:
                paths[:, t, :, 0], paths[:, t, :, 1], loads[:, t] = col.x, col.y, col.carrying
            if t == r.ticks:
                break
            col.act(brains.think(col.sense(t), r.substeps), t)
            col.spread()
        return Outcome(delivered=col.delivered, first_delivery=col.first, wasted=col.wasted,
                       walked=col.walked, food=col.food, carried=col.carrying.sum(axis=1),
                       spikes=brains.spikes, pheromone=col.pher, homing=col.homing,
                       paths=paths if record else None, carrying=loads if record else None)
