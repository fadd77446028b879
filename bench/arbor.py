"""Benchmark of l2l-arbor: the batch path (many cells in one Arbor recipe) against one simulation
per cell; where one evaluation spends its time; and l2l-arbor against BluePyOpt (NEURON) on the
same fitting problem, run live in this process tree at equal isolation both ways:

* persistent workers for both (2 each): l2l's ``process`` executor; BluePyOpt's GA mapping over
  a ``multiprocessing`` pool with its per-protocol isolation off (the combination of its
  isolation with a pool fails: "daemonic processes are not allowed to have children");
* a fresh process per evaluation for both (2 at a time): the same pool with
  ``maxtasksperchild=1`` and one evaluation per task, for BluePyOpt and for l2l;
* BluePyOpt stock (serial, a fresh process per protocol run, its default), without ``--quick``.

Peers come from ``bench/requirements-arbor.txt``; BluePyOpt missing: its rows are skipped with
the reason. Prints a markdown report and writes ``bench/results/arbor.md`` and the README rows
(``bench/results/arbor.summary.json``).

    python bench/arbor.py [--quick] [--repeats 3] [--generations 10] [--population 32]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import multiprocessing as mp
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bench helpers (also when a forkserver child imports this file)
import summary  # noqa: E402,I001
from machine import Machine  # noqa: E402
from timing import Clock, GenerationTimes, spread  # noqa: E402

# this file is named like the simulator's package: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import arbor  # noqa: E402
import numpy as np  # noqa: E402
from l2l import Experiment, build  # noqa: E402
from l2l.executor import Executor, run_one, worker_name  # noqa: E402
from l2l.executors.process import ProcessExecutor  # noqa: E402

OUT = Path(__file__).parent / "results" / "arbor.md"
QUICK = {"repeats": 1, "generations": 4, "population": 32, "populations": [8, 32, 128]}

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


# -- batch path vs one simulation per cell -------------------------------------------------------
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
        for _ in range(max(repeats, 64 // n)):  # interleaved: load changes hit all three alike
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
        print(f"  {n} cells: one per cell {rows[-1]['single']:.0f}/s, batch {rows[-1]['batch1']:.0f}/s "
              f"(1 thread), {rows[-1]['batch2']:.0f}/s (2 threads)", flush=True)
    return rows


# -- where one evaluation spends its time --------------------------------------------------------
def profile_l2l(chunk: int, repeats: int = 10) -> dict[str, float]:
    """CPU ms per evaluation of the simplecell problem on the batch path (``chunk`` parameter
    sets per call, as a worker of the process executor gets them), split by stage."""
    import l2l_arbor.features as features
    import l2l_arbor.optimizee as optimizee_module
    import l2l_arbor.simulate as simulate_module
    from arbor import units as U

    opt = build("optimizee", "arbor-cell", **SIMPLE_CELL)
    opt.setup()
    prep = opt._prepared()
    params = opt.space().sample(np.random.default_rng(0), chunk)
    seeds = list(range(chunk))
    spent: dict[str, float] = {}

    def timed(owner, name, key):
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            t = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[key] = spent.get(key, 0.0) + time.process_time() - t
        setattr(owner, name, wrapper)
        return original

    originals = [(optimizee_module.ArborCell, "_cells", timed(optimizee_module.ArborCell, "_cells", "cells")),
                 (simulate_module, "simulate", timed(simulate_module, "simulate", "arbor")),
                 (features, "compute", timed(features, "compute", "efel"))]
    try:
        opt.evaluate_batch(params, seeds)
        spent.clear()
        t = time.process_time()
        for _ in range(repeats):
            opt.evaluate_batch(params, seeds)
        total = time.process_time() - t
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    per = {k: v / repeats / chunk * 1e3 for k, v in spent.items()}
    per["total"] = total / repeats / chunk * 1e3

    # the Arbor part, taken apart on the same cells: set-up, integration, sampling, read-out
    cells = [c for p in params for c in opt._cells(prep, p)]
    recipe_class = simulate_module._recipe_class()
    context = prep.contexts.for_cells(len(cells))
    parts: dict[str, list[float]] = {"setup": [], "integrate": [], "sampled": []}
    for _ in range(repeats):
        for sampled in (False, True):
            t = time.process_time()
            recipe = recipe_class(cells, list(prep.sites.values()), prep.model.props)
            hint = arbor.partition_hint(cpu_group_size=len(cells))
            decomposition = arbor.partition_load_balance(recipe, context, {arbor.cell_kind.cable: hint})
            sim = arbor.simulation(recipe, context, decomposition)
            t1 = time.process_time()
            if sampled:
                schedule = arbor.regular_schedule(0 * U.ms, opt._sample_dt() * U.ms, opt.tfinal * U.ms)
                for gid in range(len(cells)):
                    sim.sample((gid, "v0"), schedule)
            t2 = time.process_time()
            sim.run(opt.tfinal * U.ms, opt.dt * U.ms)
            t3 = time.process_time()
            parts["setup"].append(t1 - t)
            parts["sampled" if sampled else "integrate"].append(t3 - t2)
    med = {k: statistics.median(v) / chunk * 1e3 for k, v in parts.items()}
    per["arbor_setup"] = med["setup"]
    per["arbor_integrate"] = med["integrate"]
    per["arbor_sampling"] = max(0.0, med["sampled"] - med["integrate"])
    return per


def profile_bluepyopt(repeats: int = 10) -> dict[str, float]:
    """CPU ms per evaluation of BluePyOpt's evaluator in this process (no isolation), split by
    the stages its own functions name."""
    evaluator = bluepyopt_evaluator(isolate=False)
    rng = np.random.default_rng(0)
    points = [[rng.uniform(s["low"], s["high"]) for s in SIMPLE_CELL["parameters"].values()]
              for _ in range(repeats + 1)]
    evaluator.evaluate_with_lists(points[0])
    profiler = cProfile.Profile()
    t = time.process_time()
    profiler.enable()
    for p in points[1:]:
        evaluator.evaluate_with_lists(p)
    profiler.disable()
    total = time.process_time() - t
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def cumulative(module_part: str, name: str) -> float:
        return sum(v[3] for (path, _, fn), v in stats.items() if module_part in path and fn == name)

    profiled = sum(v[2] for v in stats.values())
    scale = total / profiled if profiled else 1.0  # remove the profiler's own overhead
    per = {"total": total / repeats * 1e3}
    for key, (part, name) in {"instantiate": ("ephys/models", "instantiate"),
                              "neuron_run": ("ephys/simulators", "run"),
                              "responses": ("ephys/recordings", "response"),
                              "efel": ("ephys/efeatures", "calculate_score"),
                              "efel_init": ("efel/api", "_initialise"),
                              "destroy": ("ephys/models", "destroy")}.items():
        per[key] = cumulative(part, name) * scale / repeats * 1e3
    return per


def _empty_task(_: int) -> float:
    return time.process_time()


def process_start_cost(n: int = 16) -> dict[str, float]:
    """Wall and CPU ms of an empty task in a fresh process forked from this one (a pool with
    ``maxtasksperchild=1``): the floor of a fresh process per evaluation, paid by both sides."""
    with Clock() as clock:
        with mp.get_context("fork").Pool(1, maxtasksperchild=1) as pool:
            pool.map(_empty_task, range(n), chunksize=1)
            pool.close()
            pool.join()
    return {"wall": clock.wall / n * 1e3, "cpu": (clock.cpu + clock.children) / n * 1e3}


# -- l2l and BluePyOpt on the same fit -----------------------------------------------------------
_FRESH = None  # the optimizee, inherited by each forked evaluation process


def _fresh_evaluate(task):
    _FRESH.setup()  # type: ignore[union-attr]
    return run_one(_FRESH, task, len(_FRESH.objectives()), worker_name())  # type: ignore[union-attr]


class FreshProcessExecutor(Executor):
    """Each evaluation in a fresh process forked from the coordinator, ``workers`` at a time (a
    ``multiprocessing`` pool with ``maxtasksperchild=1``, one evaluation per task): the
    isolation BluePyOpt's per-protocol processes give, at the cost of a process per evaluation.
    The coordinator sets the optimizee up first, so each child inherits the built cell model (as
    BluePyOpt's children inherit its evaluator and a loaded NEURON)."""

    def __init__(self, workers: int = 2):
        self.workers = workers

    def start(self, optimizee) -> None:
        global _FRESH
        _FRESH = optimizee
        optimizee.setup()
        self._pool = mp.get_context("fork").Pool(self.workers, maxtasksperchild=1)

    def map(self, tasks):
        yield from zip(tasks, self._pool.map(_fresh_evaluate, tasks, chunksize=1))

    def close(self) -> None:
        self._pool.close()
        self._pool.join()


def run_l2l(generations: int, population: int, executor: Executor) -> dict:
    """The simplecell problem with l2l's ga; like BluePyOpt's, the modules are imported before
    the clock starts; the model is built and the workers started inside it."""
    times = GenerationTimes()
    with Clock() as clock:
        opt = build("optimizee", "arbor-cell", **SIMPLE_CELL)
        exp = Experiment(opt, build("optimizer", "ga", population=population), executor, seed=1,
                         generations=generations, progress=times)
        result = exp.run()
    return {"evaluations": result.evaluations, "wall": clock.wall, "cpu": clock.cpu,
            "children": clock.children, "steady": population / times.steady(),
            "best": sum(result.best_fitness), "params": result.best_params}


def bluepyopt_evaluator(isolate: bool):
    """BluePyOpt's simplecell evaluator with both steps and NEURON's CVODE (its default)."""
    import bluepyopt.ephys as ephys

    swc = Path(tempfile.mkdtemp(prefix="l2l-bench-")) / "simple.swc"
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
    return ephys.evaluators.CellEvaluator(
        cell_model=cell, param_names=list(SIMPLE_CELL["parameters"]), fitness_protocols=protocols,
        fitness_calculator=ephys.objectivescalculators.ObjectivesCalculator(objectives),
        sim=ephys.simulators.NrnSimulator(), isolate_protocols=isolate)


def run_bluepyopt(generations: int, offspring: int, mode: str, workers: int) -> dict:
    """BluePyOpt's GA (``DEAPOptimisation``) on the simplecell evaluator. ``mode``: ``pool``
    (persistent workers, isolation off), ``fresh`` (a fresh process per evaluation, isolation
    off) or ``stock`` (serial, a fresh process per protocol run: its default)."""
    import bluepyopt as bpop

    pool = None
    seconds: list[tuple[int, float]] = []  # (evaluations, seconds) of each generation's map

    def timed(map_function):
        def mapped(function, items):
            items = list(items)
            t = time.perf_counter()
            out = list(map_function(function, items))
            seconds.append((len(items), time.perf_counter() - t))
            return out
        return mapped

    with Clock() as clock:
        evaluator = bluepyopt_evaluator(isolate=mode == "stock")
        map_function = map
        if mode == "pool":
            pool = mp.get_context("fork").Pool(workers)
            map_function = pool.map
        elif mode == "fresh":
            evaluator.sim.neuron.h.load_file("stdrun.hoc")  # children inherit a loaded NEURON
            pool = mp.get_context("fork").Pool(workers, maxtasksperchild=1)
            map_function = functools.partial(pool.map, chunksize=1)
        optimisation = bpop.optimisations.DEAPOptimisation(
            evaluator=evaluator, offspring_size=offspring, seed=1, map_function=timed(map_function))
        _, hof, log, _ = optimisation.run(max_ngen=generations)
        if pool is not None:
            pool.close()
            pool.join()
    steady = sorted(n / t for n, t in seconds[1:])[len(seconds[1:]) // 2] if len(seconds) > 1 else None
    return {"evaluations": int(sum(log.select("nevals"))), "wall": clock.wall, "cpu": clock.cpu,
            "children": clock.children, "steady": steady,
            "best": float(sum(hof[0].fitness.values)),
            "params": dict(zip(SIMPLE_CELL["parameters"], hof[0]))}


def comparison(args) -> tuple[list[str], dict]:
    """The side-by-side runs, ``args.repeats`` times each, interleaved."""
    runs: dict[str, list[dict]] = {}
    plan = [("l2l, process executor (fork)", lambda: run_l2l(
                args.generations, args.population,
                ProcessExecutor(workers=args.workers, start_method="fork"))),
            ("l2l, process executor (forkserver, default)", lambda: run_l2l(
                args.generations, args.population, ProcessExecutor(workers=args.workers))),
            ("BluePyOpt, pool of persistent workers", lambda: run_bluepyopt(
                args.generations, args.population, "pool", args.workers)),
            ("l2l, fresh process per evaluation", lambda: run_l2l(
                args.generations, args.population, FreshProcessExecutor(workers=args.workers))),
            ("BluePyOpt, fresh process per evaluation", lambda: run_bluepyopt(
                args.generations, args.population, "fresh", args.workers))]
    for r in range(args.repeats):
        for name, fn in plan:
            runs.setdefault(name, []).append(fn())
            last = runs[name][-1]
            print(f"  [{r + 1}/{args.repeats}] {name}: {last['evaluations']} evaluations in "
                  f"{last['wall']:.2f} s, best {last['best']:.3g}", flush=True)
    if not args.quick:
        print("  BluePyOpt stock (serial, a process per protocol run) ...", flush=True)
        runs["BluePyOpt stock: serial, a fresh process per protocol run"] = [
            run_bluepyopt(args.generations, args.population, "stock", args.workers)]
    return runs


def fresh_note(fresh: list[float], alone: dict, theirs: dict | None, start: dict) -> str:
    """Why a fresh process per evaluation falls short of 20×, from the profile: the process
    start both sides pay bounds the ratio whatever our evaluation costs."""
    if theirs is None or statistics.median(fresh) >= 20:
        return ""
    ceiling = (theirs["total"] + start["cpu"]) / start["cpu"]
    expected = (theirs["total"] + start["cpu"]) / (alone["total"] + start["cpu"])
    return (f"; short of 20× because each evaluation pays a process start ({start['cpu']:.0f} ms "
            f"CPU for an empty task here) beside BluePyOpt's {theirs['total']:.0f} ms and our "
            f"{alone['total']:.1f} ms per evaluation (profile): "
            f"({theirs['total']:.0f} + {start['cpu']:.0f}) / ({alone['total']:.1f} + "
            f"{start['cpu']:.0f}) = {expected:.1f}×, and {ceiling:.0f}× even for a free evaluation")


def rate(run: dict) -> float:
    return run["evaluations"] / run["wall"]


def ratios(runs: dict, ours: str, theirs: str, key: str = "whole") -> list[float]:
    """Per repeat: our evaluations/s over theirs (whole run, or ``steady`` generations), runs
    made side by side."""
    if key == "steady":
        return [a["steady"] / b["steady"] for a, b in zip(runs[ours], runs[theirs])]
    return [rate(a) / rate(b) for a, b in zip(runs[ours], runs[theirs])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, 4 generations, no stock BluePyOpt")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--populations", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--generations", type=int, default=10)
    ap.add_argument("--population", type=int, default=32, help="GA population = BluePyOpt offspring")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(OUT), help="where the markdown report goes")
    args = ap.parse_args()
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
    try:
        import bluepyopt
        import neuron
        peer = None
    except ImportError as exc:
        peer = f"BluePyOpt/NEURON not installed ({exc}); pip install -r bench/requirements-arbor.txt"
        print(f"skipped: the BluePyOpt comparison: {peer}", flush=True)

    machine = Machine.measure(["l2l-core", "l2l-arbor", "arbor", "efel", "bluepyopt", "NEURON", "deap"])
    print(machine.markdown()[0], flush=True)
    print("batch path vs one simulation per cell:", flush=True)
    batch_rows = throughput(args.populations, args.repeats)
    chunk = -(-args.population // args.workers)
    print("profile:", flush=True)
    ours = profile_l2l(chunk)
    alone = profile_l2l(1)
    theirs = profile_bluepyopt() if peer is None else None
    start = process_start_cost()
    runs = {}
    if peer is None:
        print("l2l vs BluePyOpt:", flush=True)
        runs = comparison(args)
    machine.finish()

    lines = ["# l2l-arbor benchmark", "", *machine.markdown(), "",
             "Comparisons within a table were measured side by side in one run (interleaved "
             "repeats); under load, absolute figures are pessimistic and ratios noisy.", "",
             "## Batch path vs one simulation per cell", "",
             "HH ball-and-stick (soma + 200 um dendrite, 11 CVs), one 80 ms current step, 100 ms at "
             "dt = 0.025 ms, 5 eFEL features. *one per cell*: `evaluate` per parameter set (one "
             "Arbor simulation each); *batch*: `evaluate_batch` (one recipe holding all cells, one "
             "simulation) with 1 and 2 Arbor threads. Evaluations per second (features included), "
             "median of the repeats:", "",
             "| cells | one per cell | batch, 1 thread | batch, 2 threads | batch 2 thr / one per cell "
             "| same fitness |",
             "|---:|---:|---:|---:|---:|:---:|"]
    for row in batch_rows:
        lines.append(f"| {row['n']} | {row['single']:.0f} | {row['batch1']:.0f} | {row['batch2']:.0f} "
                     f"| {row['batch2'] / row['single']:.2f}x | {'yes' if row['same'] else 'NO'} |")
    lines += ["", "## Where one evaluation spends its time", "",
              "CPU ms per evaluation of the fitting problem below, in one process: l2l-arbor on its "
              f"batch path with {chunk} parameter sets per call (what each of {args.workers} workers "
              f"gets per generation at population {args.population}) and one evaluation alone (what "
              "a fresh process per evaluation runs); BluePyOpt's evaluator without isolation (its "
              "stages from cProfile, scaled to the unprofiled total).", "",
              f"| stage | l2l-arbor, batch of {chunk} | l2l-arbor, one alone | BluePyOpt |",
              "|---|---:|---:|---:|"]
    b = theirs or {}

    def fmt(value):
        return "" if value is None else f"{value:.2f}"

    def row(stage, key=None, theirs_key=None):
        def rest(d):
            return d["arbor"] - d["arbor_setup"] - d["arbor_integrate"] - d["arbor_sampling"]
        ours_values = [None, None] if key is None else \
            [rest(d) if key == "rest" else d[key] for d in (ours, alone)]
        return (f"| {stage} | {fmt(ours_values[0])} | {fmt(ours_values[1])} "
                f"| {fmt(b.get(theirs_key) if theirs_key else None)} |")

    lines += [row("whole evaluation", "total", "total"),
              row("cell construction (Arbor: decor + cable cells; BluePyOpt: instantiate in NEURON)",
                  "cells", "instantiate"),
              row("simulation (Arbor; NEURON with CVODE, its default)", "arbor", "neuron_run"),
              row("— Arbor set-up (recipe, decomposition, `simulation`)", "arbor_setup"),
              row("— integration (2 × 8,000 steps at dt 0.025 ms)", "arbor_integrate"),
              row("— voltage sampling every 0.1 ms (Arbor's sample events)", "arbor_sampling"),
              row("— read-out, rest", "rest"),
              row("recordings into responses (BluePyOpt: pandas)", None, "responses"),
              row("eFEL features", "efel", "efel"),
              row("— of which eFEL re-initialisation (`efel.reset`, per feature in BluePyOpt)",
                  None, "efel_init"),
              row("cell teardown", None, "destroy"),
              "",
              f"A fresh process per evaluation adds, on both sides, at least the cost of an empty task "
              f"in a fresh process forked from this one: {start['wall']:.1f} ms wall, "
              f"{start['cpu']:.1f} ms CPU (fork, pool round trip, exit; measured now)."]
    summary_rows = [{"what": f"Arbor: batch-in-one-recipe vs one simulation per cell, "
                             f"{batch_rows[-1]['n']} cells",
                     "l2l": f"{batch_rows[-1]['batch2'] / batch_rows[-1]['single']:.1f}× "
                            f"({batch_rows[-1]['batch2']:.0f} vs {batch_rows[-1]['single']:.0f} "
                            "evaluations/s)",
                     "reference": "goal ≥ 1.8×"}]
    if peer is not None:
        lines += ["", "## Against BluePyOpt on the same problem", "", f"Skipped: {peer}."]
        summary_rows.append({"what": "Arbor vs BluePyOpt + NEURON", "l2l": "skipped",
                             "reference": peer})
    else:
        lines += ["", "## Against BluePyOpt on the same problem", "",
                  f"BluePyOpt {bluepyopt.__version__} with NEURON {neuron.__version__} (CVODE, its "
                  "default): its *simplecell* (one-compartment HH soma, 10 um), `gnabar_hh` and "
                  "`gkbar_hh` free, two current steps (0.01 and 0.05 nA, 50 ms, 200 ms simulated), "
                  "eFEL `Spikecount` with targets 1 and 5 (std 5 %). l2l-arbor: the same cell and "
                  "steps at dt 0.025 ms. A GA with population (offspring) "
                  f"{args.population} for {args.generations} generations on each side "
                  f"(BluePyOpt: `DEAPOptimisation`; l2l: `ga`), {args.workers} workers. Wall time "
                  "includes building the model and starting the worker processes; *steady* = "
                  "generations after the first. Score = sum of the two z-scores of the best "
                  f"individual (lower is better). {args.repeats} interleaved repeat(s), median shown.",
                  "",
                  "| isolation | configuration | evaluations | wall s | evaluations/s | steady evaluations/s "
                  "| CPU s (coordinator + ended children) | best score | best parameters |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for name, rs in runs.items():
            med = sorted(rs, key=rate)[len(rs) // 2]
            iso = ("fresh process per protocol run" if "stock" in name
                   else "persistent workers" if "fork" in name or "pool" in name
                   else "fresh process per evaluation")
            shown = ", ".join(f"{k}={v:.4f}" for k, v in med["params"].items())
            cpu = med["cpu"] + med["children"]
            cpu_text = f"{cpu:.1f}" if med["children"] > 0 or "BluePyOpt stock" in name else \
                f"{med['cpu']:.1f} + workers not measured"
            steady = "—" if med["steady"] is None else f"{med['steady']:.1f}"
            lines.append(f"| {iso} | {name} | {med['evaluations']} | {med['wall']:.2f} | {rate(med):.1f} "
                         f"| {steady} | {cpu_text} | {med['best']:.3g} | {shown} |")
        fork = ratios(runs, "l2l, process executor (fork)", "BluePyOpt, pool of persistent workers")
        fserver = ratios(runs, "l2l, process executor (forkserver, default)",
                         "BluePyOpt, pool of persistent workers")
        fresh = ratios(runs, "l2l, fresh process per evaluation", "BluePyOpt, fresh process per evaluation")
        steady_fork = ratios(runs, "l2l, process executor (fork)", "BluePyOpt, pool of persistent workers",
                             "steady")
        steady_fserver = ratios(runs, "l2l, process executor (forkserver, default)",
                                "BluePyOpt, pool of persistent workers", "steady")
        lines += ["", "Evaluations/s of l2l-arbor over BluePyOpt's, runs side by side (median, range "
                  "over repeats):", "",
                  f"- persistent workers: **{spread(fork)}×** (l2l fork start), {spread(fserver)}× "
                  "(l2l forkserver start, its default: a fresh interpreter imports numpy, l2l, Arbor "
                  f"and eFEL before the workers fork); steady generations only: {spread(steady_fork)}× "
                  f"(fork), {spread(steady_fserver)}× (forkserver)",
                  f"- a fresh process per evaluation: **{spread(fresh)}×**"]
        stock = runs.get("BluePyOpt stock: serial, a fresh process per protocol run")
        if stock:
            best = max(rate(r) for r in runs["l2l, process executor (forkserver, default)"])
            lines.append(f"- l2l default (forkserver) over BluePyOpt stock: {best / rate(stock[0]):.0f}×")
        summary_rows += [
            {"what": f"Arbor vs BluePyOpt + NEURON, same HH fit, persistent workers ({args.workers} each)",
             "l2l": f"{spread(fork)}× BluePyOpt's evaluations/s (fork start), {spread(fserver)}× "
                    f"(forkserver, default); steady generations {spread(steady_fork)}× / "
                    f"{spread(steady_fserver)}×",
             "reference": "goal ≥ 20×"},
            {"what": f"same, a fresh process per evaluation ({args.workers} at a time) for both",
             "l2l": f"{spread(fresh)}×" + fresh_note(fresh, alone, theirs, start),
             "reference": "goal ≥ 20×"}]
    command = "python bench/arbor.py" + (" --quick" if args.quick else "")
    lines += ["", f"Command: `{command}`."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if out.resolve() == OUT.resolve():
        summary.write("arbor", command, machine.markdown()[0], summary_rows)


if __name__ == "__main__":
    main()
