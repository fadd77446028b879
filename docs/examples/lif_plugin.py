"""The hooks l2l calls."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from l2l import Registry, hookimpl


@hookimpl
def l2l_register_optimizees(registry: Registry) -> None:
    from .optimizee import LIFRate

    registry.add("lif", LIFRate)


@hookimpl
def l2l_generation_done(run, generation, individuals):
    from .optimizee import LIFRate

    if not isinstance(run.optimizee, LIFRate):  # every plugin's hooks fire for every run
        return
    ok = [i.evaluation.fitness[0] for i in individuals if i.evaluation.ok]
    # next to the store (a store in memory, ":memory:", has no folder: the current one)
    path = Path(run.store.path).parent / f"lif-progress-{run.run_id}.csv"
    with path.open("a", newline="") as f:
        csv.writer(f).writerow([generation, min(ok) if ok else "", len(individuals) - len(ok)])


@hookimpl
def l2l_report_figures(optimizee_name, optimizee, best, outdir):
    from .optimizee import LIFRate, lif_rates

    if not isinstance(optimizee, LIFRate):
        return None
    from matplotlib.figure import Figure

    currents = np.linspace(0.5, max(optimizee.currents) * 1.2, 200)
    p = best.params
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(currents, lif_rates([p["tau_m"]], [p["theta"]], [p["t_ref"]], currents)[0],
            label="best individual")
    ax.plot(optimizee.currents, optimizee.targets(), "o", label="targets")
    ax.set_xlabel("input current (nA)")
    ax.set_ylabel("rate (Hz)")
    ax.legend()
    path = outdir / "lif-fi-curve.png"  # outdir is shared by every plugin: prefix the name
    fig.savefig(path)
    return [path]
