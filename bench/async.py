"""Asynchronous vs generational evaluation: worker utilisation, wall time to a budget, and
the best loss at equal evaluations.

Scheduling: evaluations sleep for log-normal times (``bench/support/sleepy.py``; mean
``max(30 ms, 5 ms × workers)``, sigma 0.5, 1 and 1.5 — the spread of simulation costs within
one population) on the process executor with 2, 8 and 32 worker processes (sleeping workers
need no CPU, so 32 fit on 2 cores). Each configuration spends the same budget of evaluations
with random search three ways: generational with one candidate per worker per generation
(population = workers), generational with four per worker (population ≈ 4 × workers, a divisor
of the budget: better balanced, fewer barriers), and ``mode = "async"`` with ``prefetch``
1 (the default: a second evaluation queued in each worker's pipe) and 0 (a worker waits for
the coordinator's tell-and-ask round trip between evaluations). Utilisation = busy
worker-seconds (the evaluations' own wall times) / (workers × wall time to the last outcome),
the final drain included; the wall time to the budget runs from the moment the workers are
ready to the budget-th outcome (start-up and shut-down left out, alike for all; a
generational population that does not divide the budget, 32 of 2,000, runs its last
generation past it). For async, the utilisation before the drain is printed beside it: the
busy share of the worker-seconds from the start to the moment the last evaluation starts
(after it, a worker that finishes has nothing left to do), and the drain's length. Async
with ``finish = "cancel"`` (workers busy up to the budget-th completion, the rest cancelled)
is measured too, and both finishes are set against the ideal: the same durations (fixed by
the tasks' seeds) list-scheduled without overhead, computed here.

Quality: rastrigin 10-D (the ``function`` optimizee), 8 workers, sigma 1 (mean 5 ms: the
completion order is set by the durations), ``ga`` (population 16) and ``cmaes`` (default
lambda), generational vs async (prefetch 1 and 0), 10 seeds each: best loss after the budget,
mean ± SE, and the difference in standard errors. ``cmaes`` runs with ``separable_probe =
"off"`` in both modes here: async mode has no separable start, and in generational mode it would
solve this separable, centred Rastrigin at its first batch, which says nothing about async
evaluation (with it off, cmaes draws exactly what it drew before the start existed).

Equal wall time with a cost model: COCO's bbob f15 (rotated Rastrigin, 10-D, instance 1;
``bench/support/costly.py``) whose evaluation sleeps 50 ms × max(0.05, (x_0 + 5) / 5) — the
cost of a simulation grows with one of its parameters — on 16 worker processes; the same
optimizer (``cmaes`` without its separable start and ``ga``, population 16 = the workers)
generational vs async, 10 seeds: the best loss (f − f_opt) among the outcomes that arrived
within 8 s of the workers being ready, mean ± SE, with the evaluations each mode completed in
that time.

    python bench/async.py [--quick]      # --quick: 400 evaluations, 5 seeds
    python bench/async.py --workers 2 --no-quality > part.log   # a part of the grid
    python bench/async.py --workers '' --sigmas '' --cost > more.log  # quality, equal time
    python bench/async.py --from-log LOG [LOG ...]  # rebuild the results from printed lines
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUPPORT = HERE / "support"  # the sleeping optimizee, importable by the worker processes
sys.path[:0] = [str(HERE), str(SUPPORT)]
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")]))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import heapq  # noqa: E402
import itertools  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import summary  # noqa: E402
from costly import CostlyBBOB  # noqa: E402
from machine import Machine  # noqa: E402
from optimizers import coco_problem  # noqa: E402
from sleepy import SleepyFunction  # noqa: E402

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from l2l import Experiment, build  # noqa: E402
from l2l.asynchronous import FINISHES, AsyncSettings, async_seed  # noqa: E402
from l2l.executors.process import ProcessExecutor  # noqa: E402
from l2l.experiment import Stop  # noqa: E402

OUT = HERE / "results" / "async.md"
SIGMAS = (0.5, 1.0, 1.5)
WORKERS = (2, 8, 32)


class TimedProcess(ProcessExecutor):
    """The process executor, noting when its workers are ready (and calling ``on_ready``)."""

    on_ready = None

    def start(self, optimizee):
        super().start(optimizee)
        self.ready_at, self.ready_epoch = time.perf_counter(), time.time()
        if self.on_ready is not None:
            self.on_ready()


class Clock:
    """Progress that notes the time of the ``budget``-th outcome and of the last one."""

    def __init__(self, budget: int):
        self.budget, self.count, self.at_budget, self.last = budget, 0, 0.0, 0.0

    def evaluation(self, *args):
        self.last = time.perf_counter()
        self.count += 1
        if self.count == self.budget:
            self.at_budget = self.last

    def completion(self, *args):
        self.evaluation()

    def generation(self, *args):
        pass


def near_divisor(n: int, target: int) -> int:
    """The divisor of ``n`` nearest to ``target`` (a population that spends exactly ``n``)."""
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - target), d))


def mean_duration(workers: int) -> float:
    return max(0.03, 0.005 * workers)


def list_schedule(workers: int, sigma: float, evaluations: int, finish: str,
                  seed: int = 1) -> float:
    """Utilisation of the ideal schedule of the async run's own durations (those of its tasks
    in ask order, which depend on the seeds alone): no overhead, each task started in ask
    order the moment a worker is free. ``finish = "drain"``: the budget's tasks, to the last
    one's end; ``"cancel"``: tasks keep starting until the budget-th completes, the rest is
    not counted."""
    optimizee = SleepyFunction(mean=mean_duration(workers), sigma=sigma)
    durations = iter(optimizee.duration(async_seed(seed, n)) for n in itertools.count())
    running = [(d, d) for d in itertools.islice(durations, workers)]  # (end, duration)
    heapq.heapify(running)
    busy, end = 0.0, 0.0
    for done in range(evaluations):
        end, took = heapq.heappop(running)
        busy += took
        if finish == "cancel" or done + workers < evaluations:
            d = next(durations)
            heapq.heappush(running, (end + d, d))
    return busy / (workers * end)  # drain: the last completion is the budget's last task


def schedule(mode: str, workers: int, sigma: float, evaluations: int, population: int,
             seed: int = 1, prefetch: int = 1, finish: str = "drain") -> dict:
    """One run of random search on sleeping evaluations: wall time and utilisation."""
    optimizee = SleepyFunction(mean=mean_duration(workers), sigma=sigma)
    executor, clock = TimedProcess(workers=workers), Clock(evaluations)
    if mode == "async":
        exp = Experiment(optimizee, build("optimizer", "random"), executor, seed=seed,
                         stop=Stop(max_evaluations=evaluations), mode="async", progress=clock,
                         asynchronous=AsyncSettings(prefetch=prefetch, finish=finish))
    else:
        exp = Experiment(optimizee, build("optimizer", "random", population=population), executor,
                         seed=seed, generations=-(-evaluations // population), progress=clock)
    result = exp.run()
    # a population that does not divide the budget: the last generation goes past it
    assert evaluations <= result.evaluations < evaluations + population, (mode, result.evaluations)
    wall = clock.at_budget - executor.ready_at  # to the budget-th outcome
    individuals = list(exp.store.individuals(result.run_id))
    busy = sum(i.evaluation.wall_time for i in individuals)
    out = {"wall": wall, "utilisation": busy / (workers * (clock.last - executor.ready_at))}
    done = exp.store.completions(result.run_id)
    if done:  # async: busy share before the drain (up to the last evaluation's start)
        took = {(i.generation, i.index): i.evaluation.wall_time for i in individuals}
        spans = [(c.finished - took[c.generation, c.idx], c.finished) for c in done]
        start, last = executor.ready_epoch, max(a for a, _ in spans)
        held = sum(max(0.0, min(b, last) - max(a, start)) for a, b in spans)
        out["before_drain"] = held / (workers * (last - start))
        out["drain"] = max(b for _, b in spans) - last
    return out


class Trace:
    """Progress that notes when each outcome arrived and its loss (inf if it failed)."""

    def __init__(self):
        self.points: list[tuple[float, float]] = []

    def evaluation(self, generation, done, total, ev):
        self.points.append((time.perf_counter(), ev.fitness[0] if ev.ok else float("inf")))

    def completion(self, done, total, in_flight, ev, *rest):
        self.evaluation(None, done, total, ev)

    def generation(self, *args):
        pass


#: the equal-wall-time comparison: bbob function, dimension, workers, seconds, mean cost
COST = {"function": 15, "dimension": 10, "workers": 16, "seconds": 8.0, "mean": 0.05}


#: cmaes's settings in both modes: without its separable start (generational only; see above)
CMAES = {"separable_probe": "off"}


def at_equal_time(mode: str, optimizer: str, seed: int) -> tuple[float, int]:
    """Best loss among the outcomes that arrived within ``COST["seconds"]`` of the workers
    being ready, and how many arrived, for one run of ``optimizer`` in ``mode``."""
    _, fopt = coco_problem("bbob", COST["function"], COST["dimension"], 1)
    optimizee = CostlyBBOB(function=COST["function"], dimension=COST["dimension"], fopt=fopt,
                           mean=COST["mean"])
    executor, trace = TimedProcess(workers=COST["workers"]), Trace()
    opt = build("optimizer", optimizer, population=COST["workers"],
                **(CMAES if optimizer == "cmaes" else {}))
    budget = Stop(max_evaluations=10**7)
    exp = Experiment(optimizee, opt, executor, seed=seed, stop=budget, progress=trace,
                     **({"mode": "async"} if mode == "async" else {"generations": 10**7}))
    t0 = time.monotonic()

    def ready() -> None:  # stop the run once the seconds after the workers' start are over
        exp.stop = Stop(max_evaluations=budget.max_evaluations,
                        max_seconds=time.monotonic() - t0 + COST["seconds"])

    executor.on_ready = ready
    exp.run()
    end = executor.ready_at + COST["seconds"]
    losses = [loss for t, loss in trace.points if t <= end]
    return min(losses), len(losses)


QUALITY_MODES = ("generational", "async", "async-p0")


def quality(mode: str, optimizer: str, seed: int, evaluations: int) -> float:
    """Best rastrigin-10D loss after ``evaluations`` (8 workers, sigma 1, mean 5 ms);
    ``mode`` one of :data:`QUALITY_MODES` (``async-p0``: async with prefetch 0)."""
    optimizee = SleepyFunction(mean=0.005, sigma=1.0)
    kw = {"population": 16} if optimizer == "ga" else CMAES
    executor = ProcessExecutor(workers=8)
    if mode.startswith("async"):
        exp = Experiment(optimizee, build("optimizer", optimizer, **kw), executor, seed=seed,
                         stop=Stop(max_evaluations=evaluations), mode="async",
                         asynchronous=AsyncSettings(prefetch=0 if mode == "async-p0" else 1))
    else:
        # cmaes changes lambda at restarts: the budget may be exceeded by less than lambda
        exp = Experiment(optimizee, build("optimizer", optimizer, **kw), executor, seed=seed,
                         generations=10**6, stop=Stop(max_evaluations=evaluations))
    result = exp.run()
    return float(result.best_fitness[0])


def mean_se(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1) / np.sqrt(len(a))) if len(a) > 1 else 0.0


NUMBER = r"([\d.]+)"
LINE = re.compile(rf"workers +(\d+) sigma {NUMBER}: generational {NUMBER} s \(util {NUMBER}\), "
                  rf"pop 4W {NUMBER} s \(util {NUMBER}\), async {NUMBER} s \(util {NUMBER}; "
                  rf"before drain {NUMBER}, drain {NUMBER} s\), async prefetch 0 {NUMBER} s "
                  rf"\(util {NUMBER}; before drain {NUMBER}, drain {NUMBER} s\), async cancel "
                  rf"{NUMBER} s \(util {NUMBER}\), ideal {NUMBER} / {NUMBER}")
QUALITY = re.compile(r"(\w+) (generational|async|async-p0): best loss ([\d.e+-]+) ± ([\d.e+-]+)")
COSTLINE = re.compile(r"cost (\w+) (generational|async): best loss ([\d.e+-]+) ± ([\d.e+-]+) "
                      r"after ([\d.]+) s, ([\d.]+) ± ([\d.]+) evaluations")


def equal_time(seeds: int) -> dict:
    """The equal-wall-time comparison, printing a line per optimizer and mode."""
    out = {}
    for optimizer in ("cmaes", "ga"):
        for mode in ("generational", "async"):
            runs = [at_equal_time(mode, optimizer, s) for s in range(seeds)]
            m, se = mean_se([r[0] for r in runs])
            n, nse = mean_se([r[1] for r in runs])
            out[optimizer, mode] = (m, se, n, nse)
            print(f"cost {optimizer} {mode}: best loss {m:.3f} ± {se:.3f} after "
                  f"{COST['seconds']:g} s, {n:.1f} ± {nse:.1f} evaluations", flush=True)
    return out


def measure(evaluations: int, seeds: int, workers_list: tuple[int, ...],
            sigmas: tuple[float, ...], with_quality: bool,
            with_cost: bool) -> tuple[list[dict], dict, dict]:
    """Run the scheduling grid, the quality comparison and the equal-wall-time comparison,
    printing a line per result."""
    rows = []
    for workers in workers_list:
        for sigma in sigmas:
            row = {"workers": workers, "sigma": sigma, "mean": mean_duration(workers)}
            row["gen"] = schedule("generational", workers, sigma, evaluations, workers)
            row["pop4"] = near_divisor(evaluations, 4 * workers)
            row["gen4"] = schedule("generational", workers, sigma, evaluations, row["pop4"])
            row["async"] = schedule("async", workers, sigma, evaluations, workers)
            row["async0"] = schedule("async", workers, sigma, evaluations, workers, prefetch=0)
            row["cancel"] = schedule("async", workers, sigma, evaluations, workers, finish="cancel")
            row["ideal"] = {f: list_schedule(workers, sigma, evaluations, f) for f in FINISHES}
            rows.append(row)
            a, a0, c = row["async"], row["async0"], row["cancel"]
            print(f"workers {workers:2d} sigma {sigma}: generational {row['gen']['wall']:.2f} s "
                  f"(util {row['gen']['utilisation']:.3f}), pop 4W {row['gen4']['wall']:.2f} s "
                  f"(util {row['gen4']['utilisation']:.3f}), async {a['wall']:.2f} s "
                  f"(util {a['utilisation']:.3f}; before drain {a['before_drain']:.3f}, "
                  f"drain {a['drain']:.2f} s), async prefetch 0 {a0['wall']:.2f} s "
                  f"(util {a0['utilisation']:.3f}; before drain {a0['before_drain']:.3f}, "
                  f"drain {a0['drain']:.2f} s), async cancel {c['wall']:.2f} s "
                  f"(util {c['utilisation']:.3f}), ideal {row['ideal']['drain']:.3f} / "
                  f"{row['ideal']['cancel']:.3f}", flush=True)
    scores: dict[tuple[str, str], tuple[float, float]] = {}
    for optimizer in ("ga", "cmaes") if with_quality else ():
        for mode in QUALITY_MODES:
            m, se = mean_se([quality(mode, optimizer, s, evaluations) for s in range(seeds)])
            scores[optimizer, mode] = (m, se)
            print(f"{optimizer} {mode}: best loss {m:.3f} ± {se:.3f}", flush=True)
    return rows, scores, equal_time(seeds) if with_cost else {}


def from_logs(paths: list[str], evaluations: int) -> tuple[list[dict], dict, dict, list[str]]:
    """Rows, scores and machine lines from the lines printed by runs of this script, in
    one log or several (a run starts at its first machine line, the one with "? after";
    later runs replace what earlier ones measured; each run's last machine line, with the
    load after it, is kept and names what the run measured)."""
    rows: dict[tuple[int, float], dict] = {}
    scores: dict[tuple[str, str], tuple[float, float]] = {}
    costs: dict[tuple[str, str], tuple[float, ...]] = {}
    machines = []
    machine, parts = "", []

    def close_run() -> None:
        if parts:
            machines.append(f"{machine} (for: {', '.join(dict.fromkeys(parts))})")
        parts.clear()

    for line in (x for path in paths for x in Path(path).read_text().splitlines()):
        if line.startswith("Machine:"):
            if "? after" in line:
                close_run()
            machine = line
        if m := LINE.match(line):
            parts.append(f"{m[1]} workers sigma {m[2]}")
            w, sigma = int(m[1]), float(m[2])
            x = [float(v) for v in m.groups()[2:]]
            rows[w, sigma] = {
                "workers": w, "sigma": sigma, "mean": mean_duration(w),
                "pop4": near_divisor(evaluations, 4 * w),
                "gen": {"wall": x[0], "utilisation": x[1]},
                "gen4": {"wall": x[2], "utilisation": x[3]},
                "async": dict(zip(("wall", "utilisation", "before_drain", "drain"), x[4:8])),
                "async0": dict(zip(("wall", "utilisation", "before_drain", "drain"), x[8:12])),
                "cancel": {"wall": x[12], "utilisation": x[13]},
                "ideal": dict(zip(FINISHES, x[14:16]))}
        elif q := QUALITY.match(line):
            scores[q[1], q[2]] = (float(q[3]), float(q[4]))
            parts.append(f"quality {q[1]} {q[2]}")
        elif c := COSTLINE.match(line):
            costs[c[1], c[2]] = (float(c[3]), float(c[4]), *(float(v) for v in c.groups()[5:]))
            parts.append(f"equal time {c[1]} {c[2]}")
    close_run()
    return [rows[k] for k in sorted(rows)], scores, costs, machines


def _diff(a: tuple[float, float], b: tuple[float, float]) -> str:
    """``a − b`` of two (mean, SE) pairs, and in standard errors of the difference."""
    se = float(np.hypot(a[1], b[1]))
    return f"{a[0] - b[0]:+.3f} ({(a[0] - b[0]) / se:+.1f} SE)" if se > 0 else f"{a[0] - b[0]:+.3f}"


def render(rows: list[dict], scores: dict, costs: dict, machine_lines: list[str], command: str,
           evaluations: int, seeds: int, note: str = "") -> None:
    """Write bench/results/async.md and the summary rows for the README."""
    lines = ["# Asynchronous vs generational evaluation", "", *machine_lines, "",
             f"Command: `{command}`. {evaluations} evaluations per configuration; random search; "
             "process executor; durations log-normal with the given sigma and mean "
             "max(30 ms, 5 ms × workers). Wall time from workers ready to the budget-th outcome "
             "(a generational population that does not divide the budget runs its last "
             "generation past it); utilisation = busy worker-seconds / (workers × wall time "
             "to the last outcome), the final drain included. Async with `prefetch = 1` (the "
             "default: each worker has a second evaluation queued in its pipe, which a worker "
             "that falls idle takes over if the busy one has not started it) and "
             "`prefetch = 0` (a worker waits for the coordinator to tell its result and ask "
             "the next candidate), both with `finish = \"drain\"` (the default: every "
             "evaluation of the budget completes). In brackets: utilisation before the drain "
             "(busy share of the worker-seconds up to the moment the last evaluation starts; "
             "after it a worker that finishes has nothing left) and the drain's length (from "
             "that moment to the last outcome: the slowest evaluations still running). "
             "`finish = \"cancel\"`: workers stay busy up to the budget-th completion, the "
             "evaluations then still running are cancelled (their partial work counts as idle). "
             "Ideal: the utilisation of the same durations (the tasks' seeds fix them) "
             "list-scheduled in ask order without any overhead, each task started the moment "
             "a worker is free, computed by the script (not measured): what a perfect "
             "scheduler that does not know the durations beforehand reaches with that finish "
             "(a measured run may differ a little either way: prefetch and stealing start some "
             "tasks out of ask order).", ""]
    if note:
        lines += [note, ""]
    lines += ["| workers | sigma | mean duration | generational, population = workers: wall s "
              "(utilisation) | generational, population ≈ 4 × workers (P) | async, prefetch 1 "
              "[before drain; drain] | async, prefetch 0 [before drain; drain] "
              "| ideal, drain | async, finish = cancel | ideal, cancel "
              "| async speed-up vs population = workers | vs ≈ 4 × workers |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def cell(a: dict) -> str:
        return (f"{a['wall']:.2f} ({a['utilisation']:.3f}) "
                f"[{a['before_drain']:.3f}; {a['drain']:.2f} s]")

    for r in rows:
        g, g4, a, c = r["gen"], r["gen4"], r["async"], r["cancel"]
        lines.append(f"| {r['workers']} | {r['sigma']} | {r['mean'] * 1000:.0f} ms "
                     f"| {g['wall']:.2f} ({g['utilisation']:.3f}) "
                     f"| {g4['wall']:.2f} ({g4['utilisation']:.3f}; P = {r['pop4']}) "
                     f"| {cell(a)} | {cell(r['async0'])} | {r['ideal']['drain']:.3f} "
                     f"| {c['wall']:.2f} ({c['utilisation']:.3f}) | {r['ideal']['cancel']:.3f} "
                     f"| {g['wall'] / a['wall']:.2f}× | {g4['wall'] / a['wall']:.2f}× |")
    short = [r for r in rows if r["async"]["utilisation"] < 0.95]
    if short:
        lines += ["", "Below 0.95 with finish = drain (prefetch 1): " + "; ".join(
            f"{r['workers']} workers, sigma {r['sigma']}: {r['async']['utilisation']:.3f} "
            f"(ideal {r['ideal']['drain']:.3f}), {r['async']['before_drain']:.3f} before the "
            f"drain of {r['async']['drain']:.2f} s" for r in short) + ". The drain is the "
            "run's end: once the budget's last evaluation has started, the slowest ones still "
            "running decide when the run ends while the other workers have nothing left to "
            "do. With heavy-tailed durations and many workers it is a large share of a "
            "2,000-evaluation run (a single evaluation can last seconds of a run of about "
            "ten): even the ideal schedule of the same durations stays "
            "below 0.95 there, so a scheduler that does not know the durations cannot reach it "
            "while every evaluation of the budget completes. `finish = \"cancel\"` ends the "
            "run at the budget-th completion instead (its column)."]
    cancel_short = [r for r in rows if r["cancel"]["utilisation"] < 0.95]
    if cancel_short:
        lines += ["", "Below 0.95 with finish = cancel: " + "; ".join(
            f"{r['workers']} workers, sigma {r['sigma']}: {r['cancel']['utilisation']:.3f} "
            f"(ideal {r['ideal']['cancel']:.3f})" for r in cancel_short) + "."]
    quality_text = []
    if scores:
        lines += ["", f"Best rastrigin-10D loss after {evaluations} evaluations (8 workers, "
                  f"sigma 1, mean 5 ms), {seeds} seeds, mean ± SE (lower is better):", "",
                  "| optimizer | generational | async, prefetch 1 | async, prefetch 0 "
                  "| async (prefetch 1) − generational | prefetch 1 − prefetch 0 |",
                  "|---|---|---|---|---|---|"]
        for optimizer in ("ga", "cmaes"):
            if not all((optimizer, m) in scores for m in QUALITY_MODES):
                continue
            g, a, a0 = (scores[optimizer, m] for m in QUALITY_MODES)
            lines.append(f"| {optimizer} | {g[0]:.3f} ± {g[1]:.3f} | {a[0]:.3f} ± {a[1]:.3f} "
                         f"| {a0[0]:.3f} ± {a0[1]:.3f} | {_diff(a, g)} | {_diff(a, a0)} |")
            quality_text.append((optimizer, g, a, _diff(a, g)))
    cost_text = []
    if costs:
        lines += ["", f"Best loss at equal wall time with a cost model: bbob f{COST['function']} "
                  f"(rotated Rastrigin), {COST['dimension']}-D, instance 1; an evaluation "
                  f"sleeps {COST['mean'] * 1000:.0f} ms × max(0.05, (x_0 + 5) / 5) (cost grows "
                  f"with the first parameter); {COST['workers']} worker processes; population "
                  f"{COST['workers']} in both modes; best f − f_opt among the outcomes that "
                  f"arrived within {COST['seconds']:g} s of the workers being ready, {seeds} "
                  "seeds, mean ± SE (lower is better), and the evaluations completed in that "
                  "time:", "",
                  "| optimizer | generational: best loss | async: best loss | async − generational "
                  "| evaluations, generational | evaluations, async |", "|---|---|---|---|---|---|"]
        for optimizer in ("cmaes", "ga"):
            if (optimizer, "generational") not in costs or (optimizer, "async") not in costs:
                continue
            g, a = costs[optimizer, "generational"], costs[optimizer, "async"]
            lines.append(f"| {optimizer} | {g[0]:.2f} ± {g[1]:.2f} | {a[0]:.2f} ± {a[1]:.2f} "
                         f"| {_diff(a[:2], g[:2])} | {g[2]:.0f} ± {g[3]:.0f} "
                         f"| {a[2]:.0f} ± {a[3]:.0f} |")
            cost_text.append((optimizer, g, a, _diff(a[:2], g[:2])))
    lines += ["", "A fresh async run with the same seed may differ from an earlier one: what it "
              "computes depends on the order in which evaluations complete (each run records "
              "that order; `l2l replay` reproduces a run from it). The ga in async mode is "
              "steady-state (tournament parents, the worst replaced), cmaes updates once per "
              "lambda completions, so the two modes are different algorithms at equal "
              "evaluations. Prefetch makes the optimizer's information staler: a candidate is "
              "asked while 2 × workers − 1 others are outstanding (workers − 1 without it).", ""]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))

    gen_range = (min(r["gen"]["utilisation"] for r in rows), max(r["gen"]["utilisation"] for r in rows))
    out = [{"what": f"async evaluation: worker utilisation (final drain included), log-normal "
                    f"durations (sigma 0.5-1.5), "
                    f"{', '.join(sorted({str(r['workers']) for r in rows}, key=int))} workers, "
                    f"{evaluations} evaluations",
            "l2l": f"finish = cancel: ≥ 0.95 in {len(rows) - len(cancel_short)} of {len(rows)} "
                   "settings" + ("".join(
                       f"; {r['workers']} workers sigma {r['sigma']}: "
                       f"{r['cancel']['utilisation']:.3f} (ideal {r['ideal']['cancel']:.3f})"
                       for r in cancel_short)) + f". finish = drain (default): ≥ 0.95 in "
                   f"{len(rows) - len(short)} of {len(rows)}" + "".join(
                       f"; {r['workers']} workers sigma {r['sigma']}: "
                       f"{r['async']['utilisation']:.3f} (ideal {r['ideal']['drain']:.3f}: the "
                       f"drain, {r['async']['before_drain']:.3f} before it)" for r in short),
            "reference": f"generational (population = workers): {gen_range[0]:.2f}-{gen_range[1]:.2f};"
                         " goal ≥ 0.95"}]
    def machine_for(part: str) -> str:
        """The machine line of the last run that measured ``part`` (assembled from logs:
        a later run's figures replace an earlier one's)."""
        return next((m for m in reversed(machine_lines) if part in m.partition("(for: ")[2]),
                    machine_lines[0])

    key = next((r for r in rows if r["workers"] == 32 and r["sigma"] == 1.0), None)
    if key is not None:
        out.append({
            "what": f"async: wall time to {evaluations} evaluations, sigma 1, 32 workers",
            "l2l": f"{key['async']['wall']:.1f} s ({key['gen']['wall'] / key['async']['wall']:.2f}× "
                   f"shorter; {key['gen4']['wall'] / key['async']['wall']:.2f}× vs population "
                   f"{key['pop4']})",
            "reference": f"generational: {key['gen']['wall']:.1f} s (population = workers), "
                         f"{key['gen4']['wall']:.1f} s (population {key['pop4']}); goal ≥ 1.5× shorter"})
    if quality_text:
        out.append({
            "what": f"async: best rastrigin-10D loss at {evaluations} evaluations, {seeds} seeds",
            "l2l": "; ".join(f"{o} {a[0]:.2f} ± {a[1]:.2f}" for o, _, a, _ in quality_text),
            "reference": "generational " + "; ".join(f"{o} {g[0]:.2f} ± {g[1]:.2f} (async − "
                                                     f"generational {d})"
                                                     for o, g, _, d in quality_text),
            "machine": machine_for("quality")})
    if cost_text:
        out.append({
            "what": f"async: best bbob f{COST['function']}-{COST['dimension']}D loss at equal wall "
                    f"time ({COST['seconds']:g} s, cost ∝ x_0, {COST['workers']} workers), "
                    f"{seeds} seeds",
            "l2l": "; ".join(f"{o} {a[0]:.1f} ± {a[1]:.1f} ({a[2]:.0f} evaluations)"
                             for o, _, a, _ in cost_text),
            "reference": "generational " + "; ".join(
                f"{o} {g[0]:.1f} ± {g[1]:.1f} ({g[2]:.0f} evaluations; async − generational {d})"
                for o, g, _, d in cost_text),
            "machine": machine_for("equal time")})
    summary.write("async", command, machine_lines[0], out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="400 evaluations, 5 seeds")
    ap.add_argument("--workers", default=",".join(map(str, WORKERS)),
                    help="comma-separated worker counts of the grid ('' for none)")
    ap.add_argument("--sigmas", default=",".join(map(str, SIGMAS)), help="comma-separated sigmas")
    ap.add_argument("--no-quality", action="store_true", help="skip the quality comparison")
    ap.add_argument("--cost", action="store_true",
                    help="with a part of the grid: also the equal-wall-time comparison")
    ap.add_argument("--from-log", nargs="+", metavar="LOG",
                    help="run nothing: rebuild the results from what runs of this script printed")
    args = ap.parse_args()
    evaluations = 400 if args.quick else 2000
    seeds = 5 if args.quick else 10
    command = "python bench/async.py" + (" --quick" if args.quick else "")
    if args.from_log:
        rows, scores, costs, machines = from_logs(args.from_log, evaluations)
        missing = [f"workers {w}, sigma {s}" for w in WORKERS for s in SIGMAS
                   if not any(r["workers"] == w and r["sigma"] == s for r in rows)]
        command = ("python bench/async.py --workers W --no-quality (W = 2, 8, 32; each under "
                   "the heavy-run lock), --workers '' --sigmas '' --cost (the quality and the "
                   "equal-wall-time comparisons); then --from-log of their output "
                   "(bench/results/async.log)")
        note = (f"Assembled with `--from-log` from the lines printed by {len(machines)} runs "
                "(one machine line each, above, with the parts it measured); every row was "
                "measured in one run, its modes side by side."
                + (f" Not measured: {'; '.join(missing)}." if missing else "")
                + ("" if scores else " Not measured: the quality comparison.")
                + ("" if costs else " Not measured: the equal-wall-time comparison."))
        render(rows, scores, costs, machines, command, evaluations, seeds, note)
        return 0
    machine = Machine.measure(["l2l-core", "numpy"])
    print(machine.markdown()[0], flush=True)
    workers = tuple(int(w) for w in args.workers.split(",") if w)
    sigmas = tuple(float(x) for x in args.sigmas.split(",") if x)
    full = (workers, sigmas) == (WORKERS, SIGMAS) and not args.no_quality
    rows, scores, costs = measure(evaluations, seeds, workers, sigmas,
                                  with_quality=not args.no_quality, with_cost=full or args.cost)
    machine.finish()
    print(machine.markdown()[0], flush=True)
    if not full:
        return 0  # a part of the grid: combine its printed lines with --from-log
    render(rows, scores, costs, machine.markdown(), command, evaluations, seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
