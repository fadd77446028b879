"""The rules of the ant world, shared by the Python engine and the NetLogo model.

Geometry follows NetLogo: patch centres at integer coordinates ``-M..M`` (``M = (world_size -
1) / 2``), no wrapping, heading 0 = north and clockwise, a point belongs to the patch whose
centre is nearest. The nest is the disc of ``nest_radius`` around the origin; three food
sources (as in NetLogo's Ants model) are discs of ``food_radius`` around ``(0.6M, 0)``,
``(-0.6M, -0.6M)`` and ``(-0.8M, 0.8M)``, each patch holding ``food_per_patch`` units. Nest
scent is minus the distance to the nest centre; food scent is ``max(0, scent_radius - d)`` with
``d`` the distance to the nearest source centre that still holds food (an emptied source stops
smelling from the next tick on).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from l2l import ConfigError

from .network import Neurons


@dataclass(frozen=True)
class Rules:
    """All settings of one colony simulation (see the README for their meaning)."""

    world_size: int = 41
    n_ants: int = 15
    ticks: int = 500
    substeps: int = 5
    hidden: int = 10
    nest_radius: float = 3.0
    food_radius: float = 3.0
    food_per_patch: int = 2
    scent_radius: float = 10.0
    sense_distance: float = 2.0
    sense_angle: float = 45.0
    turn_angle: float = 20.0
    speed: float = 1.0
    deposit: float = 60.0
    diffusion: float = 0.5
    evaporation: float = 0.1
    pheromone_half: float = 20.0
    waste_cost: float = 0.001
    neurons: Neurons = field(default_factory=Neurons)

    def __post_init__(self) -> None:
        if self.world_size < 11 or self.world_size % 2 == 0:
            raise ConfigError(f"world_size must be odd and at least 11, got {self.world_size}")
        for name in ("n_ants", "ticks", "substeps", "hidden"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("diffusion", "evaporation"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must lie in [0, 1], got {getattr(self, name)}")

    @property
    def max_coord(self) -> int:
        return (self.world_size - 1) // 2

    def food_centres(self) -> np.ndarray:
        m = self.max_coord
        return np.array([[0.6 * m, 0.0], [-0.6 * m, -0.6 * m], [-0.8 * m, 0.8 * m]])

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class World:
    """Static patch fields, indexed ``[x + M, y + M]``."""

    nest: np.ndarray          # bool
    food: np.ndarray          # int, initial food per patch
    nest_scent: np.ndarray
    source: np.ndarray        # int, index of the food source a patch belongs to, -1 if none
    source_scent: np.ndarray  # (sources, W, W): scent of each source alone
    neighbours: np.ndarray    # number of existing neighbours (3, 5 or 8)

    def food_scent(self, active: np.ndarray) -> np.ndarray:
        """Food scent fields (colonies, W, W) given which sources still hold food
        (colonies, sources)."""
        return (self.source_scent[None] * active[:, :, None, None]).max(axis=1)

    def remaining(self, food: np.ndarray) -> np.ndarray:
        """Food left per colony and source, (colonies, sources)."""
        return np.stack([(food * (self.source == s)).sum(axis=(-2, -1))
                         for s in range(len(self.source_scent))], axis=-1)

    @classmethod
    def build(cls, rules: Rules) -> World:
        m = rules.max_coord
        c = np.arange(-m, m + 1, dtype=float)
        px, py = np.meshgrid(c, c, indexing="ij")
        dist_nest = np.hypot(px, py)
        centres = rules.food_centres()
        dist_food = np.stack([np.hypot(px - fx, py - fy) for fx, fy in centres])
        in_food = (dist_food < rules.food_radius).any(axis=0)
        source = np.where(in_food, dist_food.argmin(axis=0), -1)
        n_x = 3 - (np.abs(px) == m)
        n_y = 3 - (np.abs(py) == m)
        return cls(nest=dist_nest < rules.nest_radius,
                   food=np.where(in_food, int(rules.food_per_patch), 0).astype(np.int64),
                   nest_scent=-dist_nest,
                   source=source,
                   source_scent=np.maximum(0.0, rules.scent_radius - dist_food),
                   neighbours=(n_x * n_y - 1).astype(float))
