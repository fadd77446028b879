"""The asynchronous loop (``[experiment] mode = "async"``): no generation barrier.

The loop keeps ``in_flight`` evaluations submitted (default: the executor's slots × (1 +
``prefetch``); see :meth:`~l2l.executor.Executor.set_prefetch`). Whenever one completes it is
told to the optimizer (``tell_one``) and a new candidate is asked (``ask_one``) and
submitted, so a slow evaluation holds up one worker, not all of them. With ``prefetch = 1``
(the default) every worker has a second evaluation queued behind the one it runs, so it never
waits for the coordinator's tell-and-ask round trip; the price is staleness: a candidate is
asked before the results of the ``in_flight - 1`` evaluations submitted ahead of it are known
(``slots - 1`` without prefetch). Each submission is a one-task
:meth:`~l2l.executor.Executor.submit`; failures (a raise, a crash, a timeout, a NaN) come
back from the executor as failed evaluations, as in generational mode.

Numbering: the ``n``-th evaluation submitted (from 0; its task number, ``ask`` in the store)
is stored as row ``(n // in_flight, n % in_flight)``, so ``l2l show`` and the exports see
blocks of ``in_flight`` evaluations like generations, and its seed is :func:`async_seed` of
the run seed and ``n`` alone.

Noisy fitness: with ``repeats = k`` a candidate is the ``k`` tasks ``c·k … c·k + k − 1``,
submitted as room frees up (never more than ``in_flight`` at once: those that do not fit wait
in the loop, asked but not yet submitted); the optimizer is told their
:func:`~l2l.noise.aggregate` once the last of them completes (the later rows name the first as
``repeat_of``). ``reevaluate`` is refused.

Reproducibility: what an async run computes depends on the order in which evaluations
complete, which depends on the machine's timing. A fresh run with the same seed therefore
may differ from an earlier one (with the serial executor it does not: there evaluations
complete in ask order). Each run records its completion order (``completions`` in the
store); :func:`replay` re-runs it telling results in exactly that order and reproduces
every candidate, seed and fitness bit for bit (for a deterministic optimizee).

The end of the budget (``finish``): with ``"drain"`` (the default) the last candidates within
the budget are asked and every one of them completes and is told, so once the last has
started, workers that finish have nothing left while the slowest still run. With
``"cancel"`` the loop keeps every worker busy (asking past the budget) until the budget's
worth of evaluations has completed and been told, and the evaluations then still running are
cancelled when the executor closes: never told, never stored.

Commits: every ``commit_every`` completions (completions that arrive together are committed
together; with ``commit_seconds``, also at the first completion that many seconds after the
last commit) the completed evaluations, their
completion records and a checkpoint (optimizer state, loop state, the candidates in flight)
are written in one transaction. A ``kill -9`` loses the evaluations in flight and those told
since the last commit; ``l2l resume`` re-submits the checkpoint's in-flight candidates
(same tickets, same seeds) and continues.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import ConfigError
from .evaluation import Evaluation, Individual
from .executor import Task
from .noise import aggregate
from .store import Completion, Store

if TYPE_CHECKING:
    from .experiment import Experiment, RunInfo

MODES = ("generational", "async")
#: what happens at the end of an async run's budget (:class:`AsyncSettings` ``finish``)
FINISHES = ("drain", "cancel")


def async_seed(seed: int, ask: int) -> int:
    """The seed of the ``ask``-th candidate of an async run: a pure function of both."""
    return int(np.random.SeedSequence([int(seed), 2, int(ask)]).generate_state(1)[0])


@dataclass(frozen=True)
class AsyncSettings:
    """``in_flight``: evaluations kept submitted (None: the executor's slots × (1 +
    ``prefetch``)); ``prefetch``: evaluations queued per slot behind the one it runs (0: a
    worker waits for the coordinator between evaluations); ``commit_every``: completions per
    store commit (those that arrive together are committed together); ``commit_seconds``:
    also commit at the first completion this many seconds after the last commit (None: only
    by count); ``finish``: ``"drain"`` (every evaluation asked within the budget completes)
    or ``"cancel"`` (workers stay busy up to the budget-th completion; those still running
    then are cancelled)."""

    in_flight: int | None = None
    prefetch: int = 1
    commit_every: int = 1
    commit_seconds: float | None = None
    finish: str = "drain"

    def __post_init__(self) -> None:
        for key, value, least in (("in_flight", self.in_flight, 1), ("prefetch", self.prefetch, 0),
                                  ("commit_every", self.commit_every, 1)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < least):
                raise ConfigError(f"[experiment]: {key} must be an integer of at least {least}, "
                                  f"got {value!r}")
        s = self.commit_seconds
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, float)) or not s > 0):
            raise ConfigError(f"[experiment]: commit_seconds must be a positive number, got {s!r}")
        if self.finish not in FINISHES:
            raise ConfigError(f"[experiment]: finish = {self.finish!r} should be one of "
                              f"{', '.join(map(repr, FINISHES))}")

    def to_config(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


def asynchronous_optimizers(plugins: Any) -> list[str]:
    """The registered optimizers that support async mode."""
    out = []
    for name in plugins.names("optimizers"):
        try:
            if getattr(plugins.get("optimizers", name), "asynchronous", False):
                out.append(name)
        except Exception:  # noqa: BLE001 - a broken plugin is reported elsewhere
            continue
    return out


def check_async(exp: Experiment) -> None:
    """ConfigError for what async mode cannot run: an optimizer without ``ask_one``/
    ``tell_one``, re-evaluation, a run without ``max_evaluations`` (or one smaller than
    ``repeats``)."""
    if not getattr(type(exp.optimizer), "asynchronous", False):
        owner = exp.plugins.owner("optimizers", type(exp.optimizer))
        name = owner[0] if owner else type(exp.optimizer).__name__
        raise ConfigError(f"[experiment] mode = \"async\": optimizer {name!r} does not support it "
                          f"(these do: {', '.join(asynchronous_optimizers(exp.plugins))})")
    if exp.noise.reevaluate:
        raise ConfigError("[experiment] mode = \"async\" does not support reevaluate yet; use "
                          "mode = \"generational\" to re-score the best candidates")
    if exp.stop.max_evaluations is None:
        raise ConfigError("[experiment] mode = \"async\" needs max_evaluations (the budget; "
                          "generations do not apply)")
    if exp.stop.max_evaluations < exp.noise.repeats:
        raise ConfigError(f"[experiment] mode = \"async\": max_evaluations "
                          f"({exp.stop.max_evaluations}) must be at least repeats "
                          f"({exp.noise.repeats})")


@dataclass
class _Flight:
    """One evaluation submitted and not yet told: task number ``ask`` scores candidate
    ``ask // repeats`` (its repeat ``ask % repeats``)."""

    ask: int
    ticket: int
    params: Any
    seed: int
    submitted: float
    future: Future[list[Evaluation]] | None = None


class AsyncLoop:
    """Runs the async mode of one :class:`~l2l.experiment.Experiment` (started, store
    lease held, optimizer started or restored, ``loop`` restored from the checkpoint)."""

    def __init__(self, exp: Experiment, info: RunInfo, loop: dict[str, Any],
                 settings: AsyncSettings, replay: Sequence[int] | None = None):
        self.exp, self.info, self.loop = exp, info, loop
        self.settings = settings
        self.replay = None if replay is None else list(replay)
        self.objectives = exp.optimizee.objectives()
        depth = exp.executor.set_prefetch(settings.prefetch)
        if "width" not in loop:  # a fresh run: fix the numbering and the slots
            slots = exp.executor.slots()
            loop.update(asked=0, width=int(settings.in_flight or slots * (1 + depth)),
                        slots=slots, in_flight=[], commits=0, busy=0.0, wall=0.0)
        self.width = int(loop["width"])
        self.slots = int(loop.get("slots", self.width))  # runs before prefetch: width
        self.repeats = exp.noise.repeats
        #: finish = "cancel": ask past the budget, so no worker idles before its end
        self.cancel = settings.finish == "cancel"
        #: evaluations to spend: whole candidates of ``repeats`` evaluations each
        self.budget = int(exp.stop.max_evaluations or 0) // self.repeats * self.repeats
        #: the number of completions to tell (a replay: those of its record)
        self.limit = self.budget if self.replay is None else min(self.budget, len(self.replay))
        #: repeats told of candidates not yet told to the optimizer, by task number
        self.partial: dict[int, Evaluation] = {}
        self.flights: dict[int, _Flight] = {}
        #: asked, not yet submitted (repeats that did not fit into ``in_flight``), in ask order
        self.waiting: list[_Flight] = []
        self.ready: list[tuple[_Flight, Evaluation, float]] = []
        self.buffer: list[tuple[Individual, Completion]] = []
        self._best_at = loop.get("best_at")

    # -- submission ------------------------------------------------------------------------
    def _submit(self, flight: _Flight) -> None:
        flight.submitted = time.time()
        flight.future = self.exp.executor.submit([Task(flight.ask, flight.params, flight.seed)])
        self.flights[flight.ask] = flight

    def _fill(self) -> None:
        """Submit while fewer than ``in_flight`` evaluations are submitted and not told:
        first the repeats already asked, then new candidates (each ``repeats`` evaluations;
        those that do not fit wait for room)."""
        opt, k = self.exp.optimizer, self.repeats
        while len(self.flights) + len(self.ready) < self.width:
            if self.waiting:
                self._submit(self.waiting.pop(0))
                continue
            if (self.loop["asked"] + k > self.budget and not self.cancel) or opt.done:
                return
            first = int(self.loop["asked"])
            ticket, params = opt.ask_one()
            self.loop["asked"] = first + k
            self.waiting = [_Flight(ask, int(ticket), params, async_seed(self.exp.seed, ask), 0.0)
                            for ask in range(first, first + k)]

    def _collect(self) -> None:
        """Move completed submissions to ``ready`` (several at once: in ask order)."""
        futures = {f.future: f for f in self.flights.values() if f.future is not None}
        done, _ = wait(list(futures), timeout=1.0, return_when=FIRST_COMPLETED)
        now = time.time()
        for fut in sorted(done, key=lambda f: futures[f].ask):
            flight = futures[fut]
            evaluations = fut.result()  # an executor error (closed, broken) ends the run
            if len(evaluations) != 1:
                raise RuntimeError(f"executor returned {len(evaluations)} outcomes for 1 task")
            del self.flights[flight.ask]
            self.ready.append((flight, evaluations[0], now))

    def _next(self) -> tuple[_Flight, Evaluation, float] | None:
        """The next completion to tell: the first ready one, or in replay the recorded one."""
        if self.replay is None:
            return self.ready.pop(0) if self.ready else None
        want = self.replay[int(self.loop["evaluations"])]
        for k, item in enumerate(self.ready):
            if item[0].ask == want:
                return self.ready.pop(k)
        if want not in self.flights and all(f.ask != want for f in self.waiting):
            raise ConfigError(f"replay diverged: completion {self.loop['evaluations']} of the "
                              f"record is ask {want}, which this replay has not asked")
        return None

    # -- the loop --------------------------------------------------------------------------
    def run(self, started: float) -> str:
        """Run until the budget is spent, the optimizer is done or a stop criterion holds;
        return the run's status."""
        loop = self.loop
        self.session = time.time()
        self.wall0 = float(loop["wall"])
        self.last_commit = time.monotonic()
        self.waiting = [_Flight(int(ask), int(ticket), params, int(seed), 0.0)
                        for ask, ticket, params, seed in loop["in_flight"]]
        if loop.get("partial"):  # repeats told before the checkpoint, of candidates in flight
            rows = {(i.generation, i.index): i.evaluation
                    for i in self.exp.store.individuals(self.exp.run_id)}  # type: ignore[arg-type]
            self.partial = {int(t): rows[divmod(int(t), self.width)] for t in loop["partial"]}
        try:
            status = self._loop(started)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP: keep what was told
            if self.buffer:
                self._commit()
            raise
        if self.buffer:
            self._commit()
        return status

    def _loop(self, started: float) -> str:
        loop = self.loop
        self._fill()
        while (self.flights or self.ready or self.waiting) and loop["evaluations"] < self.limit:
            item = self._next()
            if item is None:
                self._collect()
                continue
            self._tell(*item)
            if self._stop(started):
                return "stopped"
            self._fill()
            if self._commit_due():
                self._commit()
        return "finished" if loop["evaluations"] >= self.budget \
            or not (self.flights or self.ready or self.waiting) else "stopped"

    def _tell(self, flight: _Flight, ev: Evaluation, finished: float) -> None:
        """Record one completion; once all repeats of its candidate are in, tell the
        optimizer their aggregate and update the best."""
        loop, exp, k = self.loop, self.exp, self.repeats
        g, i = divmod(flight.ask, self.width)
        first = flight.ask - flight.ask % k
        ind = self._row(flight.ask, flight.params, flight.seed, ev)
        self.partial[flight.ask] = ev
        tasks = range(first, first + k)
        if all(t in self.partial for t in tasks):
            evaluations = [self.partial.pop(t) for t in tasks]
            seeds = [async_seed(exp.seed, t) for t in tasks]
            exp.optimizer.tell_one(flight.ticket, flight.params,
                                   aggregate(evaluations, exp.noise.aggregate, seeds))
            rows = [self._row(t, flight.params, s, e) for t, s, e in zip(tasks, seeds, evaluations)]
            exp._track_best(loop, g, self.objectives, rows, [], [])
        position = int(loop["evaluations"])
        loop["evaluations"] = position + 1
        loop["busy"] = float(loop["busy"]) + float(ev.wall_time)
        self.buffer.append((ind, Completion(position, flight.ask, g, i, flight.submitted, finished)))
        progress = exp.progress
        if progress is not None:
            report = getattr(progress, "completion", None)
            if callable(report):
                report(position + 1, self.budget, len(self.flights), ev, loop["best_loss"],
                       self.utilisation())
            else:
                progress.evaluation(g, position + 1, self.budget, ev)

    def _row(self, task: int, params: Any, seed: int, ev: Evaluation) -> Individual:
        """Task ``task``'s store row; a candidate's later repeats name its first as
        ``repeat_of``."""
        first = task - task % self.repeats
        return Individual(*divmod(task, self.width), params, seed, ev,
                          None if task == first else divmod(first, self.width))

    def wall(self) -> float:
        return self.wall0 + (time.time() - self.session)

    def utilisation(self) -> float:
        """Busy worker-seconds / (slots × wall time) so far."""
        wall = self.wall()
        return float(self.loop["busy"]) / (self.slots * wall) if wall > 0 else 0.0

    def _stop(self, started: float) -> bool:
        s, loop = self.exp.stop, self.loop
        best = loop["best_loss"]
        return bool((s.target is not None and best is not None and best <= s.target)
                    or (s.patience is not None and loop["since_improved"] >= s.patience * self.width)
                    or (s.max_seconds is not None and time.monotonic() - started >= s.max_seconds))

    def _commit_due(self) -> bool:
        """``commit_every`` completions told (completions that arrived together are told
        first and committed together, up to ``in_flight`` of them: a coordinator that falls
        behind commits less often), or ``commit_seconds`` since the last commit."""
        st, n = self.settings, len(self.buffer)
        if n >= st.commit_every and (not self.ready or n >= max(st.commit_every, self.width)):
            return True
        return bool(n and st.commit_seconds is not None
                    and time.monotonic() - self.last_commit >= st.commit_seconds)

    def _commit(self) -> None:
        exp, loop = self.exp, self.loop
        assert exp.run_id is not None
        waiting = sorted([*self.flights.values(), *(r[0] for r in self.ready), *self.waiting],
                         key=lambda f: f.ask)
        loop["in_flight"] = [[f.ask, f.ticket, f.params, f.seed] for f in waiting]
        loop["partial"] = sorted(self.partial)
        loop["wall"] = self.wall()
        number = int(loop["commits"])
        loop["commits"] = number + 1
        individuals = [ind for ind, _ in self.buffer]
        exp.store.commit_generation(exp.run_id, number, individuals, self.objectives,
                                    {"optimizer": exp.optimizer.state(), "loop": loop},
                                    best_loss=loop["best_loss"],
                                    completions=[c for _, c in self.buffer])
        self.buffer = []
        self.last_commit = time.monotonic()
        self.info.generation = number
        if loop["best_at"] != self._best_at:  # the summary is a query: only when it changed
            self._best_at = loop["best_at"]
            self.info.best = exp._best(loop)
        exp.plugins.hook.l2l_generation_done(run=self.info, generation=number,
                                             individuals=individuals)


@dataclass
class AsyncStats:
    """What an async run's record says about scheduling: evaluations, wall time (all
    sessions), busy worker-seconds, slots, utilisation = busy / (slots × wall), mean and
    largest number in flight, evaluations per second; ``block``: evaluations per stored
    'generation' (the run's ``in_flight``)."""

    evaluations: int
    wall: float
    busy: float
    slots: int
    in_flight_mean: float
    in_flight_max: int
    block: int

    @property
    def utilisation(self) -> float:
        return self.busy / (self.slots * self.wall) if self.wall > 0 and self.slots else 0.0

    @property
    def rate(self) -> float:
        return self.evaluations / self.wall if self.wall > 0 else 0.0

    def text(self) -> str:
        return (f"async: {self.evaluations} evaluations in {self.wall:.3g} s "
                f"({self.rate:.3g}/s); {self.slots} slots, in flight {self.in_flight_mean:.3g} "
                f"on average (at most {self.in_flight_max}); worker utilisation "
                f"{self.utilisation:.3f}")


def async_stats(store: Store, run_id: int) -> AsyncStats | None:
    """The scheduling facts of async run ``run_id`` (None for a generational run)."""
    done = store.completions(run_id)
    ckpt = store.last_checkpoint(run_id)
    if not done or ckpt is None or "width" not in ckpt[1].get("loop", {}):
        return None
    loop = ckpt[1]["loop"]
    events = sorted([(c.submitted, 1) for c in done] + [(c.finished, -1) for c in done])
    level, peak, area, last = 0, 0, 0.0, events[0][0]
    for t, step in events:
        area += level * (t - last)
        level, last = level + step, t
        peak = max(peak, level)
    span = events[-1][0] - events[0][0]
    return AsyncStats(len(done), float(loop["wall"]), float(loop["busy"]),
                      int(loop.get("slots", loop["width"])),
                      area / span if span > 0 else float(peak), peak, int(loop["width"]))


def completion_order(store: Store, run_id: int) -> list[int]:
    """The ask numbers of a run's committed evaluations in the order they were told."""
    return [c.ask for c in store.completions(run_id)]


def replay(store: Store, ref: str | int, *, executor: Any = None, plugins: Any = None,
           progress: Any = None) -> tuple[Any, list[str]]:
    """Re-run async run ``ref`` as a new run in ``store``, telling the optimizer the results
    in the recorded completion order (the evaluations are computed again, on ``executor`` or
    the run's own). Returns the new run's :class:`~l2l.experiment.RunResult` and the
    differences from the record (empty: every committed evaluation's parameters, seed,
    status and fitness, and the optimizer state of the last commit, are identical)."""
    from . import serialize
    from .experiment import Experiment

    record = store.run(ref)
    order = completion_order(store, record.id)
    if record.config.get("experiment", {}).get("mode") != "async" or not order:
        raise ConfigError(f"run {record.id} is not an async run with committed evaluations; "
                          "replay re-runs async runs (a generational run is reproduced by "
                          "running its config again with its seed)")
    exp = Experiment.resume(store, record.id, executor=executor, plugins=plugins, progress=progress)
    exp.run_id, exp.replay = None, order
    exp.name = f"{record.name}-replay-of-{record.id}"
    last = store.last_checkpoint(record.id)
    if last is not None:  # the record's numbering, whatever this executor's slots and prefetch
        exp.asynchronous = replace(exp.asynchronous, in_flight=int(last[1]["loop"]["width"]))
    result = exp.run()
    assert exp.run_id is not None
    differences: list[str] = []
    mine = {(i.generation, i.index): i for i in store.individuals(exp.run_id)}
    for ind in store.individuals(record.id):
        other = mine.get((ind.generation, ind.index))
        where = f"evaluation ({ind.generation}, {ind.index})"
        if other is None:
            differences.append(f"{where} is missing from the replay")
            continue
        for what, a, b in (("seed", ind.seed, other.seed),
                           ("parameters", serialize.dumps(ind.params), serialize.dumps(other.params)),
                           ("status", ind.evaluation.status, other.evaluation.status),
                           ("fitness", json.dumps(list(ind.evaluation.fitness)),
                            json.dumps(list(other.evaluation.fitness)))):
            if a != b:
                differences.append(f"{where}: {what} {b!r} instead of {a!r}")
    if completion_order(store, exp.run_id) != order:
        differences.append("the completion order differs")
    ours, theirs = store.last_checkpoint(exp.run_id), store.last_checkpoint(record.id)
    if ours is None or theirs is None or \
            serialize.dumps(ours[1]["optimizer"]) != serialize.dumps(theirs[1]["optimizer"]):
        differences.append("the optimizer state after the last completion differs")
    return result, differences
