"""Grid search over a declared grid, a chunk of grid points per generation."""

from __future__ import annotations

from math import prod
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..evaluation import Evaluation
from ..optimizer import Problem, VectorOptimizer
from ..space import Categorical, Int, Parameter
from .utils import positive_int


def parameter_axes(param: Parameter, points: int,
                   explicit: Sequence[Any] | None) -> list[np.ndarray]:
    """The grid axes of one parameter, each an array of encoded values of shape
    ``(count, width)``: one axis of explicit values (whole parameter values), else all choices
    of a categorical, else ``points`` evenly spaced values for each element of the parameter
    (integers rounded and deduplicated)."""
    if explicit is not None:
        rows = [param.encode(v) for v in explicit]
        if not rows:
            raise ConfigError(f"grid values for {param.name!r} are empty")
        low, high = param.bounds()
        for row in rows:
            if row.size != param.size:
                raise ConfigError(f"grid value for {param.name!r} has {row.size} entries, "
                                  f"expected {param.size}")
            if (row < low).any() or (row > high).any():
                raise ConfigError(f"grid value {row.tolist()} for {param.name!r} is outside "
                                  f"[{low}, {high}]")
        return [np.array(rows)]
    if isinstance(param, Categorical):
        return [np.arange(len(param.choices), dtype=float).reshape(-1, 1)]
    axis = np.linspace(param.low, param.high, points)
    if isinstance(param, Int):
        axis = np.unique(np.rint(axis))
    return [axis.reshape(-1, 1)] * param.size


class GridSearch(VectorOptimizer):
    """Exhaustive search of a grid (L2L's GridSearchOptimizer), ``population`` points per
    generation in lexicographic order (the last parameter varies fastest); ``done`` is True
    once every point has been asked. Each grid point is asked exactly once.

    Hyper-parameters (defaults): ``points``: points per parameter (element), an int for all
    or a table ``{name: int}`` (5; a float parameter gets evenly spaced values including both
    bounds, an int parameter the rounded distinct ones, a categorical all its choices);
    ``values``: explicit values per parameter, ``{name: [v1, v2, ...]}`` (None), which take
    precedence over ``points``; ``population`` grid points per generation (32). Async mode:
    one grid point per ask, in grid order.
    """

    asynchronous: ClassVar[bool] = True

    state_attributes: ClassVar[tuple[str, ...]] = ("next_index",)

    def __init__(self, points: int | Mapping[str, int] = 5,
                 values: Mapping[str, Sequence[Any]] | None = None, population: int = 32):
        self.points = points
        self.values = values
        self.population = population

    def start(self, problem: Problem) -> None:
        super().start(problem)
        positive_int("population", self.population)
        names = set(problem.space.names)
        per_name = self.points if isinstance(self.points, Mapping) else {}
        values = self.values or {}
        for table, label in ((per_name, "points"), (values, "values")):
            unknown = sorted(set(table) - names)
            if unknown:
                raise ConfigError(f"grid {label} name unknown parameters {unknown}")
        default = 5 if isinstance(self.points, Mapping) else self.points
        self.axes = [axis for p in problem.space for axis in parameter_axes(
            p, positive_int(f"points for {p.name!r}", per_name.get(p.name, default)),
            values.get(p.name))]
        self.total = prod(len(a) for a in self.axes)
        self.next_index = 0

    @property
    def done(self) -> bool:
        return int(self.next_index) >= self.total

    def grid_points(self, indices: np.ndarray) -> np.ndarray:
        """The grid points with the given flat indices, as vectors."""
        parts = []
        rest = indices.copy()
        for axis in reversed(self.axes):
            parts.append(axis[rest % len(axis)])
            rest = rest // len(axis)
        return np.hstack(parts[::-1]) if parts else np.zeros((len(indices), 0))

    def ask_vectors(self) -> np.ndarray:
        first = int(self.next_index)
        if first >= self.total:
            raise ConfigError("grid search is exhausted: every grid point has been asked")
        indices = np.arange(first, min(first + int(self.population), self.total), dtype=np.int64)
        self.next_index = int(indices[-1]) + 1
        return self.grid_points(indices)

    def tell_losses(self, vectors: np.ndarray, losses: np.ndarray,
                    evaluations: Sequence[Evaluation]) -> None:
        """The grid does not depend on the losses."""

    def ask_vector(self) -> tuple[int, np.ndarray]:
        index = int(self.next_index)
        if index >= self.total:
            raise ConfigError("grid search is exhausted: every grid point has been asked")
        self.next_index = index + 1
        return index, self.grid_points(np.array([index], dtype=np.int64))[0]

    def tell_loss(self, ticket: int, vector: np.ndarray, loss: float, evaluation: Evaluation) -> None:
        """The grid does not depend on the losses."""
