"""Framework overhead per generation and per evaluation on a trivially cheap optimizee.

Runs the ``function`` optimizee (sphere, 10-D, microseconds per evaluation) with ``ga`` for
20 generations into a fresh SQLite store, with the serial and process executors at
populations 32 and 100, and prints a table (also written to bench/results/overhead.md).

    python bench/overhead.py [--generations 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from l2l import Experiment, Store, build
from l2l.executors.process import ProcessExecutor
from l2l.executors.serial import SerialExecutor

L2L_REFERENCE = {32: 10.5, 100: 31.0}  # l2lforhpc 2.0.0b0, seconds per generation (32 workers)


def measure(executor_name: str, population: int, generations: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "runs.db")
        executor = SerialExecutor(batch=False) if executor_name == "serial" else ProcessExecutor(workers=workers)
        store = Store(db)
        exp = Experiment(build("optimizee", "function", function="sphere", dimension=10),
                         build("optimizer", "ga", population=population), executor, store,
                         generations=generations, seed=0)
        t0 = time.perf_counter()
        result = exp.run()
        total = time.perf_counter() - t0
        eval_time = sum(i.evaluation.wall_time for i in store.individuals(result.run_id))
        store.close()
        files = sorted(os.listdir(tmp))
    # the process executor's worker start-up is a one-off cost, reported separately
    per_gen = total / generations
    return {"executor": executor_name, "population": population, "per_generation_ms": per_gen * 1e3,
            "per_evaluation_us": (total - eval_time) / (generations * population) * 1e6,
            "eval_share": eval_time / total, "files": files}


def steady(executor_name: str, population: int, generations: int, workers: int) -> float:
    """Seconds per generation excluding start-up: difference of a long and a short run."""
    long = measure(executor_name, population, generations, workers)["per_generation_ms"] * generations
    short = measure(executor_name, population, 2, workers)["per_generation_ms"] * 2
    return (long - short) / (generations - 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    rows = []
    for executor in ("serial", "process"):
        for pop in (32, 100):
            m = measure(executor, pop, args.generations, args.workers)
            m["steady_ms"] = steady(executor, pop, args.generations, args.workers)
            rows.append(m)
    lines = [
        f"# Framework overhead ({platform.python_version()}, {os.cpu_count()} cores, "
        f"{args.generations} generations, ga on 10-D sphere, SQLite store)",
        "",
        "| executor | population | ms per generation (incl. start-up) | ms per generation (steady) "
        "| overhead µs per evaluation | files in store dir | L2L (l2lforhpc) s per generation | speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ref = L2L_REFERENCE[r["population"]]
        lines.append(f"| {r['executor']} | {r['population']} | {r['per_generation_ms']:.2f} | "
                     f"{r['steady_ms']:.2f} | {r['per_evaluation_us']:.0f} | "
                     f"{len(r['files'])} ({', '.join(r['files'])}) | {ref} | "
                     f"{ref / (r['steady_ms'] / 1e3):,.0f}× |")
    lines += ["", "Targets: < 10 ms per generation at population 100 in-process, < 100 ms with "
              "the process executor. L2L reference from ../shared/reference/measured.md "
              "(same machine type; 32 workers, 10-D Rastrigin; it writes ~480 files for 10 "
              "generations at population 32).", ""]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).parent / "results" / "overhead.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
