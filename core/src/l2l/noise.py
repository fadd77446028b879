"""Noisy fitness: repeats per candidate, what the optimizer is told, and the per-candidate
summary (mean ± standard error over all its scores) that chooses a run's best.

A *candidate* is one parameter set asked by the optimizer. With ``repeats = k`` the loop
evaluates it with ``k`` seeds in the same batch (one stored row each) and tells the optimizer
one :class:`~l2l.Evaluation` per candidate, made by :func:`aggregate`. With
``reevaluate = n`` the ``n`` best candidates so far (by mean) are scored again, ``k`` fresh
seeds each, in every generation's batch, so a lucky score cannot stay on top. A candidate is
named by its first row ``(generation, index)``; every later row that scores it records that
key (``Individual.repeat_of``).

What an optimizer sees (the interface for optimizers with their own noise handling):

- ``tell(candidates, evaluations)`` gets one evaluation per candidate, in order. Its fitness
  (and observation, for the ensemble Kalman filter) is the ``aggregate`` (``"mean"`` or
  ``"median"``) of the candidate's ``k`` repeats, per objective (per entry). When ``k > 1``
  its ``info["repeats"]`` holds ``count`` (k), ``failed`` (how many repeats failed),
  ``fitness`` (the k fitness tuples in repeat order, None for a failed repeat), ``seeds``,
  ``std`` and ``se`` per objective (standard deviation and standard error of the mean of the
  successful repeats; NaN below two). With ``k = 1`` the evaluation is the single row,
  unchanged.
- An optimizer may define ``tell_reevaluations(candidates, evaluations)``: it is then called
  after ``tell`` in every generation that re-evaluated candidates, with their parameters and
  the aggregate of their *fresh* repeats (same form as above; ``info["repeats"]`` also holds
  ``generation`` and ``index`` of the candidate). Optimizers without it are not told about
  re-evaluations, which then only affect which candidate the run reports as best.

Failures: a candidate whose repeats include a failure is failed as a whole (its aggregate is
a failed evaluation naming how many repeats failed and the first reason), so the optimizer
penalises it as it penalises any failure; and a candidate with a failed row, first
evaluation or re-evaluation, is never a run's best. A parameter set that crashes on some
seeds is not a result one can rely on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .errors import ConfigError
from .evaluation import Evaluation, Individual, Objectives

AGGREGATES = ("mean", "median")


@dataclass(frozen=True)
class Noise:
    """How the loop handles noisy fitness (the ``[experiment]`` keys of the same names).

    ``repeats``: seeds per candidate (1: one evaluation, as without noise handling);
    ``aggregate``: what the optimizer is told, ``"mean"`` or ``"median"`` of the repeats;
    ``reevaluate``: how many of the best candidates so far are scored again, with fresh seeds,
    in every generation (0: none).
    """

    repeats: int = 1
    aggregate: str = "mean"
    reevaluate: int = 0

    def __post_init__(self) -> None:
        for name, low in (("repeats", 1), ("reevaluate", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ConfigError(f"[experiment]: {name} must be an integer of at least {low}, "
                                  f"got {value!r}")
        if self.aggregate not in AGGREGATES:
            raise ConfigError(f"[experiment]: aggregate must be one of {', '.join(AGGREGATES)}, "
                              f"got {self.aggregate!r}")

    def to_config(self) -> dict[str, Any]:
        """The ``[experiment]`` keys that differ from the defaults."""
        default = Noise()
        return {k: v for k, v in vars(self).items() if v != getattr(default, k)}


def aggregate(evaluations: Sequence[Evaluation], how: str = "mean",
              seeds: Sequence[int] = ()) -> Evaluation:
    """The evaluation told to the optimizer for one candidate scored ``len(evaluations)``
    times (see the module docstring). A single evaluation is returned unchanged."""
    if len(evaluations) == 1:
        return evaluations[0]
    ok = [e for e in evaluations if e.ok]
    failed = [e for e in evaluations if not e.ok]
    wall = float(sum(e.wall_time for e in evaluations))
    worker = evaluations[0].worker if evaluations else ""
    info: dict[str, Any] = {"count": len(evaluations), "failed": len(failed),
                            "fitness": [list(e.fitness) if e.ok else None for e in evaluations],
                            "seeds": [int(s) for s in seeds]}
    if ok:
        values = np.array([e.fitness for e in ok], dtype=float)
        std = values.std(axis=0, ddof=1) if len(ok) > 1 else np.full(values.shape[1], np.nan)
        info["std"] = std.tolist()
        info["se"] = (std / math.sqrt(len(ok))).tolist()
    if failed:
        reason = (f"{len(failed)} of {len(evaluations)} repeats failed, first: "
                  f"{failed[0].error or 'no reason recorded'}")
        return Evaluation.failed(reason, info={"repeats": info}, wall_time=wall, worker=worker)
    if not evaluations:
        return Evaluation.failed("no repeats", info={"repeats": info})
    reduce = np.mean if how == "mean" else np.median
    fitness = tuple(float(v) for v in reduce(values, axis=0))
    observations = [np.asarray(e.observation, dtype=float) for e in evaluations
                    if e.observation is not None]
    observation = None
    if len(observations) == len(evaluations) and len({o.shape for o in observations}) == 1:
        observation = reduce(np.array(observations), axis=0)
    return Evaluation(fitness=fitness, observation=observation, info={"repeats": info},
                      wall_time=wall, worker=worker)


def mean_se(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN below two values; NaN mean when empty)."""
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return math.nan, math.nan
    se = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
    return float(a.mean()), se


@dataclass
class Candidate:
    """One candidate with all its scores: its first row's parameters and key, how many rows
    score it (``count``) and how many failed, the mean and standard error of each objective
    and of the scalar loss over its successful rows."""

    generation: int
    index: int
    params: dict[str, Any]
    count: int
    failed: int
    mean: tuple[float, ...]
    se: tuple[float, ...]
    loss: float
    loss_se: float
    rows: list[Individual]

    @property
    def ok(self) -> bool:
        """Whether every row succeeded (only such candidates can be a run's best)."""
        return self.failed == 0 and self.count > 0

    @property
    def key(self) -> tuple[int, int]:
        return self.generation, self.index

    def fitness_text(self, names: Sequence[str] = ()) -> str:
        """``name mean ± se, ...  (n scores[, f failed])``."""
        parts = []
        for k, (m, s) in enumerate(zip(self.mean, self.se)):
            label = f"{names[k]} " if k < len(names) else ""
            parts.append(f"{label}{fmt_mean_se(m, s)}")
        tail = f"{self.count} score{'s' if self.count != 1 else ''}"
        if self.failed:
            tail += f", {self.failed} failed"
        return f"{', '.join(parts)} ({tail})"


def fmt_mean_se(mean: float, se: float) -> str:
    """``1.23 ± 0.04``: the SE to two significant digits and the mean to the same decimal
    place; the SE is left out when undefined (a single score)."""
    if math.isnan(mean):
        return "-"
    if math.isnan(se):
        return f"{mean:.6g}"
    if not math.isfinite(mean) or not math.isfinite(se) or se <= 0:
        return f"{mean:.6g} ± {se:.2g}"
    places = max(0, 1 - math.floor(math.log10(se)))
    return f"{mean:.{places}f} ± {se:.{places}f}"


def summarize(rows: Sequence[Individual], objectives: Objectives) -> Candidate:
    """The :class:`Candidate` of ``rows`` (all rows that score one candidate, first row
    first)."""
    first = rows[0]
    ok = [r for r in rows if r.evaluation.ok]
    m = len(objectives)
    if ok:
        values = np.array([r.evaluation.fitness for r in ok], dtype=float).reshape(len(ok), m)
        stats = [mean_se(values[:, j]) for j in range(m)]
        loss, loss_se = mean_se([objectives.loss(r.evaluation.fitness) for r in ok])
    else:
        stats = [(math.nan, math.nan)] * m
        loss, loss_se = math.nan, math.nan
    return Candidate(first.generation, first.index, first.params, len(rows), len(rows) - len(ok),
                     tuple(s[0] for s in stats), tuple(s[1] for s in stats), loss, loss_se,
                     list(rows))
