"""The L2L framework (PyPI ``l2lforhpc``) running its GA on 10-D Rastrigin, timed per generation.

Run by ``bench/overhead.py`` with the Python of a virtual environment that holds ``l2lforhpc``
(its import name, ``l2l``, is the same as ours, so it cannot share our environment). Prints one
JSON object (to ``--out``): seconds of each generation, total seconds, the files and bytes it
wrote, the best value.

``--sleep-cap S`` shortens every ``time.sleep`` of L2L to at most ``S`` seconds, in the
coordinator (this process) and in its workers (started through this file with ``--shim``):
L2L's runner polls its workers every 5 s and each worker sleeps 5 s after reading its next
individual, which dominates its time per generation. The patch is applied at run time
(monkeypatching ``time.sleep``); no installed file is changed.

    python l2lforhpc_ga.py --population 32 --generations 3 --root DIR --out FILE [--sleep-cap 0.01]
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import time


def cap_sleep(cap: float) -> None:
    """Every ``time.sleep(s)`` of this process sleeps ``min(s, cap)``."""
    original = time.sleep

    def capped(seconds: float) -> None:
        original(min(float(seconds), cap))

    time.sleep = capped


def shim(argv: list[str]) -> None:
    """A worker: ``--shim CAP SCRIPT ARGS...`` runs L2L's generated worker script with the
    sleep cap (CAP ``none``: unpatched)."""
    cap, script, *rest = argv
    if cap != "none":
        cap_sleep(float(cap))
    sys.argv = [script, *rest]
    runpy.run_path(script, run_name="__main__")


def children() -> list[int]:
    """Process ids of this process's children (from /proc)."""
    me, out = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                out.append(int(entry))
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--shim":
        shim(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", type=int, required=True)
    ap.add_argument("--generations", type=int, required=True)
    ap.add_argument("--workers", type=int, default=32, help="L2L's max_workers (its default: 32)")
    ap.add_argument("--root", required=True, help="an empty folder for L2L's output")
    ap.add_argument("--out", required=True, help="where the JSON result goes")
    ap.add_argument("--sleep-cap", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import logging

    from l2l.optimizees.functions.benchmarked_functions import BenchmarkedFunctions
    from l2l.optimizees.functions.optimizee import FunctionGeneratorOptimizee
    from l2l.optimizers.evolution import GeneticAlgorithmOptimizer, GeneticAlgorithmParameters
    from l2l.utils.experiment import Experiment

    if args.sleep_cap is not None:
        cap_sleep(args.sleep_cap)
    cap = "none" if args.sleep_cap is None else repr(args.sleep_cap)
    worker = f'"{sys.executable}" "{os.path.abspath(__file__)}" --shim {cap}'

    t_start, cpu_start = time.perf_counter(), time.process_time()
    experiment = Experiment(root_dir_path=args.root)
    traj, _ = experiment.prepare_experiment(
        name="L2L", log_stdout=False, overwrite=True,
        runner_params={"exec": worker, "max_workers": args.workers})
    logging.disable(logging.INFO)  # console logging would only slow it down
    (_, function), _ = BenchmarkedFunctions().get_function_by_name("Rastrigin10d", noise=False)
    optimizee = FunctionGeneratorOptimizee(traj, function, seed=args.seed)
    # the parameters of L2L's own GA example (bin/l2l-fun-ga.py), our population and generations
    parameters = GeneticAlgorithmParameters(seed=args.seed, pop_size=args.population, cx_prob=0.7,
                                            mut_prob=0.5, n_iteration=args.generations,
                                            ind_prob=0.02, tourn_size=15, mate_par=0.5, mut_par=1)
    optimizer = GeneticAlgorithmOptimizer(traj, optimizee_create_individual=optimizee.create_individual,
                                          optimizee_fitness_weights=(-1.0,), parameters=parameters,
                                          optimizee_bounding_func=optimizee.bounding_func)
    stamps: list[float] = []
    post_process = optimizer.post_process

    def timed_post_process(trajectory, results):  # called once per generation, after it ran
        stamps.append(time.perf_counter())
        return post_process(trajectory, results)

    optimizer.post_process = timed_post_process
    t_run = time.perf_counter()
    try:
        experiment.run_experiment(optimizer=optimizer, optimizee=optimizee)
        experiment.end_experiment(optimizer)
    finally:
        for pid in children():  # L2L leaves its idle workers running
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
    t_end, cpu_end = time.perf_counter(), time.process_time()
    files, size = 0, 0
    for folder, _, names in os.walk(args.root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(folder, name))
    edges = [t_run, *stamps]
    best = optimizer.best_individual
    fitness = float(function.cost_function(best["coords"], random_state=None)) if best else None
    with open(args.out, "w") as fh:
        json.dump({"generation_s": [b - a for a, b in zip(edges, edges[1:])],
                   "setup_s": t_run - t_start, "total_s": t_end - t_start,
                   "coordinator_cpu_s": cpu_end - cpu_start,
                   "files": files, "bytes": size, "best": fitness,
                   "workers": min(args.workers, args.population)}, fh)


if __name__ == "__main__":
    main()
