"""Held-out scores of a run's best candidates (``l2l validate``).

A run's best is chosen by the same scores that estimate it, so its training mean is
optimistic whenever many candidates are about equally good. :func:`validate_run` measures
the best candidate (or the ``top`` best by mean) again, on data and seeds the run never used:

- ``fresh``: the training fitness (:meth:`~l2l.Optimizee.evaluate`) on ``repeats`` new
  seeds; the optimizee's :attr:`~l2l.Optimizee.fresh_seeds` says what they vary;
- each held-out score the optimizee offers (:meth:`~l2l.Optimizee.held_out`, computed by
  :meth:`~l2l.Optimizee.score_held_out`), on the same seeds;

through any executor (fresh scores use the optimizee's batch path), and stores every score
as one round in the store. Seeds: :func:`validation_seed` of the run seed, the round and the
repeat, the same for every candidate and score of a round (a paired comparison) and never
equal by construction to an evaluation seed of the run (another stream of the run seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .errors import ConfigError
from .evaluation import Evaluation, Objectives
from .executor import Executor, Task
from .noise import Candidate, fmt_mean_se, mean_se
from .optimizee import Optimizee
from .plugins import Plugins, get_plugins
from .space import Params, Space
from .store import RERANK, Store

FRESH = "fresh"
#: the key that tells :class:`Scorer` which score a task asks for
SCORE_KEY = "l2l:score"


def validation_seed(seed: int, round_: int, repeat: int) -> int:
    """The seed of repeat ``repeat`` in validation round ``round_`` of a run with ``seed``."""
    return int(np.random.SeedSequence([int(seed), 2, int(round_), int(repeat)]).generate_state(1)[0])


class Scorer(Optimizee):
    """Wraps an optimizee so that executors compute its fresh and held-out scores: each
    task's parameters name the score under :data:`SCORE_KEY`. Fresh scores go through the
    inner optimizee's batch path, held-out ones through its :meth:`score_held_out`."""

    def __init__(self, inner: Optimizee | None = None):
        self.inner = inner

    def _inner(self) -> Optimizee:
        assert self.inner is not None
        return self.inner

    def space(self) -> Space:
        return self._inner().space()

    def objectives(self) -> Objectives:
        return self._inner().objectives()

    def setup(self) -> None:
        self._inner().setup()

    def teardown(self) -> None:
        self._inner().teardown()

    def evaluate(self, params: Params, seed: int) -> Any:
        score, plain = _split(params)
        if score == FRESH:
            return self._inner().evaluate(plain, seed)
        result = self._inner().score_held_out(score, plain, seed)
        if result is None:
            return Evaluation.failed(f"held-out score {score!r} returned None")
        return result

    def evaluate_batch(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Any]:
        out: list[Any] = [None] * len(params)
        fresh = [k for k, p in enumerate(params) if p[SCORE_KEY] == FRESH]
        if len(fresh) > 1:
            results = self._inner().evaluate_batch([_split(params[k])[1] for k in fresh],
                                                   [seeds[k] for k in fresh])
            for k, r in zip(fresh, results):
                out[k] = r
        for k, p in enumerate(params):
            if out[k] is None:
                out[k] = self.evaluate(p, seeds[k])
        return out

    @classmethod
    def has_batch(cls) -> bool:
        return True


def _split(params: Params) -> tuple[str, Params]:
    plain = dict(params)
    return str(plain.pop(SCORE_KEY)), plain


@dataclass
class ScoreSummary:
    """One score of one candidate in a round: mean ± SE per objective over its repeats."""

    name: str
    count: int
    failed: int
    mean: tuple[float, ...]
    se: tuple[float, ...]
    errors: list[str]

    def text(self, names: Sequence[str]) -> str:
        parts = [f"{n} {fmt_mean_se(m, s)}" for n, m, s in zip(names, self.mean, self.se)]
        tail = f"{self.count - self.failed} of {self.count}" if self.failed else f"{self.count}"
        return f"{', '.join(parts) or '-'} (n {tail})"


@dataclass
class CandidateScores:
    """A validated candidate: its key, its training summary when validated, its scores.
    A baseline (:meth:`~l2l.Optimizee.baselines`) has ``baseline`` set to its name, rank 0
    and generation -1."""

    generation: int
    index: int
    rank: int
    training: dict[str, Any]
    scores: dict[str, ScoreSummary]
    baseline: str | None = None


@dataclass
class ValidationRound:
    """One ``l2l validate`` of a run, as stored."""

    run_id: int
    round: int
    created: float
    repeats: int
    descriptions: dict[str, str]
    candidates: list[CandidateScores]


def summarize_scores(name: str, evaluations: Sequence[Evaluation], n_obj: int) -> ScoreSummary:
    ok = [e for e in evaluations if e.ok]
    if ok:
        values = np.array([e.fitness for e in ok], dtype=float).reshape(len(ok), n_obj)
        stats = [mean_se(values[:, j]) for j in range(n_obj)]
    else:
        stats = [(math.nan, math.nan)] * n_obj
    errors = [e.error or "no reason recorded" for e in evaluations if not e.ok]
    return ScoreSummary(name, len(evaluations), len(errors), tuple(s[0] for s in stats),
                        tuple(s[1] for s in stats), errors)


def _training(c: Candidate) -> dict[str, Any]:
    return {"mean": list(c.mean), "se": list(c.se), "count": c.count, "failed": c.failed}


def validate_run(store: Store, ref: str | int, *, repeats: int = 16, top: int = 1,
                 baselines: bool = True, executor: Executor | None = None,
                 optimizee: Optimizee | None = None,
                 plugins: Plugins | None = None) -> ValidationRound:
    """Score the ``top`` best candidates of run ``ref`` on ``repeats`` fresh seeds and on
    every held-out score of its optimizee, and its ``baselines`` with the same seeds; store
    the round and return it. ``optimizee`` and ``executor`` default to the run's stored
    config (``serial`` when it has none)."""
    from .config import build_part
    from .parts import recorded_table

    if int(repeats) < 1 or int(top) < 1:
        raise ConfigError(f"validate: repeats and top must be at least 1, got {repeats}, {top}")
    plugins = plugins or get_plugins()
    record = store.run(ref)
    optimizee = optimizee or build_part(plugins, "optimizees",
                                        recorded_table(record.config, "optimizee", plugins))
    executor = executor or build_part(plugins, "executors",
                                      recorded_table(record.config, "executor", plugins))
    objectives = record.objectives
    keys = store.top_candidates(record.id, int(top) + RERANK)
    found = [c for c in (store.candidate(record.id, g, i, objectives) for g, i, _ in keys) if c]
    cands = sorted(found, key=lambda c: (c.loss, c.generation, c.index))[:int(top)]
    if not cands:
        raise ConfigError(f"run {record.id} has no successful candidate to validate")
    held = dict(optimizee.held_out())
    descriptions = {FRESH: optimizee.fresh_seeds, **held}
    named = dict(optimizee.baselines()) if baselines else {}
    space = Space.from_json(record.space)
    for name, params in named.items():
        try:
            space.validate(params)
        except ConfigError as exc:
            raise ConfigError(f"baseline {name!r} does not fit the run's space: {exc}") from None
    number = 1 + max((r for r, _, _ in store.validation_rounds(record.id)), default=0)
    seeds = [validation_seed(record.seed, number, r) for r in range(int(repeats))]
    scored: list[tuple[int, int, Params]] = [(c.generation, c.index, c.params) for c in cands]
    scored += [(-1, k, p) for k, p in enumerate(named.values())]
    results = score_params(optimizee, [p for _, _, p in scored], seeds, list(descriptions),
                           executor)
    rows = [(g, i, score, r, seeds[r], ev) for (g, i, _), per in zip(scored, results)
            for score, evs in per.items() for r, ev in enumerate(evs)]
    settings = {"repeats": int(repeats), "top": int(top), "scores": descriptions,
                "candidates": [[c.generation, c.index] for c in cands],
                "training": {f"{c.generation}:{c.index}": _training(c) for c in cands},
                "baselines": list(named), "baseline_params": list(named.values())}
    store.add_validation(record.id, settings, rows, objectives)
    return load_rounds(store, record.id)[-1]


def score_params(optimizee: Optimizee, params: Sequence[Params], seeds: Sequence[int],
                 scores: Sequence[str], executor: Executor) -> list[dict[str, list[Evaluation]]]:
    """Every score in ``scores`` (:data:`FRESH` or held-out names) of every parameter set
    with every seed, through ``executor`` (started and closed here): per parameter set, per
    score, the evaluations in seed order."""
    # seed-major, so that the scores of one (parameters, seed) travel in one chunk
    plan = [(j, score, r) for r in range(len(seeds)) for j in range(len(params))
            for score in scores]
    tasks = [Task(k, {**params[j], SCORE_KEY: score}, int(seeds[r]))
             for k, (j, score, r) in enumerate(plan)]
    outcomes: dict[int, Evaluation] = {}
    executor.start(Scorer(optimizee))
    try:
        for task, ev in executor.map(tasks):
            outcomes[task.index] = ev
    finally:
        executor.close()
    out: list[dict[str, list[Evaluation]]] = [{score: [] for score in scores} for _ in params]
    for k, (j, score, _) in enumerate(plan):
        out[j][score].append(outcomes[k])
    return out


def best_at(store: Store, run_id: int, generation: int) -> Candidate | None:
    """The run's best candidate as the loop saw it after ``generation``: the lowest mean loss
    over the scores up to then, none failed (ties: the earliest)."""
    objectives = store.run(run_id).objectives
    groups: dict[tuple[int, int], list[Any]] = {}
    for ind in store.individuals(run_id):
        if ind.generation <= generation:
            groups.setdefault(ind.candidate, []).append(ind)
    from .noise import summarize

    cands = [summarize(rows, objectives) for rows in groups.values()]
    ok = [c for c in cands if c.ok]
    return min(ok, key=lambda c: (c.loss, c.generation, c.index), default=None)


def paired_difference(a: Sequence[Evaluation], b: Sequence[Evaluation],
                      objective: int = 0) -> tuple[float, float, int]:
    """Mean and standard error of ``a - b`` in one objective over the seeds both scored
    (the same seeds in one round: a paired comparison), and how many pairs."""
    pairs = [(x.fitness[objective], y.fitness[objective]) for x, y in zip(a, b) if x.ok and y.ok]
    m, se = mean_se([x - y for x, y in pairs])
    return m, se, len(pairs)


def load_rounds(store: Store, run_id: int) -> list[ValidationRound]:
    """The validation rounds stored for a run, oldest first."""
    n_obj = len(store.run(run_id).objectives)
    out = []
    for number, created, settings in store.validation_rounds(run_id):
        grouped: dict[tuple[int, int], dict[str, list[Evaluation]]] = {}
        for g, i, score, _, _, ev in store.validation_scores(run_id, number):
            grouped.setdefault((g, i), {}).setdefault(score, []).append(ev)
        order = list(settings.get("scores", {}))
        cands = [CandidateScores(g, i, rank, settings.get("training", {}).get(f"{g}:{i}", {}),
                                 _scores_of(grouped.get((g, i), {}), order, n_obj))
                 for rank, (g, i) in enumerate(settings.get("candidates", []), start=1)]
        cands += [CandidateScores(-1, k, 0, {}, _scores_of(grouped.get((-1, k), {}), order, n_obj),
                                  name)
                  for k, name in enumerate(settings.get("baselines", []))]
        out.append(ValidationRound(run_id, number, created, int(settings.get("repeats", 0)),
                                   dict(settings.get("scores", {})), cands))
    return out


def _scores_of(grouped: dict[str, list[Evaluation]], order: list[str],
               n_obj: int) -> dict[str, ScoreSummary]:
    """Summaries of one candidate's scores, in the round's order of scores."""
    found = {name: summarize_scores(name, evs, n_obj) for name, evs in grouped.items()}
    return dict(sorted(found.items(), key=lambda kv: order.index(kv[0])
                       if kv[0] in order else len(order)))


def format_round(vr: ValidationRound, objectives: Objectives) -> str:
    """A validation round as text: what each score measures, then one line per candidate
    and score (mean ± standard error over the repeats)."""
    names = objectives.names
    lines = [f"validation round {vr.round}: {vr.repeats} fresh seed"
             f"{'s' if vr.repeats != 1 else ''} per score, {len(vr.candidates)} candidate"
             f"{'s' if len(vr.candidates) != 1 else ''}"]
    lines += [f"  {name}: {text}" for name, text in vr.descriptions.items()]
    for c in vr.candidates:
        if c.baseline is not None:
            lines.append(f"  baseline {c.baseline}")
        else:
            t = c.training
            train = ", ".join(f"{n} {fmt_mean_se(m, s)}" for n, m, s in
                              zip(names, t.get("mean", []), t.get("se", [])))
            lines.append(f"  #{c.rank} generation {c.generation}, index {c.index}")
            lines.append(f"      {'training':<12} {train} (n {t.get('count', '?')})")
        for name, s in c.scores.items():
            lines.append(f"      {name:<12} {s.text(names)}")
            if s.errors:
                lines.append(f"      {'':<12} failed: {s.errors[0]}")
    return "\n".join(lines)
