"""Colonies simulated per second by the ants optimizee's Python engine: batched vs one at a time.

Simulates ``--colonies`` colonies of the reference setting (15 ants, 250 synapses, 500 ticks,
random networks as in a GA's first generation) in batches of 1, 8 and 32 (one
``evaluate_batch`` call per batch: one vectorised simulation) and one at a time
(``evaluate`` per colony). The modes are interleaved within each repeat so that a machine
loaded by other jobs slows them alike; the table gives the median over repeats. Written to
bench/results/netlogo.md.

    python bench/netlogo.py [--quick] [--colonies 32] [--repeats 3] [--ticks 500]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import summary
from l2l_netlogo import AntColony
from machine import Machine

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
    ap.add_argument("--quick", action="store_true", help="one repeat, no batches of 1")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 1
    machine = Machine.measure(["l2l-core", "l2l-netlogo"])
    colony = AntColony(engine="python", ticks=args.ticks)
    colony.setup()
    params = networks(colony, args.colonies)
    modes: list[int | None] = [None, *(b for b in BATCHES if not (args.quick and b == 1))]
    times: dict[int | None, list[tuple[float, float]]] = {m: [] for m in modes}
    run(colony, params[:2], 2)  # warm-up
    for _ in range(args.repeats):
        for m in modes:
            times[m].append(run(colony, params, m))
    machine.finish()
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
        *machine.markdown(),
        "",
        "On a shared machine absolute figures are noisy: the ratios between rows (measured side "
        "by side) are what to read; CPU seconds (this process) are less disturbed by other jobs "
        "than wall seconds.",
        "",
        "| mode | wall s | colonies / s (wall) | speed-up (wall) | CPU s | colonies / CPU s "
        "| speed-up (CPU) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Command: `{command(args)}`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / "netlogo.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    big = BATCHES[-1]
    summary.write("netlogo", command(args), machine.markdown()[0], [{
        "what": f"ant colonies, batched Python engine, {big} per batch vs one at a time "
                f"({args.colonies} colonies × {args.ticks} ticks)",
        "l2l": f"{med(None, 1) / med(big, 1):.1f}× per CPU-second, {med(None, 0) / med(big, 0):.1f}× wall",
        "reference": "— (NetLogo itself is not installable here)"}])


def command(args) -> str:
    if args.quick:
        return "python bench/netlogo.py --quick"
    return (f"python bench/netlogo.py --colonies {args.colonies} --repeats {args.repeats} "
            f"--ticks {args.ticks}")


if __name__ == "__main__":
    main()
