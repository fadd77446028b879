"""Throughput and parallel efficiency of the executors, and the coordinator's limits.

For evaluations of 1, 10 and 100 ms of busy CPU work (the ``function`` optimizee's ``cost``)
each executor (serial, process, mpi, dask) runs a few GA generations on 1 and 2 workers; the
first generation (warm-up) is left out of the timings. Then the framework overhead per
generation is measured with zero-cost evaluations at population 32 and 256 (2 workers), and
the coordinator's limits for a 10,000-individual generation: the store's commit rate, the
optimizer's ask/tell time and the pickled size of tasks, results and chunks.

    python bench/scaling.py            # about 3 minutes on 2 cores
    python bench/scaling.py --executors serial,dask

Writes the tables to bench/results/scaling.md as well.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from l2l import Evaluation, Experiment, Individual, Objectives, Store, Task, build

#: cost (s) -> (population, generations); the first generation is warm-up
SIZES = {0.001: (64, 4), 0.01: (32, 3), 0.1: (16, 3)}
ZERO_COST = {32: 8, 256: 5}  # population -> generations
OUT = Path(__file__).parent / "results" / "scaling.md"


class GenerationTimes:
    """A Progress that keeps the seconds of each generation."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def evaluation(self, generation, done, total, ev) -> None:
        pass

    def generation(self, generation, individuals, best_loss, seconds) -> None:
        self.seconds.append(seconds)


def make_executor(name: str, workers: int):
    if name == "serial":
        return build("executor", "serial")
    return build("executor", name, workers=workers)


def steady_generation(name: str, workers: int, cost: float, population: int,
                      generations: int, tmp: str) -> tuple[float, float]:
    """(median seconds per generation after the first, seconds of the whole run)."""
    times = GenerationTimes()
    store = Store(os.path.join(tmp, f"{name}-{workers}-{cost}-{population}.db"))
    exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=10, cost=cost),
                     build("optimizer", "ga", population=population), make_executor(name, workers),
                     store, seed=1, generations=generations, progress=times)
    t0 = time.perf_counter()
    exp.run()
    total = time.perf_counter() - t0
    store.close()
    return statistics.median(times.seconds[1:]), total


def available(executors: list[str]) -> list[str]:
    from l2l import get_plugins

    known = set(get_plugins().names("executors"))
    return [e for e in executors if e in known]


def scaling_rows(executors: list[str], tmp: str) -> list[dict]:
    rows = []
    for cost, (population, generations) in SIZES.items():
        for name in executors:
            for workers in ((1,) if name == "serial" else (1, 2)):
                gen, total = steady_generation(name, workers, cost, population, generations, tmp)
                throughput = population / gen
                rows.append({"executor": name, "workers": workers, "cost_ms": cost * 1e3,
                             "population": population, "throughput": throughput,
                             "efficiency": throughput * cost / workers,
                             "overhead_ms": (gen / population - cost / workers) * 1e3,
                             "startup_s": total - gen * (generations - 1)})
                print(f"  {name:8s} workers={workers} cost={cost * 1e3:g} ms: "
                      f"{throughput:8.1f} eval/s, efficiency {rows[-1]['efficiency']:.2f}",
                      flush=True)
    return rows


def overhead_rows(executors: list[str], tmp: str) -> list[dict]:
    rows = []
    for population, generations in ZERO_COST.items():
        for name in executors:
            workers = 1 if name == "serial" else 2
            gen, _ = steady_generation(name, workers, 0.0, population, generations, tmp)
            rows.append({"executor": name, "workers": workers, "population": population,
                         "generation_ms": gen * 1e3, "per_evaluation_ms": gen / population * 1e3})
            print(f"  {name:8s} population={population}: {gen * 1e3:.1f} ms per generation",
                  flush=True)
    return rows


def coordinator_limits(tmp: str, n: int = 10_000, dimension: int = 10) -> dict:
    """Costs the coordinator pays per generation of ``n`` individuals."""
    rng = np.random.default_rng(0)
    objectives = Objectives()
    individuals = [Individual(0, i, {"x": rng.uniform(-5, 5, dimension)}, i,
                              Evaluation(fitness=(float(rng.random()),), wall_time=0.01,
                                         worker="node042:12345"))
                   for i in range(n)]
    store = Store(os.path.join(tmp, "limits.db"))
    run_id = store.create_run("limits", 0, {}, {}, [], objectives)
    commits = []
    for gen in range(3):
        for ind in individuals:
            ind.generation = gen
        t0 = time.perf_counter()
        store.commit_generation(run_id, gen, individuals, objectives, {"optimizer": {}, "loop": {}})
        commits.append(time.perf_counter() - t0)
    store.close()  # checkpoints the write-ahead log into the file
    db_bytes = os.path.getsize(os.path.join(tmp, "limits.db"))

    optimizee = build("optimizee", "function", function="rastrigin", dimension=dimension)
    optimizer = build("optimizer", "ga", population=n)
    from l2l.optimizer import Problem

    optimizer.start(Problem(optimizee.space(), objectives, 1, None))
    t0 = time.perf_counter()
    candidates = optimizer.ask()
    ask = time.perf_counter() - t0
    evaluations = [Evaluation(fitness=(float(v),)) for v in rng.random(len(candidates))]
    t0 = time.perf_counter()
    optimizer.tell(candidates, evaluations)
    tell = time.perf_counter() - t0

    tasks = [Task(i, c, i) for i, c in enumerate(candidates)]
    results = [Evaluation(fitness=(1.0,), wall_time=0.01, worker="node042:12345")
               for _ in range(25)]
    size = lambda obj: len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: E731
    return {"n": n, "dimension": dimension, "commit_s": statistics.median(commits),
            "rows_per_s": n / statistics.median(commits), "db_mb_per_gen": db_bytes / 3 / 1e6,
            "ask_s": ask, "tell_s": tell, "task_bytes": size(tasks[0]),
            "chunk25_bytes": size(tasks[:25]), "results25_bytes": size(results),
            "generation_task_mb": size(tasks) / 1e6, "optimizee_bytes": size(optimizee)}


def render(rows: list[dict], over: list[dict], limits: dict, load: tuple[float, float],
           seconds: float) -> str:
    lines = [f"# Executor scaling (Python {platform.python_version()}, {os.cpu_count()} cores, "
             f"{platform.machine()})", "",
             f"Machine shared with other jobs while measuring: load average {load[0]:.1f} before, "
             f"{load[1]:.1f} after, on {os.cpu_count()} cores; the bench took {seconds:.0f} s. "
             "Figures under such load are pessimistic (efficiency especially); rerun "
             "`python bench/scaling.py` on an idle machine for clean numbers.", "",
             "## Throughput and parallel efficiency", "",
             "GA on 10-D Rastrigin; each evaluation burns `cost` of CPU. Median of the generations "
             "after the first. efficiency = throughput × cost / workers; overhead = wall time per "
             "evaluation beyond cost / workers; start-up = executor start + first generation "
             "beyond the steady rate.", "",
             "| cost | executor | workers | population | evaluations/s | efficiency "
             "| overhead ms/eval | start-up s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['cost_ms']:g} ms | {r['executor']} | {r['workers']} "
                     f"| {r['population']} "
                     f"| {r['throughput']:.1f} | {r['efficiency']:.2f} | {r['overhead_ms']:.2f} "
                     f"| {r['startup_s']:.1f} |")
    lines += ["", "## Framework overhead per generation (zero-cost evaluations)", "",
              "Whole loop: ask, executor round trip, tell, store commit (SQLite file).", "",
              "| executor | workers | population | ms per generation | ms per evaluation |",
              "|---|---|---|---|---|"]
    for r in over:
        lines.append(f"| {r['executor']} | {r['workers']} | {r['population']} "
                     f"| {r['generation_ms']:.1f} | {r['per_evaluation_ms']:.3f} |")
    L = limits
    lines += ["", f"## Coordinator limits for {L['n']:,} individuals per generation "
                  f"({L['dimension']}-D parameters)", "",
              "| quantity | measured |", "|---|---|",
              f"| store commit of one generation (`Store.commit_generation`) "
              f"| {L['commit_s']:.2f} s "
              f"({L['rows_per_s']:,.0f} rows/s) |",
              f"| store growth per generation | {L['db_mb_per_gen']:.1f} MB |",
              f"| GA ask / tell | {L['ask_s'] * 1e3:.0f} ms / {L['tell_s'] * 1e3:.0f} ms |",
              f"| pickled task (one individual) | {L['task_bytes']} B |",
              f"| pickled chunk of 25 tasks / its 25 results | {L['chunk25_bytes']:,} B / "
              f"{L['results25_bytes']:,} B |",
              f"| all tasks of the generation | {L['generation_task_mb']:.2f} MB |",
              f"| pickled optimizee (shipped once per worker with mpi; per chunk with dask) | "
              f"{L['optimizee_bytes']} B |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executors", default="serial,process,mpi,dask")
    args = ap.parse_args()
    executors = available(args.executors.split(","))
    missing = sorted(set(args.executors.split(",")) - set(executors))
    if missing:
        print(f"not installed, skipped: {', '.join(missing)}")
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print("throughput:", flush=True)
        rows = scaling_rows(executors, tmp)
        print("overhead per generation:", flush=True)
        over = overhead_rows(executors, tmp)
        print("coordinator limits:", flush=True)
        limits = coordinator_limits(tmp)
    text = render(rows, over, limits, (load0, os.getloadavg()[0]), time.perf_counter() - t0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
