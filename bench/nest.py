"""Benchmark of l2l-nest: evaluations per second of nest-reservoir and nest-brunel, the
ensemble-in-one-simulation batch path against one simulation per member, and (``--accuracy``)
a timed EnKF training run of the spiking readout from ``examples/enkf-digits.toml``, and
(``--l2l``) the learning-to-learn example ``examples/l2l-enkf.toml``.

    python bench/nest.py [--quick] [--accuracy] [--l2l] [--members 1,10,50,100]

Prints a markdown report and writes it to ``bench/results/nest.md`` (sections not run this time
are kept from the last run that made them) and the README rows to
``bench/results/nest.summary.json``. Wall times on a shared machine vary with its load; CPU
seconds of this process are given beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bench helpers, also in workers that re-import this file
import summary  # noqa: E402,I001
from machine import Machine  # noqa: E402

# this file is called nest.py: keep its folder off the import path so `import nest` finds NEST
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

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


def bench_reservoir(members: list[int]) -> tuple[list[str], dict]:
    """The table, and the figures of the largest ensemble."""
    opt = ReservoirDigits(**RESERVOIR)
    opt.setup()
    params = opt.space().sample(np.random.default_rng(0), max(members))
    rows = ["| members | one simulation (batch): wall s | CPU s | evals/s | one simulation per "
            "member: wall s | CPU s | evals/s | speed-up (wall) | speed-up (CPU) | same readout spikes |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    last: dict = {}
    for k in members:
        batch, bw, bc = timed(lambda k=k: opt.evaluate_batch(params[:k], [0] * k))
        single, sw, sc = timed(lambda k=k: [opt.evaluate(p, 0) for p in params[:k]])
        same = all(np.array_equal(a.observation, b.observation) for a, b in zip(batch, single))
        rows.append(f"| {k} | {bw:.2f} | {bc:.2f} | {k / bw:.1f} | {sw:.2f} | {sc:.2f} | "
                    f"{k / sw:.1f} | {sw / bw:.1f}x | {sc / bc:.1f}x | {'yes' if same else 'NO'} |")
        print(rows[-1], flush=True)
        last = {"members": k, "wall": sw / bw, "cpu": sc / bc, "same": same,
                "batch_rate": k / bw, "single_rate": k / sw}
    return rows, last


def bench_brunel(n: int = 5) -> list[str]:
    opt = BrunelNetwork()
    opt.setup()
    params = opt.space().sample(np.random.default_rng(0), n)
    evs, wall, cpu = timed(lambda: [opt.evaluate(p, i) for i, p in enumerate(params)])
    rates = ", ".join(f"{e.info['rate']:.0f}" for e in evs)
    return [f"| nest-brunel (500 neurons, 1 s) | {n} | {wall:.2f} | {cpu:.2f} | {n / wall:.1f} | "
            f"rates {rates} Hz |"]


def accuracy_run() -> tuple[list[str], dict]:
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
    row = {"what": "NEST reservoir digits, EnKF-trained spiking readout "
                   f"(`{EXAMPLE.relative_to(ROOT)}`, one run)",
           "l2l": f"test accuracy {test:.3f} (validation {val:.3f}) in {wall:.0f} s",
           "reference": "goal ≥ 0.85 (chance 0.10)"}
    return lines, row


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


def previous_rows() -> list[dict]:
    """The README rows of the last run (kept for the sections not run now)."""
    path = summary.RESULTS / "nest.summary.json"
    return json.loads(path.read_text())["rows"] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ensembles of 1, 10 and 20; 3 Brunel runs")
    parser.add_argument("--members", default="1,10,50,100")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed sections")
    parser.add_argument("--accuracy", action="store_true", help="run the EnKF training")
    parser.add_argument("--l2l", action="store_true", help="run the learning-to-learn example")
    args = parser.parse_args()
    if args.quick:
        args.members = "1,10,20"
    command = "python bench/nest.py" + "".join(
        f" --{k.replace('_', '-')}" for k in ("quick", "no_speed", "accuracy", "l2l") if getattr(args, k))
    machine = Machine.measure(["l2l-core", "l2l-nest", "nest-simulator"])
    sections: dict[str, list[str]] = {}
    rows = {r["what"].split(",")[0]: r for r in previous_rows()}
    if not args.no_speed:
        members = [int(m) for m in args.members.split(",")]
        table, last = bench_reservoir(members)
        sections[SPEED] = [
            f"Reservoir of 200 `iaf_psc_exp` neurons, 50 readout sources, "
            f"{RESERVOIR['n_train']} training images of 50 ms + 10 ms rest (6 s simulated), one "
            "population of 10 readout neurons per member; 'same readout spikes' compares every "
            "member's observation from the batch with its own simulation.", "", *table]
        sections[BRUNEL] = ["| optimizee | evaluations | wall s | CPU s | evals/s | |",
                            "|---|---:|---:|---:|---:|---|", *bench_brunel(3 if args.quick else 5)]
        row = {"what": f"NEST reservoir, ensemble of {last['members']} in one simulation vs one "
                       "simulation per member",
               "l2l": f"{last['wall']:.1f}× wall, {last['cpu']:.1f}× CPU ({last['batch_rate']:.1f} vs "
                      f"{last['single_rate']:.1f} evaluations/s), same readout spikes: "
                      f"{'yes' if last['same'] else 'NO'}",
               "reference": "—"}
        rows[row["what"].split(",")[0]] = row
    if args.accuracy:
        sections[ACCURACY], row = accuracy_run()
        rows[row["what"].split(",")[0]] = row
    if args.l2l:
        sections[L2L] = l2l_run()
    machine.finish()
    for row in rows.values():  # this run's rows carry this run's command and machine
        if "machine" not in row:
            row.update(command=command, machine=machine.markdown()[0])
    header = ["# l2l-nest benchmark", "", *machine.markdown(), "",
              "NEST PyPI wheel, 1 thread per simulation. Produced by `python bench/nest.py "
              "[--accuracy] [--l2l]`; each section is replaced when it is run again (this time: "
              f"`{command}`), the others are kept from the run that made them."]
    path = ROOT / "bench" / "results" / "nest.md"
    text = merge(path, header, sections)
    print(text)
    path.write_text(text)
    summary.write("nest", command, machine.markdown()[0], list(rows.values()))


if __name__ == "__main__":
    main()
