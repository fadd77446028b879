"""The soak (``nox -s soak``; not part of the default run): a long run through the CLI, then
checks that the store and the run's cost stay flat in the number of generations and that no
process outlives the run.

    python tests/faults/soak.py [--generations 2000] [--population 2000] [--executor process]

Measured from the store itself: each checkpoint's size (``LENGTH(state)``), the time between
consecutive checkpoints (one generation: ask, evaluate, tell, commit), the store's size.
Prints a table and writes it to ``bench/results/soak.md``; exits 1 if a check fails:

* the checkpoint at the last generation is at most 2% larger than the one at generation 10;
* the median time per generation over the last 50 generations is within 25% of the median
  over generations 11-60 (medians: the machine's load varies);
* no process started by the run is alive 20 s after it ended.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "support"))


def tagged(token: str) -> list[str]:
    left = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("L2L_SOAK_TOKEN") == token and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.cmdline())[:100]}")
        except (psutil.Error, OSError):
            continue
    return left


def window(deltas: list[float]) -> tuple[float, float, float]:
    """Median, mean and standard error of the mean of per-generation times."""
    return (statistics.median(deltas), statistics.mean(deltas),
            statistics.stdev(deltas) / len(deltas) ** 0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=2000)
    ap.add_argument("--population", type=int, default=2000)
    ap.add_argument("--executor", default="process")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.md"))
    args = ap.parse_args()
    from fault_harness import experiment_toml
    from machine import Machine

    machine = Machine.measure(["numpy", "l2l-core"])
    with tempfile.TemporaryDirectory(prefix="l2l-soak-") as tmp:
        config = Path(tmp) / "soak.toml"
        config.write_text(experiment_toml(
            f'name = "soak"\nseed = 1\ngenerations = {args.generations}',
            'name = "function"\nfunction = "rastrigin"\ndimension = 10', args.population,
            args.executor, "" if args.executor == "serial" else f"workers = {args.workers}"))
        store = Path(tmp) / "soak.db"
        token = uuid.uuid4().hex
        env = {**os.environ, "L2L_SOAK_TOKEN": token}
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "l2l", "run", str(config), "--store", str(store)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        wall = time.monotonic() - t0
        if done.returncode != 0:
            print(f"the soak run failed (exit {done.returncode})")
            return 1
        deadline = time.monotonic() + 20
        while tagged(token) and time.monotonic() < deadline:
            time.sleep(0.5)
        orphans = tagged(token)
        con = sqlite3.connect(store)
        rows = con.execute("SELECT generation, LENGTH(state), created FROM checkpoints ORDER BY generation").fetchall()
        n_eval = con.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
        checkpoint_bytes = con.execute("SELECT SUM(LENGTH(state)) FROM checkpoints").fetchone()[0]
        con.close()
        store_bytes = sum(p.stat().st_size for p in Path(tmp).glob("soak.db*"))
    machine.finish()
    sizes = {g: size for g, size, _ in rows}
    deltas = [b[2] - a[2] for a, b in zip(rows, rows[1:])]  # deltas[i]: generation i + 1
    early, late = window(deltas[10:60]), window(deltas[-50:])
    last = rows[-1][0]
    size_ratio = sizes[last] / sizes[10]
    time_ratio = late[0] / early[0]
    checks = {"checkpoint size flat (≤ 1.02×)": size_ratio <= 1.02,
              "time per generation flat (median ≤ 1.25×)": time_ratio <= 1.25,
              "no process left behind": not orphans}
    lines = [
        f"# Soak: {args.generations} generations × population {args.population}, executor "
        f"{args.executor}", "",
        f"Command: `python tests/faults/soak.py --generations {args.generations} --population "
        f"{args.population} --executor {args.executor}` (`nox -s soak`)", "",
        *machine.markdown(), "",
        "| | generation 10 | generation " + str(last) + " | ratio |",
        "|---|---|---|---|",
        f"| checkpoint size (bytes) | {sizes[10]:,} | {sizes[last]:,} | {size_ratio:.3f} |",
        f"| time per generation (s): median of 50 | {early[0]:.4f} (gens 11–60) | {late[0]:.4f} "
        f"(last 50) | {time_ratio:.3f} |",
        f"| time per generation (s): mean ± SE of 50 | {early[1]:.4f} ± {early[2]:.4f} | "
        f"{late[1]:.4f} ± {late[2]:.4f} | {late[1] / early[1]:.3f} |", "",
        f"Store: {store_bytes / 1e6:,.1f} MB for {n_eval:,} evaluations; all checkpoints together "
        f"{checkpoint_bytes / 1e6:,.1f} MB. Wall time {wall:,.0f} s.", "",
        *[f"- {name}: {'pass' if ok else 'FAIL'}" for name, ok in checks.items()],
    ]
    if orphans:
        lines += ["", "Left behind:", *[f"    {o}" for o in orphans]]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
