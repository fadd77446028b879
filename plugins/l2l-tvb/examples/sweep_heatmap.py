"""Run ``sweep_coupling_noise.toml`` (grid search) and plot the SC-FC correlation heatmap.

Writes ``sweep_heatmap.png`` and ``sweep_heatmap.md`` next to this file. From the repository
root: ``python plugins/l2l-tvb/examples/sweep_heatmap.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from l2l import Store, experiment_from_config, load_config

HERE = Path(__file__).resolve().parent


def main() -> None:
    config = load_config(HERE / "sweep_coupling_noise.toml")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "sweep.sqlite"))
        t0 = time.perf_counter()
        result = experiment_from_config(config, store=store).run()
        wall = time.perf_counter() - t0
        rows = [(i.params["coupling"], i.params["nsig"], i.evaluation.fitness[0] if i.evaluation.ok else np.nan)
                for i in store.individuals(result.run_id)]
        store.close()
    gs = sorted({r[0] for r in rows})
    ns = sorted({r[1] for r in rows})
    grid = np.full((len(ns), len(gs)), np.nan)
    for g, n, f in rows:
        grid[ns.index(n), gs.index(g)] = f

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    half = (gs[-1] - gs[0]) / (len(gs) - 1) / 2
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis",
                   extent=(gs[0] - half, gs[-1] + half, 0, len(ns)))
    ax.set_yticks(np.arange(len(ns)) + 0.5, [f"{n:.3g}" for n in ns])
    ax.set_xlabel("global coupling a (Linear)")
    ax.set_ylabel("noise nsig")
    ax.set_title("Generic2dOscillator, 76 regions: SC–FC correlation")
    fig.colorbar(im, ax=ax, label="Pearson r (upper triangles)")
    fig.tight_layout()
    fig.savefig(HERE / "sweep_heatmap.png", dpi=110)
    best = result.best
    text = (f"# Coupling x noise sweep (grid search, {len(rows)} points in one batched simulation)\n\n"
            f"Wall time {wall:.1f} s for {len(rows)} simulations of "
            f"{config['optimizee']['simulation_length'] / 1000:.1f} s each. Best SC–FC correlation "
            f"{best.evaluation.fitness[0]:.3f} at coupling {best.params['coupling']:.4f}, nsig "
            f"{best.params['nsig']:.4f}. Heatmap: sweep_heatmap.png\n")
    (HERE / "sweep_heatmap.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
