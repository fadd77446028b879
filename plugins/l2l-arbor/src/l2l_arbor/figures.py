"""Target vs fitted voltage traces, one panel per protocol and recording site."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping


def plot_fit(optimizee: Any, params: Mapping[str, Any], path: Path,
             title: str | None = None) -> Path:
    """Simulate ``params`` with ``optimizee`` (an :class:`~l2l_arbor.ArborCell`) and plot
    its traces over the target's; writes a PNG and returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prep = optimizee._prepared()
    time, target = optimizee.target()
    sim_time, v = optimizee.traces([params])
    steps, sites = [name for name, _ in prep.steps], list(prep.sites)
    fig, axes = plt.subplots(len(steps) * len(sites), 1, squeeze=False, sharex=True,
                             figsize=(8, 2.4 * len(steps) * len(sites)))
    for i, proto in enumerate(steps):
        for j, site in enumerate(sites):
            ax = axes[i * len(sites) + j, 0]
            if target is not None:
                ax.plot(time, target[i, j], color="0.2", lw=1.2, label="target")
            ax.plot(sim_time, v[0, i, j], color="tab:red", lw=0.9, ls="--", label="best")
            ax.set_ylabel(f"{proto} @ {site}\nV (mV)")
    axes[0, 0].legend(loc="upper right", frameon=False)
    axes[-1, 0].set_xlabel("t (ms)")
    fig.suptitle(title or "arbor-cell: target vs best " +
                 ", ".join(f"{k}={float(x):.4g}" for k, x in params.items()), fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
