"""What an evaluation returns, how a failure is recorded, and fitness directions.

An optimizee declares its :class:`Objectives` (names and a direction per objective). Each
evaluation yields an :class:`Evaluation`: a fitness tuple, optionally an observation array (the
model's outputs, used by the ensemble Kalman filter) and an info dict. A crash, timeout or
non-finite fitness becomes an :class:`Evaluation` with ``status="failed"`` and its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import ConfigError

MIN, MAX = "min", "max"


@dataclass(frozen=True)
class Objectives:
    """Names, directions (``"min"``/``"max"``) and scalarisation weights of the objectives.

    Optimizers that need one number use :meth:`loss`: the weighted sum of the objectives, each
    signed so that lower is better.
    """

    names: tuple[str, ...] = ("fitness",)
    directions: tuple[str, ...] = (MIN,)
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "directions", tuple(self.directions))
        if len(self.names) != len(self.directions):
            raise ConfigError("objectives: as many directions as names are needed")
        bad = [d for d in self.directions if d not in (MIN, MAX)]
        if bad:
            raise ConfigError(f"objectives: unknown direction(s) {bad} (use 'min' or 'max')")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
            if len(self.weights) != len(self.names):
                raise ConfigError(f"objectives: {len(self.names)} weights needed, got {len(self.weights)}")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def signs(self) -> np.ndarray:
        """+1 for minimised objectives, -1 for maximised ones."""
        return np.array([1.0 if d == MIN else -1.0 for d in self.directions])

    def with_weights(self, weights: Sequence[float] | None) -> Objectives:
        return Objectives(self.names, self.directions, None if weights is None else tuple(weights))

    def loss(self, fitness: Sequence[float]) -> float:
        """One number, lower is better: the signed, weighted sum of the objectives."""
        w = np.ones(len(self)) if self.weights is None else np.asarray(self.weights)
        return float(np.sum(self.signs * w * np.asarray(fitness, dtype=float)))

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "directions": list(self.directions),
                "weights": None if self.weights is None else list(self.weights)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Objectives:
        weights = data.get("weights")
        return cls(tuple(data["names"]), tuple(data["directions"]),
                   None if weights is None else tuple(weights))


@dataclass
class Evaluation:
    """The outcome of evaluating one parameter set.

    ``fitness`` has one entry per objective (empty when failed); ``observation`` holds model
    outputs for optimizers such as the ensemble Kalman filter; ``info`` any JSON-able extras.
    ``wall_time`` (seconds) and ``worker`` are filled in by the executor.
    """

    fitness: tuple[float, ...] = ()
    observation: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    error: str | None = None
    wall_time: float = 0.0
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def failed(cls, reason: str, **extra: Any) -> Evaluation:
        """A failed evaluation, with the reason recorded."""
        return cls(status="failed", error=reason, **extra)


def as_evaluation(result: Any, n_objectives: int) -> Evaluation:
    """Normalise what an optimizee returned (a number, a tuple, a dict or an
    :class:`Evaluation`) and turn a wrong length or a non-finite fitness into a failure."""
    if isinstance(result, Evaluation):
        ev = result
    elif isinstance(result, Mapping):
        ev = Evaluation(fitness=tuple(np.atleast_1d(result["fitness"]).tolist()),
                        observation=result.get("observation"), info=dict(result.get("info", {})))
    else:
        ev = Evaluation(fitness=tuple(np.atleast_1d(np.asarray(result, dtype=float)).tolist()))
    if not ev.ok:
        return ev
    ev.fitness = tuple(float(f) for f in ev.fitness)
    if len(ev.fitness) != n_objectives:
        return Evaluation.failed(
            f"fitness has {len(ev.fitness)} values, the optimizee declares {n_objectives} objectives",
            info=ev.info)
    if not all(np.isfinite(ev.fitness)):
        return Evaluation.failed(f"non-finite fitness {ev.fitness}", info=ev.info,
                                 observation=ev.observation)
    if ev.observation is not None:
        ev.observation = np.asarray(ev.observation, dtype=float)
    return ev


def losses(evaluations: Sequence[Evaluation], objectives: Objectives,
           penalty: float | None = None) -> np.ndarray:
    """Scalar losses (lower is better) of a generation; failed evaluations get ``penalty``.

    Without an explicit penalty a failure scores worse than the worst successful evaluation of
    the generation (by its magnitude plus one), or ``1e12`` when none succeeded.
    """
    values = np.array([objectives.loss(e.fitness) if e.ok else np.nan for e in evaluations],
                      dtype=float)
    failed = np.isnan(values)
    if failed.any():
        if penalty is None:
            finite = values[~failed]
            penalty = float(finite.max() + abs(finite.max()) + 1.0) if finite.size else 1e12
        values[failed] = penalty
    return values


@dataclass
class Individual:
    """One evaluation of a generation: what the store keeps per row.

    ``repeat_of`` is None for a candidate's first evaluation; a further repeat or a
    re-evaluation (``[experiment] repeats``/``reevaluate``) names the ``(generation, index)``
    of the candidate's first row.
    """

    generation: int
    index: int
    params: dict[str, Any]
    seed: int
    evaluation: Evaluation
    repeat_of: tuple[int, int] | None = None

    @property
    def candidate(self) -> tuple[int, int]:
        """The key of the candidate this row scores: its first row's (generation, index)."""
        return self.repeat_of if self.repeat_of is not None else (self.generation, self.index)
