"""Colonies simulated per second by the ants optimizee's Python engine: batched vs one at a time.

Simulates ``--colonies`` colonies of the reference setting (15 ants, 250 synapses, 500 ticks,
random networks as in a GA's first generation) in batches of 1, 8 and 32 (one
``evaluate_batch`` call per batch: one vectorised simulation) and one at a time
(``evaluate`` per colony). The modes are interleaved within each repeat so that a machine
loaded by other jobs slows them alike; the table gives the median over repeats. Written to
bench/results/netlogo.md.

    python bench/netlogo.py [--colonies 32] [--repeats 3] [--ticks 500]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from l2l_netlogo import AntColony

BATCHES = (1, 8, 32)


def networks(colony: AntColony, n: int) -> list[dict]:
    return colony.space().sample(np.random.default_rng(0), n)


def run(colony: AntColony, params: list[dict], batch: int | None) -> tuple[float, float]:
    """Wall and CPU seconds to evaluate all ``params``; ``batch`` None means evaluate() per
    colony."""
    seeds = list(range(len(params)))
    t0, c0 = time.perf_counter(), time.process_time()
    if batch is None:
        for p, s in zip(params, seeds):
            colony.evaluate(p, s)
    else:
        for i in range(0, len(params), batch):
            colony.evaluate_batch(params[i:i + batch], seeds[i:i + batch])
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--colonies", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ticks", type=int, default=500)
    args = ap.parse_args()
    colony = AntColony(engine="python", ticks=args.ticks)
    colony.setup()
    params = networks(colony, args.colonies)
    modes: list[int | None] = [None, *BATCHES]
    times: dict[int | None, list[tuple[float, float]]] = {m: [] for m in modes}
    load_before = os.getloadavg()
    run(colony, params[:2], 2)  # warm-up
    for _ in range(args.repeats):
        for m in modes:
            times[m].append(run(colony, params, m))
    load_after = os.getloadavg()
    def med(m: int | None, k: int) -> float:
        return statistics.median(t[k] for t in times[m])

    rows = []
    for m in modes:
        wall, cpu = med(m, 0), med(m, 1)
        rows.append(f"| {'one at a time (evaluate)' if m is None else f'batch of {m} (evaluate_batch)'} "
                    f"| {wall:.2f} | {args.colonies / wall:.1f} | {med(None, 0) / wall:.1f}× "
                    f"| {cpu:.2f} | {args.colonies / cpu:.1f} | {med(None, 1) / cpu:.1f}× |")
    lines = [
        "# Ants optimizee: colonies per second, Python engine",
        "",
        f"{args.colonies} colonies × {args.ticks} ticks, 15 ants, 11-10-4 spiking network with 250 "
        f"synapses (random weights/delays), {args.repeats} interleaved repeats, median shown. "
        f"Python {platform.python_version()}, numpy {np.__version__}, one process "
        f"(engine: python; NetLogo is not installed here).",
        "",
        f"Machine: {os.cpu_count()} cores shared with other jobs running at the same time (load "
        f"average {load_before[0]:.1f} before, {load_after[0]:.1f} after): absolute figures are "
        "noisy, the ratios between rows (measured side by side) are what to read; CPU seconds "
        "(this process) are less disturbed by the other jobs than wall seconds.",
        "",
        "| mode | wall s | colonies / s (wall) | speed-up (wall) | CPU s | colonies / CPU s "
        "| speed-up (CPU) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Command: `python bench/netlogo.py "
        f"--colonies {args.colonies} --repeats {args.repeats} --ticks {args.ticks}`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / "netlogo.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
