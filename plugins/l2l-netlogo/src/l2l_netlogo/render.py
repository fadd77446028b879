"""A picture of one colony's world: pheromone field, nest, food, the ants' paths (matplotlib,
Agg canvas, no pyplot state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from l2l import ConfigError
from l2l.space import Params


def render_colony(optimizee: Any, params: Params, seed: int, path: str | Path) -> Path:
    """Simulate ``params`` with the Python engine (recording paths) and write a PNG.

    Paths are drawn per ant, darker while it carries food; pheromone on a log scale; the nest
    is a ring, food patches green (hollow when emptied by the end)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import LogNorm
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError("rendering needs matplotlib (pip install matplotlib)") from None
    from .engine import PythonEngine

    rules = optimizee.rules()
    engine = PythonEngine(rules)
    out = engine.run([np.asarray(params["weights"])], [np.asarray(params["delays"])], [int(seed)],
                     record=True)
    world, m = engine.world, rules.max_coord
    extent = (-m - 0.5, m + 0.5, -m - 0.5, m + 0.5)

    fig = Figure(figsize=(7.2, 6.4), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    pher = out.pheromone[0]
    positive = pher[pher > 0]
    if positive.size and positive.max() > 1e-6:
        vmax = float(positive.max())
        img = ax.imshow(np.clip(pher.T, vmax * 1e-4, None), origin="lower", extent=extent,
                        cmap="Purples", norm=LogNorm(vmin=vmax * 1e-4, vmax=vmax))
        fig.colorbar(img, ax=ax, shrink=0.8, label="pheromone (end of run)")
    c = np.arange(-m, m + 1)
    fx, fy = np.meshgrid(c, c, indexing="ij")
    start = world.food > 0
    ax.scatter(fx[start], fy[start], s=30, marker="s", facecolors="none", edgecolors="tab:green",
               linewidths=1.0, label="food source (start)")
    left = out.food[0] > 0
    ax.scatter(fx[left], fy[left], s=30, marker="s", color="tab:green", label="food left")
    ax.add_patch(_circle(rules.nest_radius))
    assert out.paths is not None and out.carrying is not None  # recorded above
    paths, carrying = out.paths[0], out.carrying[0]
    palette = [f"C{k % 10}" for k in range(rules.n_ants)]
    for a in range(rules.n_ants):
        xy = paths[:, a]
        ax.plot(xy[:, 0], xy[:, 1], lw=0.5, alpha=0.45, color=palette[a])
        loaded = np.where(carrying[:, a], xy[:, 1], np.nan)
        ax.plot(xy[:, 0], loaded, lw=1.4, alpha=0.9, color=palette[a])
        ax.plot(xy[-1, 0], xy[-1, 1], "o", ms=3, color=palette[a])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("x (patches)")
    ax.set_ylabel("y (patches)")
    ax.set_title(f"{rules.n_ants} ants, {rules.ticks} ticks: {int(out.delivered[0])} food returned "
                 f"(first at tick {int(out.first_delivery[0])}), seed {seed}\n"
                 "thin: searching, thick: carrying food; ring: nest", fontsize=9)
    ax.legend(loc="lower right", fontsize=7, framealpha=0.8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _circle(radius: float) -> Any:
    from matplotlib.patches import Circle

    return Circle((0, 0), radius, fill=False, lw=2.0, color="saddlebrown", label="nest")

