"""Benchmark of l2l-nest: evaluations per second of nest-reservoir and nest-brunel, the
ensemble-in-one-simulation batch path against one simulation per member, and (``--accuracy``)
a timed EnKF training run of the spiking readout from ``examples/enkf-digits.toml``, and
(``--l2l``) the learning-to-learn example ``examples/l2l-enkf.toml``.

    python bench/nest.py [--accuracy] [--l2l] [--members 1,10,50,100]

Prints a markdown report and writes it to ``bench/results/nest.md``. Wall times on a shared
machine vary with its load; CPU seconds of this process are given beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

# this file is called nest.py: keep its folder off the import path so `import nest` finds NEST
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from l2l import experiment_from_config, load_config  # noqa: E402
from l2l_nest.brunel import BrunelNetwork  # noqa: E402
from l2l_nest.reservoir import ReservoirDigits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "plugins" / "l2l-nest" / "examples" / "enkf-digits.toml"
L2L_EXAMPLE = ROOT / "plugins" / "l2l-nest" / "examples" / "l2l-enkf.toml"
#: the reservoir of the example (200 neurons, 50 readout sources), on 100 training images
RESERVOIR = dict(n_readout_sources=50, n_train=100, n_validation=100, presentation_ms=50.0,
                 rest_ms=10.0)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def bench_reservoir(members: list[int]) -> list[str]:
    opt = ReservoirDigits(**RESERVOIR)
    opt.setup()
    params = opt.space().sample(np.random.default_rng(0), max(members))
    rows = ["| members | one simulation (batch): wall s | CPU s | evals/s | one simulation per "
            "member: wall s | CPU s | evals/s | speed-up (wall) | same readout spikes |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for k in members:
        batch, bw, bc = timed(lambda: opt.evaluate_batch(params[:k], [0] * k))
        single, sw, sc = timed(lambda: [opt.evaluate(p, 0) for p in params[:k]])
        same = all(np.array_equal(a.observation, b.observation) for a, b in zip(batch, single))
        rows.append(f"| {k} | {bw:.2f} | {bc:.2f} | {k / bw:.1f} | {sw:.2f} | {sc:.2f} | "
                    f"{k / sw:.1f} | {sw / bw:.1f}x | {'yes' if same else 'NO'} |")
        print(rows[-1], flush=True)
    return rows


def bench_brunel(n: int = 5) -> list[str]:
    opt = BrunelNetwork()
    opt.setup()
    params = opt.space().sample(np.random.default_rng(0), n)
    evs, wall, cpu = timed(lambda: [opt.evaluate(p, i) for i, p in enumerate(params)])
    rates = ", ".join(f"{e.info['rate']:.0f}" for e in evs)
    return [f"| nest-brunel (500 neurons, 1 s) | {n} | {wall:.2f} | {cpu:.2f} | {n / wall:.1f} | "
            f"rates {rates} Hz |"]


def accuracy_run() -> list[str]:
    config = load_config(EXAMPLE)
    exp = experiment_from_config(config)
    result, wall, cpu = timed(exp.run)
    opt: ReservoirDigits = exp.optimizee
    opt.setup()
    best = result.best
    val = opt.validate(best.params, 0).fitness[0]
    test = opt.test(best.params, 0).fitness[0]
    opt_conf = config["optimizer"]
    lines = [f"Config `{EXAMPLE.relative_to(ROOT)}` (enkf population {opt_conf['population']}, "
             f"gamma {opt_conf['gamma']}, {result.generations} generations, "
             f"{result.evaluations} evaluations, executor {config['executor']['name']}, batch path).", "",
             "| generation | best training loss so far (mse - accuracy) |", "|---:|---:|"]
    lines += [f"| {g} | {loss:.4f} |" for g, loss in enumerate(result.history)]
    lines += ["", f"Best individual (by training loss): training accuracy "
              f"{best.evaluation.fitness[0]:.3f}, validation accuracy {val:.3f}, "
              f"**test accuracy {test:.3f}** ({len(opt._splits()['test'].labels)} test images; "
              f"chance 0.1). Training run: {wall:.0f} s wall, {cpu:.0f} s CPU."]
    for line in lines:
        print(line, flush=True)
    return lines


def l2l_run() -> list[str]:
    config = load_config(L2L_EXAMPLE)
    exp = experiment_from_config(config)
    result, wall, _ = timed(exp.run)
    best = result.best
    outer = ", ".join(f"{k} = {v:.4g}" for k, v in best.params.items())
    lines = [f"Config `{L2L_EXAMPLE.relative_to(ROOT)}` (outer ga, population "
             f"{config['optimizer']['population']}, {result.generations} generations, "
             f"{result.evaluations} inner EnKF runs of {config['optimizee']['generations']} "
             f"generations each, process executor with 2 workers).", "",
             "| outer generation | best loss so far (minus validation accuracy) |", "|---:|---:|"]
    lines += [f"| {g} | {loss:.4f} |" for g, loss in enumerate(result.history)]
    lines += ["", f"Best hyper-parameters: {outer}; validation accuracy "
              f"{best.evaluation.fitness[0]:.3f}. Run: {wall:.0f} s wall."]
    for line in lines:
        print(line, flush=True)
    return lines


SPEED = "## nest-reservoir: ensemble in one simulation vs one simulation per member"
BRUNEL = "## nest-brunel"
ACCURACY = "## EnKF training of the spiking readout (digits)"
L2L = "## Learning to learn: GA over EnKF hyper-parameters"
ORDER = (SPEED, BRUNEL, ACCURACY, L2L)


def merge(path: Path, header: list[str], sections: dict[str, list[str]]) -> str:
    """The report: ``header`` and the sections run now, other sections kept from ``path``."""
    kept: dict[str, list[str]] = {}
    if path.exists():
        current = None
        for line in path.read_text().splitlines():
            if line.startswith("## "):
                current = line
                kept[current] = []
            elif current is not None:
                kept[current].append(line)
    kept.update(sections)
    body = []
    for title in ORDER:
        if title in kept:
            text = "\n".join(kept[title]).strip("\n")
            body += [title, "", text, ""]
    return "\n".join(header + [""] + body).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="1,10,50,100")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed sections")
    parser.add_argument("--accuracy", action="store_true", help="run the EnKF training")
    parser.add_argument("--l2l", action="store_true", help="run the learning-to-learn example")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    header = ["# l2l-nest benchmark", "",
              f"NEST 3.10 (PyPI wheel), 1 thread per simulation, Python {platform.python_version()}, "
              f"{os.cpu_count()} cores shared with about seven other jobs (load average {load:.1f} "
              "when this report was last written, 3 to 8 during the runs): wall times are "
              "inflated by the load, CPU seconds less so. "
              "Produced by `python bench/nest.py [--accuracy] [--l2l]`; each section is "
              "replaced when it is run again."]
    sections: dict[str, list[str]] = {}
    if not args.no_speed:
        members = [int(m) for m in args.members.split(",")]
        sections[SPEED] = [
            f"Reservoir of 200 `iaf_psc_exp` neurons, 50 readout sources, "
            f"{RESERVOIR['n_train']} training images of 50 ms + 10 ms rest (6 s simulated), one "
            "population of 10 readout neurons per member; 'same readout spikes' compares every "
            "member's observation from the batch with its own simulation.", "",
            *bench_reservoir(members)]
        sections[BRUNEL] = ["| optimizee | evaluations | wall s | CPU s | evals/s | |",
                            "|---|---:|---:|---:|---:|---|", *bench_brunel()]
    if args.accuracy:
        sections[ACCURACY] = accuracy_run()
    if args.l2l:
        sections[L2L] = l2l_run()
    path = ROOT / "bench" / "results" / "nest.md"
    text = merge(path, header, sections)
    print(text)
    path.write_text(text)


if __name__ == "__main__":
    main()
