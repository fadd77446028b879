"""Fit channel densities of Allen's published cell (``allen.toml``) and report the fit.

The target is the published fit's own trace; four densities start from the middle of their
bounds and a GA searches them. Writes a markdown table of feature errors before (the start)
and after (the best), and a PNG of target vs start vs best traces. The cell is the one packaged
with l2l-arbor (``l2l_arbor.allen.ALLEN_CELL``/``ALLEN_FIT``). Run::

    python plugins/l2l-arbor/examples/fit_allen.py [--generations 8] [--population 16]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from l2l import experiment_from_config, load_config
from l2l_arbor.allen import ALLEN_CELL, ALLEN_FIT

HERE = Path(__file__).resolve().parent


def plot(opt, params: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    time_, target = opt.target()
    sim_time, v = opt.traces(list(params.values()))
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(time_, target[0, 0], color="0.15", lw=1.6, label="target (published fit)")
    for (label, _), trace, style in zip(params.items(), v, [":", "--"]):
        ax.plot(sim_time, trace[0, 0], ls=style, lw=1.0, label=label)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("V soma (mV)")
    ax.set_title("Allen Rbp4 L5 cell in Arbor: 150 pA step, 4 densities fitted by a GA")
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cell(ev, name: str, i: int) -> tuple[str, str]:
    """Feature value and error (std) of objective ``i`` in a results table."""
    if not ev.ok:
        return "failed", "-"
    return f"{ev.info['features'][name]:.4g}", f"{ev.fitness[i]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default=str(HERE / "allen.toml"))
    ap.add_argument("--generations", type=int, default=None)
    ap.add_argument("--population", type=int, default=None)
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()

    config = load_config(args.config)
    # the cell packaged with l2l-arbor, wherever this script runs from
    config["optimizee"].update(morphology=ALLEN_CELL, allen_fit=ALLEN_FIT)
    if args.generations:
        config["experiment"]["generations"] = args.generations
    if args.population:
        config["optimizer"]["population"] = args.population
    exp = experiment_from_config(config)
    opt = exp.optimizee
    t0 = time.perf_counter()
    result = exp.run()
    seconds = time.perf_counter() - t0

    start = {p.name: (p.low + p.high) / 2 for p in opt.space()}
    best = dict(result.best.params)
    published = opt.base_params()
    before, after = opt.evaluate_batch([start, best], [0, 0])
    prep = opt._prepared()
    names = opt.objectives().names
    lines = ["# Fitting Allen's published cell with arbor-cell", "",
             f"GA, population {config['optimizer'].get('population')}, {result.generations} "
             f"generations, {result.evaluations} evaluations in {seconds:.0f} s (serial executor, "
             f"2 Arbor threads, machine shared with other jobs). Start = middle of the bounds.", "",
             "| parameter | published | start | best |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {published[k]:.4g} | {start[k]:.4g} | {best[k]:.4g} |" for k in start]
    lines += ["", "| feature | target | std | start | start error (std) | best | best error (std) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for i, name in enumerate(names):
        s_val, s_err = cell(before, name, i)
        b_val, b_err = cell(after, name, i)
        lines.append(f"| {name.rsplit('.', 1)[1]} | {prep.target_features[name]:.4g} | "
                     f"{prep.stds[name]:.3g} | {s_val} | {s_err} | {b_val} | {b_err} |")
    total = (sum(before.fitness) if before.ok else float("nan"), sum(after.fitness))
    lines += ["", f"Sum of feature errors: start {total[0]:.2f}, best {total[1]:.2f}.",
              f"Best loss per generation: {', '.join(f'{h:.2f}' for h in result.history)}.", "",
              "![target vs best](fit_allen.png)"]
    out = Path(args.out)
    plot(opt, {"start (mid-bounds)": start, "best (GA)": best}, out / "fit_allen.png")
    text = "\n".join(lines) + "\n"
    (out / "fit_allen.md").write_text(text)
    print(text)
    assert np.isfinite(total[1])


if __name__ == "__main__":
    main()
