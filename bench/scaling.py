"""Parallel speed-up of the executors on fixed CPU work, their dispatch overhead, and the
coordinator's limits.

Speed-up: each executor (process, mpi, dask) runs a GA on 1 and on 2 workers over optimizees
that do a fixed amount of work per evaluation (``bench/support/workloads.py``): pure-Python
arithmetic (holds the GIL), a numpy rate network (releases it) and a small NEST network (the
same parameters and seed every time). The work does not depend on the parameters and one seed drives
the GA, so every configuration does exactly the same work. Workers pin themselves to a core of
their own where the OS allows (``os.sched_setaffinity``); BLAS runs single-threaded. Speed-up =
steady evaluations/s with 2 workers over 1 (the first generation, with the start-up, left out).

Dispatch overhead: the same loops on zero-cost evaluations (ms per generation and per
evaluation), and the coordinator's costs for a 10,000-individual generation.

On a shared machine the speed-up is bounded by the cores other jobs leave free: the machine
line gives the load and a busy-probe of the free cores, and a figure taken when fewer than 2
cores were free is marked load-bound.

    python bench/scaling.py [--quick] [--executors process,mpi,dask] [--workloads python,numpy,nest]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUPPORT = HERE / "support"  # the workloads, importable by MPI and Dask workers too
sys.path[:0] = [str(HERE), str(SUPPORT)]  # also in workers that re-import this file
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per worker, BLAS included
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")]))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import pickle  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import summary  # noqa: E402
from machine import Machine, free_cores  # noqa: E402
from timing import GenerationTimes  # noqa: E402
from workloads import NestWork, NumpyWork, PythonWork  # noqa: E402

# bench/nest.py and bench/arbor.py must not shadow the simulators
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from l2l import Evaluation, Experiment, Individual, Objectives, Store, Task, build  # noqa: E402

OUT = HERE / "results" / "scaling.md"


WORKLOADS = {
    "python": ("pure-Python arithmetic, 200,000 steps (holds the GIL)", PythonWork),
    "numpy": ("rate network, 256 units × 1,000 Euler steps (numpy; releases the GIL)", NumpyWork),
    "nest": ("NEST Brunel network, 250 neurons, 300 ms (1 thread)", NestWork),
}
#: population, generations (the first is left out) per workload
SIZES = {"python": (32, 4), "numpy": (32, 4), "nest": (16, 3)}
QUICK_SIZES = {"python": (16, 3), "numpy": (16, 3), "nest": (8, 3)}
#: --quick: the executors each workload runs on (the full run: all of them)
QUICK_EXECUTORS = {"python": ("process", "mpi", "dask"), "numpy": ("process",), "nest": ("process",)}
ZERO_COST = {32: 8, 256: 5}  # population -> generations
QUICK_ZERO_COST = {32: 5}


def available(executors: list[str]) -> list[str]:
    from l2l import get_plugins

    known = set(get_plugins().names("executors"))
    return [e for e in executors if e in known]


def make_executor(name: str, workers: int):
    if name == "serial":
        return build("executor", "serial")
    return build("executor", name, workers=workers)


def steady_run(executor: str, workers: int, optimizee, population: int, generations: int) -> dict:
    """Steady evaluations/s of one GA run (generations after the first)."""
    times = GenerationTimes()
    exp = Experiment(optimizee, build("optimizer", "ga", population=population),
                     make_executor(executor, workers), seed=1, generations=generations, progress=times)
    free = free_cores(0.25)
    t0 = time.perf_counter()
    result = exp.run()
    total = time.perf_counter() - t0
    steady = times.steady()
    later = [i.evaluation.info for i in exp.store.individuals(result.run_id) if i.generation > 0]
    cpu = [info["cpu_ms"] for info in later if "cpu_ms" in info]
    return {"executor": executor, "workers": workers, "population": population,
            "throughput": population / steady, "startup": total - steady * (generations - 1),
            "free": free, "cpu_ms": statistics.median(cpu) if cpu else None,
            "cores": sorted({info["core"] for info in later if info.get("core") is not None})}


def speedup_rows(executors: list[str], workloads: list[str], quick: bool) -> list[dict]:
    rows = []
    sizes = QUICK_SIZES if quick else SIZES
    for load in workloads:
        population, generations = sizes[load]
        optimizee = WORKLOADS[load][1]()
        pin = os.environ.pop("L2L_BENCH_PIN_DIR", None)  # the serial run would pin this process
        base = steady_run("serial", 1, optimizee, population, generations)
        if pin:
            os.environ["L2L_BENCH_PIN_DIR"] = pin
        base["workload"] = load
        rows.append(base)
        print(f"  {load:6s} serial: {base['throughput']:.1f} evaluations/s", flush=True)
        for name in executors:
            if quick and name not in QUICK_EXECUTORS[load]:
                continue
            one = steady_run(name, 1, optimizee, population, generations)
            two = steady_run(name, 2, optimizee, population, generations)
            for r in (one, two):
                r["workload"] = load
                r["speedup"] = r["throughput"] / one["throughput"]
                r["vs_serial"] = r["throughput"] / base["throughput"]
                rows.append(r)
            print(f"  {load:6s} {name:8s}: {one['throughput']:.1f} → {two['throughput']:.1f} "
                  f"evaluations/s, speed-up {two['speedup']:.2f} (free cores {two['free']:.2f})",
                  flush=True)
    return rows


def overhead_rows(executors: list[str], zero_cost: dict) -> list[dict]:
    rows = []
    for population, generations in zero_cost.items():
        for name in ["serial", *executors]:
            workers = 1 if name == "serial" else 2
            opt = build("optimizee", "function", function="rastrigin", dimension=10)
            r = steady_run(name, workers, opt, population, generations)
            gen = population / r["throughput"]
            rows.append({"executor": name, "workers": workers, "population": population,
                         "generation_ms": gen * 1e3, "per_evaluation_ms": gen / population * 1e3,
                         "startup": r["startup"]})
            print(f"  {name:8s} population={population}: {gen * 1e3:.1f} ms per generation", flush=True)
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

    def size(obj) -> int:
        return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    return {"n": n, "dimension": dimension, "commit_s": statistics.median(commits),
            "rows_per_s": n / statistics.median(commits), "db_mb_per_gen": db_bytes / 3 / 1e6,
            "ask_s": ask, "tell_s": tell, "task_bytes": size(tasks[0]),
            "chunk25_bytes": size(tasks[:25]), "results25_bytes": size(results),
            "generation_task_mb": size(tasks) / 1e6, "optimizee_bytes": size(optimizee)}


def render(rows: list[dict], over: list[dict], limits: dict, machine: Machine, workloads: list[str],
           sizes: dict, command: str) -> str:
    lines = ["# Executor scaling on fixed CPU work", "", *machine.markdown(), "",
             "## Speed-up with 2 workers over 1, fixed work per evaluation", "",
             "Workloads (the same work in every evaluation, whatever the parameters):", ""]
    for w in workloads:
        lines.append(f"- `{w}`: {WORKLOADS[w][0]}; population {sizes[w][0]}, "
                     f"{sizes[w][1]} generations")
    lines += ["", "GA, one seed: every configuration evaluates the same candidates. Steady "
              "evaluations/s = median of the generations after the first; start-up = executor "
              "start and first generation beyond the steady rate. *CPU ms per evaluation*: median "
              "CPU time of the work in the worker process (the same work everywhere: it moves with "
              "contention for caches and memory, far less than wall time with waiting); *busy cores* = "
              "evaluations/s × CPU seconds per evaluation: the cores the work actually got. "
              "*free cores*: busy-probe just before the run (2 = idle machine); a 2-worker "
              "figure taken with fewer than 1.9 free cores is load-bound. Where Linux shares the "
              "CPU between sessions (autogroup scheduling, the default on desktops and this "
              "machine), a loaded machine gives this bench's session its share whatever the "
              "number of workers, so the process and dask speed-ups stay near 1; the mpi "
              "executor's ranks, started by `mpiexec` in sessions of their own, get shares of "
              "their own: under load its figures are not comparable to the others'.", "",
              "| workload | executor | workers | evaluations/s | speed-up vs 1 worker | vs serial "
              "| CPU ms per evaluation | busy cores | pinned to cores | start-up s | free cores |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        speed = "—" if r["executor"] == "serial" else f"{r['speedup']:.2f}"
        vs = "1" if r["executor"] == "serial" else f"{r['vs_serial']:.2f}"
        cpu = "—" if r["cpu_ms"] is None else f"{r['cpu_ms']:.1f}"
        busy = "—" if r["cpu_ms"] is None else f"{r['throughput'] * r['cpu_ms'] / 1e3:.2f}"
        cores = ", ".join(map(str, r["cores"])) or "—"
        lines.append(f"| {r['workload']} | {r['executor']} | {r['workers']} | {r['throughput']:.1f} "
                     f"| {speed} | {vs} | {cpu} | {busy} | {cores} | {r['startup']:.1f} "
                     f"| {r['free']:.2f} |")
    lines += ["", "## Dispatch overhead (zero-cost evaluations)", "",
              "The whole loop (ask, executor round trip, tell, store commit) on evaluations that "
              "cost microseconds; steady generations.", "",
              "| executor | workers | population | ms per generation | ms per evaluation | start-up s |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in over:
        lines.append(f"| {r['executor']} | {r['workers']} | {r['population']} | {r['generation_ms']:.1f} "
                     f"| {r['per_evaluation_ms']:.3f} | {r['startup']:.1f} |")
    L = limits
    lines += ["", f"## Coordinator limits for {L['n']:,} individuals per generation "
                  f"({L['dimension']}-D parameters)", "",
              "| quantity | measured |", "|---|---|",
              f"| store commit of one generation (`Store.commit_generation`) | {L['commit_s']:.2f} s "
              f"({L['rows_per_s']:,.0f} rows/s) |",
              f"| store growth per generation | {L['db_mb_per_gen']:.1f} MB |",
              f"| GA ask / tell | {L['ask_s'] * 1e3:.0f} ms / {L['tell_s'] * 1e3:.0f} ms |",
              f"| pickled task (one individual) | {L['task_bytes']} B |",
              f"| pickled chunk of 25 tasks / its 25 results | {L['chunk25_bytes']:,} B / "
              f"{L['results25_bytes']:,} B |",
              f"| all tasks of the generation | {L['generation_task_mb']:.2f} MB |",
              f"| pickled optimizee (shipped once per worker with mpi; per chunk with dask) | "
              f"{L['optimizee_bytes']} B |", "", f"Command: `{command}`."]
    return "\n".join(lines) + "\n"


def summary_rows(rows: list[dict], over: list[dict], executors: list[str]) -> list[dict]:
    out = []
    for load in dict.fromkeys(r["workload"] for r in rows):
        twos = [r for r in rows if r["workload"] == load and r["workers"] == 2]
        if not twos:
            continue
        free = min(r["free"] for r in twos)
        busy = [r["throughput"] * r["cpu_ms"] / 1e3 for r in twos if r["cpu_ms"] is not None]
        bound = ""
        if free < 1.9:
            bound = f"; load-bound: {free:.2f} free cores"
            if busy:
                bound += f", the work got {min(busy):.2f}-{max(busy):.2f} cores"
        out.append({"what": f"parallel speed-up, 2 workers over 1, fixed CPU work: {WORKLOADS[load][0]}",
                    "l2l": ", ".join(f"{r['executor']} {r['speedup']:.2f}×" for r in twos) + bound,
                    "reference": "goal ≥ 1.8× on an idle machine"})
    big = max(r["population"] for r in over)
    per = [r for r in over if r["population"] == big and r["executor"] != "serial"]
    if per:
        out.append({"what": f"dispatch overhead per evaluation, population {big}, 2 workers",
                    "l2l": ", ".join(f"{r['executor']} {r['per_evaluation_ms']:.2f} ms" for r in per),
                    "reference": "goal < 2 ms"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smaller populations, fewer generations; numpy and NEST on process only")
    ap.add_argument("--executors", default="process,mpi,dask")
    ap.add_argument("--workloads", default="python,numpy,nest")
    ap.add_argument("--no-pin", action="store_true", help="do not pin workers to cores")
    args = ap.parse_args()
    wanted = args.executors.split(",")
    executors = available(wanted)
    for name in sorted(set(wanted) - set(executors)):
        print(f"skipped: executor {name!r}: its plugin is not installed "
              f"(pip install -e plugins/l2l-{name})", flush=True)
    workloads = []
    for w in args.workloads.split(","):
        if w == "nest":  # not imported here: importing NEST drops sys.path[0]
            missing = [m for m in ("nest", "l2l_nest") if importlib.util.find_spec(m) is None]
            if missing:
                print(f"skipped: workload 'nest': {', '.join(missing)} not installed "
                      f"(pip install -e plugins/l2l-nest)", flush=True)
                continue
        workloads.append(w)
    sizes = QUICK_SIZES if args.quick else SIZES
    command = "python bench/scaling.py" + (" --quick" if args.quick else "")
    machine = Machine.measure(["l2l-core", "l2l-mpi", "l2l-dask", "l2l-nest", "mpi4py", "mpich",
                               "dask", "distributed", "nest-simulator"])
    print(machine.markdown()[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_pin:
            os.environ["L2L_BENCH_PIN_DIR"] = tmp
        print("speed-up:", flush=True)
        rows = speedup_rows(executors, workloads, args.quick)
        os.environ.pop("L2L_BENCH_PIN_DIR", None)
        print("dispatch overhead:", flush=True)
        over = overhead_rows(executors, QUICK_ZERO_COST if args.quick else ZERO_COST)
        print("coordinator limits:", flush=True)
        limits = coordinator_limits(tmp)
    machine.finish()
    text = render(rows, over, limits, machine, workloads, sizes, command)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text)
    summary.write("scaling", command, machine.markdown()[0], summary_rows(rows, over, executors))


if __name__ == "__main__":
    sys.exit(main())
