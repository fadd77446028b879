"""Benchmark of l2l-arbor: the batch path (many cells in one Arbor recipe) against one simulation
per cell, and l2l-arbor against BluePyOpt (NEURON) on the same fitting problem.

Run: ``python bench/arbor.py`` in a venv made from ``bench/requirements-arbor.txt``. Prints a
markdown report and writes it to ``bench/results/arbor.md``. All timings of one report come
from the same run on the same machine, measured side by side (interleaved repeats).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

# this file is named like the simulator's package: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import arbor  # noqa: E402
import efel  # noqa: E402
import numpy as np  # noqa: E402
from l2l import Experiment, build  # noqa: E402
from l2l.executors.process import ProcessExecutor  # noqa: E402

OUT = Path(__file__).parent / "results" / "arbor.md"

#: the throughput problem: HH ball-and-stick (soma + 200 um dendrite, 11 CVs), one 80 ms step
THROUGHPUT_CELL = dict(
    parameters={"gnabar": {"low": 0.05, "high": 0.25, "sets": "hh.gnabar@soma"},
                "gkbar": {"low": 0.01, "high": 0.08, "sets": "hh.gkbar@soma"}},
    protocols=[{"name": "step", "amplitude": 0.5, "start": 10.0, "duration": 80.0}],
    tfinal=100.0, dt=0.025, cv_policy=20.0,
    features=["Spikecount", "mean_frequency", "time_to_first_spike", "AP_amplitude", "voltage_base"],
    missing_score=250.0, target_params={"gnabar": 0.12, "gkbar": 0.036},
)

#: the BluePyOpt comparison: its "simplecell" (one-compartment soma, L = diam = 10 um, HH)
#: with two steps (0.01 and 0.05 nA, 100-150 ms of 200 ms), Spikecount targets 1 and 5,
#: std 5 % of the target (as in BluePyOpt's example)
SIMPLE_CELL = dict(
    geometry={"soma_radius": 5.0, "dend_length": 0.0},
    parameters={"gnabar_hh": {"low": 0.05, "high": 0.125, "sets": "hh.gnabar@soma"},
                "gkbar_hh": {"low": 0.01, "high": 0.075, "sets": "hh.gkbar@soma"}},
    protocols=[{"name": "step1", "amplitude": 0.01, "start": 100.0, "duration": 50.0},
               {"name": "step2", "amplitude": 0.05, "start": 100.0, "duration": 50.0}],
    tfinal=200.0, dt=0.025, features=["Spikecount"],
    target_features={"step1.Spikecount": 1.0, "step2.Spikecount": 5.0}, relative_std=0.05,
)
SIMPLE_SWC = "1 1 -5.0 0.0 0.0 5.0 -1\n2 1 0.0 0.0 0.0 5.0 1\n3 1 5.0 0.0 0.0 5.0 2\n"


def throughput(populations: list[int], repeats: int) -> list[dict]:
    """Evaluations per second of the batch path (1 and 2 threads) and one simulation per cell."""
    cells = {th: build("optimizee", "arbor-cell", threads=th, **THROUGHPUT_CELL) for th in (1, 2)}
    for opt in cells.values():
        opt.setup()
    rows = []
    rng = np.random.default_rng(0)
    for n in populations:
        params = cells[1].space().sample(rng, n)
        seeds = list(range(n))
        times: dict[str, list[float]] = {"single": [], "batch1": [], "batch2": []}
        for _ in range(max(repeats, 256 // n)):  # interleaved: load changes hit all three alike
            t0 = time.perf_counter()
            single = [cells[1].evaluate(p, s) for p, s in zip(params, seeds)]
            t1 = time.perf_counter()
            b1 = cells[1].evaluate_batch(params, seeds)
            t2 = time.perf_counter()
            b2 = cells[2].evaluate_batch(params, seeds)
            t3 = time.perf_counter()
            times["single"].append(t1 - t0)
            times["batch1"].append(t2 - t1)
            times["batch2"].append(t3 - t2)
        same = all(np.allclose(a.fitness, b.fitness, atol=1e-9)
                   and np.allclose(a.fitness, c.fitness, atol=1e-9) for a, b, c in zip(single, b1, b2))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"n": n, **{k: n / v for k, v in med.items()}, "same": same})
    return rows


def run_l2l(generations: int, population: int, workers: int, start_method: str) -> dict:
    """The simplecell problem with l2l: GA, process executor (crash isolation), batch path.
    Like BluePyOpt's, the modules are imported before the clock starts."""
    t0 = time.perf_counter()
    opt = build("optimizee", "arbor-cell", **SIMPLE_CELL)
    ga = build("optimizer", "ga", population=population)
    with ProcessExecutor(workers=workers, start_method=start_method) as executor:
        exp = Experiment(opt, ga, executor, seed=1, generations=generations)
        t1 = time.perf_counter()
        result = exp.run()
        t2 = time.perf_counter()
    return {"evaluations": result.evaluations, "wall": t2 - t0, "loop": t2 - t1,
            "best": sum(result.best_fitness), "params": result.best_params}


def run_bluepyopt(generations: int, offspring: int) -> dict:
    """BluePyOpt's simplecell set-up with both steps; every protocol run isolated in its own
    process (BluePyOpt's default)."""
    import bluepyopt as bpop
    import bluepyopt.ephys as ephys

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        swc = Path(tmp) / "simple.swc"
        swc.write_text(SIMPLE_SWC)
        morph = ephys.morphologies.NrnFileMorphology(str(swc))
        somatic = ephys.locations.NrnSeclistLocation("somatic", seclist_name="somatic")
        hh = ephys.mechanisms.NrnMODMechanism(name="hh", suffix="hh", locations=[somatic])
        params = [ephys.parameters.NrnSectionParameter(name="cm", param_name="cm", value=1.0,
                                                       locations=[somatic], frozen=True)]
        for name, spec in SIMPLE_CELL["parameters"].items():
            params.append(ephys.parameters.NrnSectionParameter(
                name=name, param_name=name, bounds=[spec["low"], spec["high"]],
                locations=[somatic], frozen=False))
        cell = ephys.models.CellModel(name="simple_cell", morph=morph, mechs=[hh], params=params)
        soma = ephys.locations.NrnSeclistCompLocation(name="soma", seclist_name="somatic",
                                                      sec_index=0, comp_x=0.5)
        protocols, objectives = {}, []
        for proto in SIMPLE_CELL["protocols"]:
            stim = ephys.stimuli.NrnSquarePulse(step_amplitude=proto["amplitude"],
                                                step_delay=proto["start"],
                                                step_duration=proto["duration"], location=soma,
                                                total_duration=SIMPLE_CELL["tfinal"])
            rec = ephys.recordings.CompRecording(name=f"{proto['name']}.soma.v", location=soma,
                                                 variable="v")
            protocols[proto["name"]] = ephys.protocols.SweepProtocol(proto["name"], [stim], [rec])
            mean = SIMPLE_CELL["target_features"][f"{proto['name']}.Spikecount"]
            feature = ephys.efeatures.eFELFeature(
                f"{proto['name']}.Spikecount", efel_feature_name="Spikecount",
                recording_names={"": f"{proto['name']}.soma.v"}, stim_start=proto["start"],
                stim_end=proto["start"] + proto["duration"], exp_mean=mean, exp_std=0.05 * mean)
            objectives.append(ephys.objectives.SingletonObjective(feature.name, feature))
        evaluator = ephys.evaluators.CellEvaluator(
            cell_model=cell, param_names=list(SIMPLE_CELL["parameters"]),
            fitness_protocols=protocols,
            fitness_calculator=ephys.objectivescalculators.ObjectivesCalculator(objectives),
            sim=ephys.simulators.NrnSimulator())
        optimisation = bpop.optimisations.DEAPOptimisation(evaluator=evaluator,
                                                           offspring_size=offspring, seed=1)
        t1 = time.perf_counter()
        _, hof, log, _ = optimisation.run(max_ngen=generations)
        t2 = time.perf_counter()
    return {"evaluations": int(sum(log.select("nevals"))), "wall": t2 - t0, "loop": t2 - t1,
            "best": float(sum(hof[0].fitness.values)),
            "params": dict(zip(SIMPLE_CELL["parameters"], hof[0]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--populations", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--generations", type=int, default=10)
    ap.add_argument("--offspring", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--start-methods", nargs="+", default=["fork", "forkserver"],
                    help="of the process executor, one l2l run each")
    ap.add_argument("--no-bluepyopt", action="store_true")
    ap.add_argument("--out", default=str(OUT), help="where the markdown report goes")
    args = ap.parse_args()

    load0 = os.getloadavg()
    lines = ["# l2l-arbor benchmark", "",
             f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"Arbor {arbor.config()['version']} (GPU backend: {arbor.config().get('gpu')}), "
             f"eFEL {efel.__version__}. "
             f"**The machine was shared with other jobs** (load average {load0[0]:.1f} at the start): "
             f"absolute figures are noisy, the comparisons within a table were measured side by side "
             f"(interleaved repeats, medians of at least {args.repeats}, of 256 / cells for small "
             f"populations).", "",
             "## Batch path vs one simulation per cell", "",
             "HH ball-and-stick (soma + 200 um dendrite, 11 CVs), one 80 ms current step, 100 ms at "
             "dt = 0.025 ms, 5 eFEL features. *one per cell*: `evaluate` per parameter set (one "
             "Arbor simulation each); *batch*: `evaluate_batch` (one recipe holding all cells, one "
             "simulation) with 1 and 2 Arbor threads. Evaluations per second (features included):", "",
             "| cells | one per cell | batch, 1 thread | batch, 2 threads | batch 2 thr / one per cell "
             "| same fitness |",
             "|---:|---:|---:|---:|---:|:---:|"]
    for row in throughput(args.populations, args.repeats):
        lines.append(f"| {row['n']} | {row['single']:.0f} | {row['batch1']:.0f} | {row['batch2']:.0f} "
                     f"| {row['batch2'] / row['single']:.2f}x | {'yes' if row['same'] else 'NO'} |")
        print(lines[-1], flush=True)
    if not args.no_bluepyopt:
        import bluepyopt
        import neuron

        ours = {m: run_l2l(args.generations, args.offspring, args.workers, m) for m in args.start_methods}
        print("l2l", ours, flush=True)
        theirs = run_bluepyopt(args.generations, args.offspring)
        print("bluepyopt", theirs, flush=True)
        lines += ["", "## Against BluePyOpt on the same problem", "",
                  f"BluePyOpt {bluepyopt.__version__} with NEURON {neuron.__version__}: its *simplecell* "
                  "(one-compartment HH soma, 10 um), `gnabar_hh` and `gkbar_hh` free, two current steps "
                  "(0.01 and 0.05 nA, 50 ms, 200 ms simulated), eFEL `Spikecount` with targets 1 and 5 "
                  f"(std 5 %), a GA with {args.offspring} offspring for {args.generations} generations "
                  "(BluePyOpt: `DEAPOptimisation`, default isolation: every protocol run in its own "
                  f"process; l2l: `ga` with population {args.offspring}, `process` executor with "
                  f"{args.workers} workers, each chunk one Arbor simulation via the batch path — a "
                  "crashing simulation kills only its worker, whose tasks are re-run one by one; "
                  "workers started by `fork` (inheriting the imported Arbor and eFEL) or by "
                  "`forkserver`, the executor's default, which imports them anew, ~3 s here). "
                  "Score = sum of the two z-scores of the best individual (lower is better); "
                  "wall time includes building the model and starting worker processes.", "",
                  "| | evaluations | wall time (s) | evaluations / s | ms / evaluation | best score "
                  "| best parameters |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        runs = [(f"l2l-arbor (process executor, {m}, batch)", r) for m, r in ours.items()]
        for name, r in runs + [("BluePyOpt (NEURON)", theirs)]:
            rate = r["evaluations"] / r["wall"]
            shown = ", ".join(f"{k}={v:.4f}" for k, v in r["params"].items())
            lines.append(f"| {name} | {r['evaluations']} | {r['wall']:.2f} | {rate:.1f} | "
                         f"{1e3 / rate:.1f} | {r['best']:.3g} | {shown} |")
        base = theirs["evaluations"] / theirs["wall"]
        lines.append("")
        for m, r in ours.items():
            rate = r["evaluations"] / r["wall"]
            lines.append(f"- Evaluation throughput of l2l-arbor ({m}) / BluePyOpt, same run: "
                         f"**{rate / base:.0f}x** (best score {r['best']:.3g} vs {theirs['best']:.3g}); "
                         f"against BluePyOpt's ~230 ms per evaluation measured on this machine "
                         f"under lighter load: {rate * 0.230:.0f}x.")
    load1 = os.getloadavg()
    lines += ["", f"Load average at the end: {load1[0]:.1f}. Command: `python bench/arbor.py "
                  f"{' '.join(sys.argv[1:])}`".rstrip() + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
