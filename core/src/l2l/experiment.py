"""The optimization loop: ask → execute → tell → store, with stop criteria and resume.

The coordinating process is the only writer of the store. Each generation's evaluations and
the optimizer's checkpoint are committed together; :meth:`Experiment.resume` continues a run
from its last committed generation and, for a deterministic optimizee, reaches exactly the
results of an uninterrupted run with the same seed.

Noisy fitness (:class:`~l2l.noise.Noise`): each candidate is evaluated ``repeats`` times and
the ``reevaluate`` best candidates so far are scored again, all in the generation's one batch;
the seed of every evaluation is :func:`evaluation_seed` of its position in that batch. The
run's best is the candidate with the lowest mean loss over all its scores (see
:mod:`l2l.noise`).

``mode="async"`` replaces the generation loop by :class:`l2l.asynchronous.AsyncLoop` (no
barrier: each completion is told at once and a new candidate asked).
"""

from __future__ import annotations

import platform
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from . import guard
from .asynchronous import MODES, AsyncLoop, AsyncSettings, check_async
from .errors import ConfigError
from .evaluation import Evaluation, Individual, Objectives
from .executor import Executor, Task
from .executors.serial import SerialExecutor
from .noise import Candidate, Noise, aggregate
from .optimizee import Optimizee
from .optimizer import Optimizer, Problem
from .parts import recorded_table, with_qualified_names
from .plugins import Plugins, get_plugins
from .store import Store


@dataclass(frozen=True)
class Stop:
    """Stop criteria besides the generation count.

    ``target``: stop once the best loss is at or below it (loss = the optimizee's fitness,
    signed so lower is better); ``max_evaluations``; ``patience``: generations without
    improvement of the best loss; ``max_seconds`` of wall time (of this session of the run).
    """

    target: float | None = None
    max_evaluations: int | None = None
    patience: int | None = None
    max_seconds: float | None = None


@dataclass
class RunInfo:
    """What lifecycle hooks see of a run. ``best`` is the best candidate so far (lowest mean
    loss over all its scores, with their standard error and count; None before a success),
    updated after each generation."""

    run_id: int
    name: str
    seed: int
    config: dict[str, Any]
    optimizee: Optimizee
    optimizer: Optimizer
    executor: Executor
    store: Store
    generation: int = 0
    best: Candidate | None = None


@dataclass
class RunResult:
    """The outcome of :meth:`Experiment.run`.

    ``best`` is the first evaluation (row) of the best candidate and ``best_candidate`` its
    summary over all its scores: the best candidate has the lowest mean loss, none of its
    scores failed. ``best_fitness`` is that mean per objective, ``best_se`` its standard error
    and ``best_count`` the number of scores; ``evaluations`` counts every evaluation, repeats
    and re-evaluations included; ``history`` the best mean loss after each generation.
    """

    run_id: int
    status: str
    best: Individual | None
    generations: int
    evaluations: int
    history: list[float | None] = field(default_factory=list)
    best_candidate: Candidate | None = None

    @property
    def best_params(self) -> dict[str, Any] | None:
        return None if self.best is None else self.best.params

    @property
    def best_fitness(self) -> tuple[float, ...] | None:
        if self.best_candidate is not None:
            return self.best_candidate.mean
        return None if self.best is None else self.best.evaluation.fitness

    @property
    def best_se(self) -> tuple[float, ...] | None:
        return None if self.best_candidate is None else self.best_candidate.se

    @property
    def best_count(self) -> int:
        return 0 if self.best_candidate is None else self.best_candidate.count


class Progress(Protocol):
    """Receives each outcome as it arrives and each finished generation."""

    def evaluation(self, generation: int, done: int, total: int, ev: Evaluation) -> None: ...

    def generation(self, generation: int, individuals: list[Individual], best_loss: float | None,
                   seconds: float) -> None: ...

    # optional, async mode: ``completion(done, total, in_flight, ev, best_loss, utilisation)``
    # is called per completion when present (else ``evaluation``)


def evaluation_seed(seed: int, generation: int, index: int) -> int:
    """The seed of one evaluation: a pure function of the run seed and its position."""
    return int(np.random.SeedSequence([int(seed), 1, generation, index]).generate_state(1)[0])


def optimizer_seed(seed: int) -> int:
    return int(np.random.SeedSequence([int(seed), 0]).generate_state(1)[0])


def describe(plugins: Plugins, kind: str, part: Any) -> dict[str, Any]:
    """The config table that rebuilds ``part``: its registered name and keyword arguments."""
    owner = plugins.owner(kind, type(part))
    name = owner[0] if owner else f"{type(part).__module__}.{type(part).__qualname__}"
    return {"name": name, **part.get_params()}


class Experiment:
    """One optimization run.

    >>> from l2l import Experiment, build
    >>> exp = Experiment(build("optimizee", "function", function="sphere", dimension=3),
    ...                  build("optimizer", "ga", population=16), generations=5, seed=1)
    >>> result = exp.run()                                  # doctest: +SKIP
    """

    def __init__(self, optimizee: Optimizee, optimizer: Optimizer, executor: Executor | None = None,
                 store: Store | str | None = None, *, seed: int = 0, generations: int = 10,
                 name: str | None = None, stop: Stop | None = None,
                 config: dict[str, Any] | None = None, plugins: Plugins | None = None,
                 progress: Progress | None = None, noise: Noise | None = None,
                 mode: str = "generational", asynchronous: AsyncSettings | None = None,
                 replay: list[int] | None = None):
        if int(generations) < 1:
            raise ConfigError(f"generations must be at least 1, got {generations}")
        if not 0 <= int(seed) < 2**63:
            raise ConfigError(f"seed must be between 0 and 2**63 - 1, got {seed}")
        self.optimizee, self.optimizer = optimizee, optimizer
        self.executor = executor if executor is not None else SerialExecutor()
        self.seed, self.generations = int(seed), int(generations)
        self.stop = stop or Stop()
        self.noise = noise or Noise()
        self.plugins = plugins or get_plugins()
        self.name = name or type(optimizee).__name__
        self.progress = progress
        self.run_id: int | None = None
        if mode not in MODES:
            raise ConfigError(f"[experiment]: mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.asynchronous = asynchronous or AsyncSettings()
        self.replay = replay
        if mode == "async":
            check_async(self)
        elif asynchronous is not None or replay is not None:
            raise ConfigError("[experiment]: in_flight, prefetch, commit_every, commit_seconds and "
                              "finish need mode = \"async\"")
        self.config = config if config is not None else self._derive_config()
        self.store = store if isinstance(store, Store) else Store(store or ":memory:")

    def _derive_config(self) -> dict[str, Any]:
        return {"experiment": {"name": self.name, "seed": self.seed, "generations": self.generations,
                               **{k: v for k, v in vars(self.stop).items() if v is not None},
                               **self.noise.to_config(),
                               **({"mode": "async", **self.asynchronous.to_config()}
                                  if self.mode == "async" else {})},
                "optimizee": describe(self.plugins, "optimizees", self.optimizee),
                "optimizer": describe(self.plugins, "optimizers", self.optimizer),
                "executor": describe(self.plugins, "executors", self.executor)}

    def _versions(self) -> dict[str, str]:
        owners = [self.plugins.owner(k, type(p)) for k, p in
                  (("optimizees", self.optimizee), ("optimizers", self.optimizer),
                   ("executors", self.executor))]
        out = {"python": platform.python_version(), "numpy": np.__version__}
        out.update(self.plugins.versions(
            [i for i in self.plugins.infos if i.name == "l2l-core"] + [o[1] for o in owners if o]))
        return out

    @classmethod
    def resume(cls, store: Store, ref: str | int, *, optimizee: Optimizee | None = None,
               optimizer: Optimizer | None = None, executor: Executor | None = None,
               plugins: Plugins | None = None, progress: Progress | None = None) -> Experiment:
        """Continue run ``ref`` from its last committed generation. Parts not given are
        rebuilt from the stored config, each from the plugin the run recorded for it (see
        :mod:`l2l.parts`); ``executor`` may differ from the original."""
        from .config import async_from, build_part, noise_from, stop_from

        plugins = plugins or get_plugins()
        record = store.run(ref)
        cfg = record.config
        exp_cfg = cfg.get("experiment", {})
        exp = cls(optimizee or build_part(plugins, "optimizees", recorded_table(cfg, "optimizee", plugins)),
                  optimizer or build_part(plugins, "optimizers", recorded_table(cfg, "optimizer", plugins)),
                  executor or build_part(plugins, "executors", recorded_table(cfg, "executor", plugins)),
                  store, seed=record.seed, generations=int(exp_cfg.get("generations", 10)),
                  name=record.name, stop=stop_from(exp_cfg), config=cfg, plugins=plugins,
                  progress=progress, noise=noise_from(exp_cfg), **async_from(exp_cfg))
        exp.run_id = record.id
        return exp

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> RunResult:
        """Run (or, after :meth:`resume`, continue) until the generations are done or a stop
        criterion holds. Interruptions (Ctrl-C; SIGTERM and SIGHUP, raised as
        :class:`Terminated`) close the workers, leave the run ``interrupted`` and resumable,
        and re-raise. While it runs, this process holds the run's lease in the store: a
        second writer of the same run is refused."""
        with _Signals() as signals:
            return self._run(signals)

    def _run(self, signals: _Signals) -> RunResult:
        space, objectives, targets = (guard.call(self.plugins, "optimizees", self.optimizee, m)
                                      for m in ("space", "objectives", "targets"))
        problem = Problem(space, objectives, optimizer_seed(self.seed), targets)
        guard.call(self.plugins, "optimizers", self.optimizer, "start", problem)
        loop: dict[str, Any] = {"best_loss": None, "best_at": None, "since_improved": 0, "evaluations": 0}
        first = 0
        if self.run_id is not None:  # resuming: one writer per run, refused before workers start
            self.store.acquire_lease(self.run_id)
        try:
            # before the run exists: a bad executor leaves no trace
            guard.start_executor(self.plugins, self.executor, self.optimizee)
        except BaseException:
            if self.run_id is not None:
                self.store.release_lease(self.run_id)
            raise
        recorded = with_qualified_names(self.config, self.plugins, {
            "optimizee": self.optimizee, "optimizer": self.optimizer, "executor": self.executor})
        # from here until the loop's try, a signal waits: once the run is in the store, only
        # the loop's handler can leave it ``interrupted``
        signals.deferring = True
        try:
            if self.run_id is None:
                self.run_id = self.store.create_run(self.name, self.seed, recorded,
                                                    self._versions(), space.to_json(), objectives)
                self.store.acquire_lease(self.run_id)
            else:
                ckpt = self.store.last_checkpoint(self.run_id)
                if ckpt is not None:
                    first, state = ckpt[0] + 1, ckpt[1]
                    guard.call(self.plugins, "optimizers", self.optimizer, "set_state",
                               state["optimizer"])
                    loop = state["loop"]
                    loop.pop("history", None)  # kept in checkpoints before v2
                self.store.set_status(self.run_id, "running")
                if recorded != self.config:
                    self.store.set_config(self.run_id, recorded)
        except BaseException:
            self.executor.close()
            if self.run_id is not None:
                self.store.release_lease(self.run_id)
            raise
        self.config = recorded
        assert self.run_id is not None
        info = RunInfo(self.run_id, self.name, self.seed, self.config, self.optimizee,
                       self.optimizer, self.executor, self.store, first, self._best(loop))
        status, error = "failed", None
        started = time.monotonic()
        try:
            signals.deliver()
            self.plugins.hook.l2l_run_start(run=info)
            status = "finished"
            if self.mode == "async":
                status = AsyncLoop(self, info, loop, self.asynchronous, self.replay).run(started)
            for gen in range(first, self.generations if self.mode != "async" else 0):
                if self.optimizer.done:
                    status = "stopped"
                    break
                self._generation(gen, info, loop)
                if self._should_stop(loop, started):
                    status = "stopped" if gen + 1 < self.generations else "finished"
                    break
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            guard.label_setup_error(self.plugins, self.optimizee, exc)
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            signals.closing = True
            try:
                self.executor.close()
            finally:
                self.store.set_status(self.run_id, status, error)
                self.store.release_lease(self.run_id)
                self.plugins.hook.l2l_run_end(run=info, status=status)
        best = self._best(loop)
        history = self.store.best_history(self.run_id)
        return RunResult(self.run_id, status, None if best is None else best.rows[0],
                         len(history), loop["evaluations"], history, best)

    def _best(self, loop: dict[str, Any]) -> Candidate | None:
        """The summary of the candidate the loop holds best."""
        assert self.run_id is not None
        if loop["best_at"] is None:
            return None
        g, i = loop["best_at"]
        return self.store.candidate(self.run_id, int(g), int(i), self.optimizee.objectives())

    def _generation(self, gen: int, info: RunInfo, loop: dict[str, Any]) -> None:
        assert self.run_id is not None
        t0 = time.monotonic()
        k = self.noise.repeats
        objectives = self.optimizee.objectives()
        candidates = self.optimizer.ask()
        again, unchanged = self._reevaluation_targets(objectives)
        # one batch: k repeats of every candidate, then k fresh repeats of each re-evaluated one
        params = [c for c in candidates for _ in range(k)] + [c.params for c in again for _ in range(k)]
        tasks = [Task(i, p, evaluation_seed(self.seed, gen, i)) for i, p in enumerate(params)]
        outcomes: dict[int, Evaluation] = {}
        for task, ev in self.executor.map(tasks):
            outcomes[task.index] = ev
            if self.progress is not None:
                self.progress.evaluation(gen, len(outcomes), len(tasks), ev)
        if len(outcomes) != len(tasks):
            raise RuntimeError(f"executor returned {len(outcomes)} outcomes for {len(tasks)} tasks")
        evaluations = [outcomes[i] for i in range(len(tasks))]
        seeds = [t.seed for t in tasks]
        n = len(candidates) * k
        agg = self.noise.aggregate
        self.optimizer.tell(candidates, [aggregate(evaluations[i:i + k], agg, seeds[i:i + k])
                                         for i in range(0, n, k)])
        fresh = [aggregate(evaluations[n + j * k:n + (j + 1) * k], agg, seeds[n + j * k:n + (j + 1) * k])
                 for j in range(len(again))]
        retell = getattr(self.optimizer, "tell_reevaluations", None)
        if again and callable(retell):
            for c, ev in zip(again, fresh):
                if "repeats" in ev.info:
                    ev.info["repeats"].update(generation=c.generation, index=c.index)
            retell([c.params for c in again], fresh)
        individuals = [Individual(gen, t.index, t.params, t.seed, ev,
                                  None if t.index % k == 0 else (gen, t.index - t.index % k))
                       for t, ev in zip(tasks[:n], evaluations[:n])]
        individuals += [Individual(gen, t.index, t.params, t.seed, ev,
                                   again[(t.index - n) // k].key)
                        for t, ev in zip(tasks[n:], evaluations[n:])]
        self._track_best(loop, gen, objectives, individuals, again, unchanged)
        loop["evaluations"] += len(tasks)
        self.store.commit_generation(self.run_id, gen, individuals, objectives,
                                     {"optimizer": self.optimizer.state(), "loop": loop},
                                     best_loss=loop["best_loss"])
        info.generation = gen
        info.best = self._best(loop)
        self.plugins.hook.l2l_generation_done(run=info, generation=gen, individuals=individuals)
        if self.progress is not None:
            self.progress.generation(gen, individuals, loop["best_loss"], time.monotonic() - t0)

    def _reevaluation_targets(self, objectives: Objectives) -> tuple[list[Candidate], list[Candidate]]:
        """The ``reevaluate`` best candidates so far (scored again this generation) and the
        next best one (whose mean this generation cannot change), from the store."""
        assert self.run_id is not None
        n = self.noise.reevaluate
        if n == 0:
            return [], []
        found = [self.store.candidate(self.run_id, g, i, objectives)
                 for g, i, _ in self.store.top_candidates(self.run_id, n + 1)]
        ranked = sorted((c for c in found if c is not None),
                        key=lambda c: (c.loss, c.generation, c.index))
        return ranked[:n], ranked[n:]

    def _track_best(self, loop: dict[str, Any], gen: int, objectives: Objectives,
                    individuals: list[Individual], again: list[Candidate],
                    unchanged: list[Candidate]) -> None:
        """Update the loop's best candidate (lowest mean loss, none of its scores failed)."""
        groups: dict[tuple[int, int], list[Individual]] = {}
        for ind in individuals:
            groups.setdefault(ind.candidate, []).append(ind)
        old = {c.key: c for c in again}
        contenders: list[tuple[float, int, int]] = [(c.loss, c.generation, c.index) for c in unchanged]
        if not self.noise.reevaluate and loop["best_at"] is not None:
            contenders.append((loop["best_loss"], *loop["best_at"]))
        for key, rows in groups.items():
            before = old[key].rows if key in old else []
            every = before + rows
            if all(r.evaluation.ok for r in every):
                mean = float(np.mean([objectives.loss(r.evaluation.fitness) for r in every]))
                contenders.append((mean, *key))
        previous = loop["best_loss"]
        if contenders:
            best = min(contenders)
            loop["best_loss"], loop["best_at"] = best[0], [best[1], best[2]]
        elif self.noise.reevaluate:
            loop["best_loss"], loop["best_at"] = None, None
        improved = loop["best_loss"] is not None and (previous is None or loop["best_loss"] < previous)
        loop["since_improved"] = 0 if improved else loop["since_improved"] + 1

    def _should_stop(self, loop: dict[str, Any], started: float) -> bool:
        s = self.stop
        best = loop["best_loss"]
        return bool((s.target is not None and best is not None and best <= s.target)
                    or (s.max_evaluations is not None and loop["evaluations"] >= s.max_evaluations)
                    or (s.patience is not None and loop["since_improved"] >= s.patience)
                    or (s.max_seconds is not None and time.monotonic() - started >= s.max_seconds))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived during a run (a batch scheduler ending the allocation, a
    closed terminal): handled like Ctrl-C, so the run ends ``interrupted`` and resumable.
    ``signum`` is the signal's number (the CLI exits with 128 + it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Signals:
    """Signal handling while a run is in progress (main thread only, and only for signals
    whose handler is still Python's default): SIGINT raises KeyboardInterrupt, SIGTERM and
    SIGHUP raise :class:`Terminated`. While ``deferring`` is set (the run being created or
    reopened) a signal is kept until :meth:`deliver`. Once ``closing`` is set (workers being
    stopped, status being written) one further signal is held back, so that the closing
    completes; a second one interrupts it."""

    def __init__(self) -> None:
        self.closing = False
        self.deferring = False
        self._held = False
        self._pending: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            current = signal.getsignal(sig)
            if current is (signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.deferring:
            self._pending = self._pending or signum
            return
        if self.closing and not self._held:
            self._held = True
            return
        raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)

    def deliver(self) -> None:
        """Stop deferring; raise for the signal that arrived meanwhile, if one did."""
        self.deferring = False
        if self._pending is not None:
            signum, self._pending = self._pending, None
            self._handle(signum, None)

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
