"""Reports of stored runs: PNG figures and one self-contained HTML page (``l2l report``).

:func:`write_report` draws a run's fitness over generations, the evolution of each parameter,
the Pareto front (several objectives), heatmaps of 2-D grids, and asks optimizee plugins for
their own figures through the ``l2l_report_figures`` hook. :func:`compare` overlays the
best-so-far curves of several runs. matplotlib is optional (``pip install 'l2l-core[report]'``)
and imported only here, with the non-interactive Agg canvas (no pyplot, no global state).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import ConfigError
from .evaluation import MIN, Individual
from .plugins import Plugins, get_plugins
from .space import Categorical, Parameter, Space
from .store import RunRecord, Store

#: array parameters with at most this many entries get one panel per entry, larger ones heatmaps
MAX_ENTRY_PANELS = 6
#: at most this many parameter figures per report (the rest are listed as omitted)
MAX_PARAM_FIGURES = 40
#: a scalar parameter with more distinct values than this is not treated as a grid axis
MAX_GRID_VALUES = 200


def _figure(width: float, height: float) -> Any:
    """A matplotlib Figure on the Agg canvas; ConfigError when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError("l2l report needs matplotlib: pip install 'l2l-core[report]'") from None
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, format="png")
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


@dataclass
class Figure:
    """A PNG of the report with its caption."""

    path: Path
    caption: str


@dataclass
class RunData:
    """Everything the report needs about one run, read from the store once."""

    record: RunRecord
    space: Space
    individuals: list[Individual]
    stats: list[dict[str, Any]]
    best: Individual | None

    @property
    def objective_names(self) -> tuple[str, ...]:
        return self.record.objectives.names

    def loss_scale(self) -> tuple[float, str]:
        """Factor turning stored losses into displayed values, and the axis label.

        A single unweighted objective is shown in its own units (maximised ones flipped back);
        otherwise the scalarised loss (lower is better) is shown.
        """
        obj = self.record.objectives
        if len(obj) == 1 and obj.weights is None:
            return float(obj.signs[0]), f"{obj.names[0]} ({obj.directions[0]})"
        return 1.0, "loss (weighted sum, lower is better)"


def load_run(store: Store, run: str | int) -> RunData:
    """Read a run's record, space, evaluations, per-generation statistics and best."""
    record = store.run(run)
    return RunData(record, Space.from_json(record.space), list(store.individuals(record.id)),
                   store.generation_stats(record.id), store.best(record.id))


# -- fitness ---------------------------------------------------------------------------------
def plot_fitness(data: RunData, outdir: Path) -> Figure:
    """Best, median and quartiles per generation, the best so far, and failures."""
    scale, label = data.loss_scale()
    gens = np.array([s["generation"] for s in data.stats])
    get = lambda key: scale * np.array([s[key] for s in data.stats], dtype=float)  # noqa: E731
    best, q25, median, q75 = get("best"), get("q25"), get("median"), get("q75")
    so_far = scale * np.fmin.accumulate(np.array([s["best"] for s in data.stats], dtype=float))
    failed = np.array([s["failed"] for s in data.stats])
    total = np.array([s["evaluations"] for s in data.stats])
    fig = _figure(8, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    top.fill_between(gens, q25, q75, color="tab:blue", alpha=0.2, label="25–75 % of generation")
    top.plot(gens, median, color="tab:blue", lw=1, label="median of generation")
    top.plot(gens, best, "o", color="tab:orange", ms=3, label="best of generation")
    top.step(gens, so_far, where="post", color="black", lw=1.8, label="best so far")
    values = np.concatenate([q25, q75, best])
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() / values.min() > 100:
        top.set_yscale("log")
    top.set_ylabel(label)
    top.set_title(f"Fitness of run {data.record.id} ({data.record.name})")
    top.legend(loc="best", fontsize="small")
    top.grid(alpha=0.3)
    bottom.bar(gens, total, color="lightgrey", label="evaluations")
    bottom.bar(gens, failed, color="tab:red", label="failed")
    bottom.set_xlabel("generation")
    bottom.set_ylabel("count")
    bottom.legend(loc="upper right", fontsize="x-small", ncols=2)
    path = _save(fig, outdir / "fitness.png")
    return Figure(path, "Fitness per generation: best, median and quartiles of the successful "
                        "evaluations, best so far; below, evaluations and failures per generation.")


# -- parameters ------------------------------------------------------------------------------
def _values(data: RunData, param: Parameter) -> tuple[np.ndarray, list[Any]]:
    """Generation of each candidate and its value of ``param`` (failed ones included)."""
    gens = np.array([ind.generation for ind in data.individuals])
    return gens, [ind.params.get(param.name) for ind in data.individuals]


def _spread(gens: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per generation: the generations and the 25/50/75 % quantiles (rows) of ``values``."""
    uniq = np.unique(gens)
    q = np.array([np.percentile(values[gens == g], [25, 50, 75], axis=0) for g in uniq])
    return uniq, np.moveaxis(q, 1, 0)


def _best_per_generation(data: RunData) -> dict[int, Individual]:
    out: dict[int, tuple[float, Individual]] = {}
    obj = data.record.objectives
    for ind in data.individuals:
        if ind.evaluation.ok:
            loss = obj.loss(ind.evaluation.fitness)
            if ind.generation not in out or loss < out[ind.generation][0]:
                out[ind.generation] = (loss, ind)
    return {g: v[1] for g, v in out.items()}


def _scalar_panel(ax: Any, gens: np.ndarray, values: np.ndarray, best_gens: np.ndarray,
                  best_values: np.ndarray, overall: float | None, title: str) -> None:
    uniq, (q25, q50, q75) = _spread(gens, values)
    ax.plot(gens, values, ".", color="grey", ms=2, alpha=0.4, label="candidates")
    ax.fill_between(uniq, q25, q75, color="tab:blue", alpha=0.25, label="25–75 %")
    ax.plot(uniq, q50, color="tab:blue", lw=1, label="median")
    if best_gens.size:
        ax.plot(best_gens, best_values, "-o", color="tab:orange", ms=3, lw=1,
                label="best of generation")
    if overall is not None:
        ax.axhline(overall, color="black", ls="--", lw=1, label="best overall")
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)


def plot_parameter(data: RunData, param: Parameter, outdir: Path) -> Figure:
    """How the population's values of one parameter moved over the generations."""
    gens, raw = _values(data, param)
    per_gen_best = _best_per_generation(data)
    best_gens = np.array(sorted(per_gen_best))
    best_params = data.best.params if data.best is not None else None
    path = outdir / f"param-{_slug(param.name)}.png"
    if isinstance(param, Categorical):
        return _categorical_figure(data, param, gens, raw, path)
    values = np.array([np.asarray(v, dtype=float).reshape(-1) for v in raw])
    entries = values.shape[1]
    best_values = np.array([np.asarray(per_gen_best[g].params[param.name], dtype=float).reshape(-1)
                            for g in best_gens]).reshape(len(best_gens), entries)
    overall = None if best_params is None else np.asarray(best_params[param.name], float).reshape(-1)
    if entries <= MAX_ENTRY_PANELS:
        cols = min(entries, 3)
        rows = -(-entries // cols)
        fig = _figure(4.2 * cols, 3.2 * rows)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).reshape(-1)
        for e in range(entries):
            name = param.name if not param.shape else f"{param.name}[{_index(param.shape, e)}]"
            _scalar_panel(axes[e], gens, values[:, e], best_gens, best_values[:, e],
                          None if overall is None else float(overall[e]), name)
            axes[e].set_xlabel("generation")
            axes[e].set_ylim(param.low - 0.02 * (param.high - param.low) - 1e-12,
                             param.high + 0.02 * (param.high - param.low) + 1e-12)
        for ax in axes[entries:]:
            ax.set_visible(False)
        axes[0].legend(fontsize="x-small", loc="best")
        caption = (f"Parameter {param.name} ({param.kind} in [{param.low:g}, {param.high:g}]"
                   f"{', shape ' + str(param.shape) if param.shape else ''}): every candidate "
                   "(grey), the population's median and quartiles, the best of each generation "
                   "and the best overall (dashed).")
    else:
        uniq, (q25, q50, q75) = _spread(gens, values)
        fig = _figure(10, 6.5)
        axes = fig.subplots(2 if overall is None else 3, 1, sharex=False,
                            height_ratios=[3, 3] if overall is None else [3, 3, 1])
        extent = (uniq[0] - 0.5, uniq[-1] + 0.5, entries - 0.5, -0.5)
        im = axes[0].imshow(q50.T, aspect="auto", extent=extent, cmap="viridis",
                            vmin=param.low, vmax=param.high, interpolation="nearest")
        fig.colorbar(im, ax=axes[0], label="median")
        axes[0].set_title(f"{param.name}: population median per entry", fontsize="medium")
        im = axes[1].imshow((q75 - q25).T, aspect="auto", extent=extent, cmap="magma",
                            vmin=0, interpolation="nearest")
        fig.colorbar(im, ax=axes[1], label="interquartile range")
        axes[1].set_title(f"{param.name}: population spread per entry", fontsize="medium")
        for ax in axes[:2]:
            ax.set_xlabel("generation")
            ax.set_ylabel("entry (flat index)")
        if overall is not None:
            im = axes[2].imshow(overall[None, :], aspect="auto", cmap="viridis",
                                vmin=param.low, vmax=param.high, interpolation="nearest")
            fig.colorbar(im, ax=axes[2], label="value")
            axes[2].set_yticks([])
            axes[2].set_xlabel("entry (flat index)")
            axes[2].set_title(f"{param.name} of the best individual", fontsize="medium")
        caption = (f"Parameter {param.name} (array of shape {param.shape}, {param.kind} in "
                   f"[{param.low:g}, {param.high:g}]): median and interquartile range of the "
                   "population per entry and generation, and the best individual's values.")
    return Figure(_save(fig, path), caption)


def _index(shape: tuple[int, ...], flat: int) -> str:
    return ", ".join(str(i) for i in np.unravel_index(flat, shape))


def _categorical_figure(data: RunData, param: Categorical, gens: np.ndarray, raw: list[Any],
                        path: Path) -> Figure:
    uniq = np.unique(gens)
    fig = _figure(8, 3.8)
    ax = fig.subplots()
    bottom = np.zeros(len(uniq))
    for choice in param.choices:
        counts = np.array([sum(1 for g, v in zip(gens, raw) if g == u and v == choice)
                           for u in uniq], dtype=float)
        ax.bar(uniq, counts, bottom=bottom, label=str(choice))
        bottom += counts
    ax.set_xlabel("generation")
    ax.set_ylabel("candidates")
    ax.set_title(param.name, fontsize="medium")
    ax.legend(fontsize="x-small", loc="best", title="choice")
    return Figure(_save(fig, path), f"Parameter {param.name} (categorical): how often each "
                                    "choice was proposed per generation.")


# -- Pareto front ----------------------------------------------------------------------------
def pareto_front(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` (every column minimised)."""
    points = np.asarray(points, dtype=float)
    keep = []
    for i, p in enumerate(points):
        dominated = np.all(points <= p, axis=1) & np.any(points < p, axis=1)
        if not dominated.any():
            keep.append(i)
    return np.array(keep, dtype=int)


def plot_pareto(data: RunData, outdir: Path) -> tuple[Figure, list[Individual]] | None:
    """All successful evaluations in objective space, the non-dominated ones highlighted."""
    obj = data.record.objectives
    ok = [ind for ind in data.individuals if ind.evaluation.ok]
    if len(obj) < 2 or not ok:
        return None
    fitness = np.array([ind.evaluation.fitness for ind in ok], dtype=float)
    front = pareto_front(fitness * obj.signs)
    members = sorted((ok[i] for i in front), key=lambda ind: ind.evaluation.fitness[0])
    gens = np.array([ind.generation for ind in ok])
    pairs = [(a, b) for a in range(min(len(obj), 4)) for b in range(a + 1, min(len(obj), 4))]
    cols = min(len(pairs), 3)
    rows = -(-len(pairs) // cols)
    fig = _figure(5.5 * cols if len(pairs) > 1 else 7, 4.5 * rows if len(pairs) > 1 else 5.5)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).reshape(-1)
    for ax, (a, b) in zip(axes, pairs):
        sc = ax.scatter(fitness[:, a], fitness[:, b], c=gens, cmap="viridis", s=10, alpha=0.6)
        f = fitness[front]
        order = np.argsort(f[:, a])
        ax.plot(f[order, a], f[order, b], "o", mfc="none", mec="tab:red", ms=8, mew=1.5,
                label="Pareto front")
        if obj.directions[a] == obj.directions[b] == MIN and len(obj) == 2:
            ax.step(f[order, a], f[order, b], where="post", color="tab:red", lw=1)
        ax.set_xlabel(f"{obj.names[a]} ({obj.directions[a]})")
        ax.set_ylabel(f"{obj.names[b]} ({obj.directions[b]})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    fig.colorbar(sc, ax=axes[:len(pairs)].tolist(), label="generation")
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    path = _save(fig, outdir / "pareto.png")
    extra = " (pairs of the first four objectives)" if len(obj) > 4 else ""
    return Figure(path, f"Successful evaluations in objective space{extra}, coloured by "
                        f"generation; the {len(front)} non-dominated ones circled."), members


# -- grid heatmaps ---------------------------------------------------------------------------
def grid_axes(data: RunData) -> list[tuple[Parameter, Parameter]]:
    """Pairs of scalar parameters whose evaluated values form a (nearly) full grid.

    A pair qualifies when each takes 2..:data:`MAX_GRID_VALUES` distinct values and the
    evaluated pairs cover the product of those values; for grid search (``gs``) coverage of
    half the product is enough (a stopped run). At most three pairs are returned.
    """
    scalars = [p for p in data.space if p.shape == () and p.name in
               (data.individuals[0].params if data.individuals else {})]
    if len(scalars) < 2:
        return []
    is_gs = data.record.config.get("optimizer", {}).get("name") in ("gs", "grid")
    distinct = {p.name: {_key(ind.params[p.name]) for ind in data.individuals} for p in scalars}
    axes = [p for p in scalars if 2 <= len(distinct[p.name]) <= MAX_GRID_VALUES]
    out = []
    for i, a in enumerate(axes):
        for b in axes[i + 1:]:
            seen = {(_key(ind.params[a.name]), _key(ind.params[b.name])) for ind in data.individuals}
            full = len(distinct[a.name]) * len(distinct[b.name])
            need = full / 2 if is_gs and len(scalars) == 2 else full
            if len(seen) >= need and full <= max(4, len(data.individuals)):
                out.append((a, b))
    return out[:3]


def _key(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def plot_grid(data: RunData, a: Parameter, b: Parameter, outdir: Path) -> Figure:
    """Heatmap of the best value found at each grid point of parameters ``a`` and ``b``."""
    scale, label = data.loss_scale()
    xs = sorted({_key(ind.params[a.name]) for ind in data.individuals}, key=_order)
    ys = sorted({_key(ind.params[b.name]) for ind in data.individuals}, key=_order)
    grid = np.full((len(ys), len(xs)), np.nan)
    obj = data.record.objectives
    for ind in data.individuals:
        if not ind.evaluation.ok:
            continue
        j, i = xs.index(_key(ind.params[a.name])), ys.index(_key(ind.params[b.name]))
        loss = obj.loss(ind.evaluation.fitness)
        if np.isnan(grid[i, j]) or loss < grid[i, j]:
            grid[i, j] = loss
    fig = _figure(min(3 + 0.45 * len(xs), 14), min(2.5 + 0.4 * len(ys), 11))
    ax = fig.subplots()
    shown = np.ma.masked_invalid(scale * grid)
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis" if scale > 0 else "viridis_r"].copy()
    cmap.set_bad("lightgrey")
    im = ax.imshow(shown, origin="lower", aspect="auto", cmap=cmap, interpolation="nearest")
    fig.colorbar(im, ax=ax, label=label)
    ax.set_xticks(range(len(xs)), [_tick(x) for x in xs], rotation=45 if len(xs) > 8 else 0)
    ax.set_yticks(range(len(ys)), [_tick(y) for y in ys])
    ax.set_xlabel(a.name)
    ax.set_ylabel(b.name)
    if len(xs) * len(ys) <= 150:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{scale * grid[i, j]:.3g}", ha="center", va="center",
                            fontsize="xx-small", color="white")
    bi, bj = np.unravel_index(np.nanargmin(grid), grid.shape) if np.isfinite(grid).any() else (None, None)
    if bi is not None:
        ax.plot(bj, bi, marker="*", color="tab:red", ms=14, mec="white")
    ax.set_title(f"Best {label} on the {a.name} × {b.name} grid", fontsize="medium")
    path = _save(fig, outdir / f"grid-{_slug(a.name)}-{_slug(b.name)}.png")
    return Figure(path, f"Best value found at each point of the {a.name} × {b.name} grid "
                        "(other parameters: best over their values); grey: no successful "
                        "evaluation; star: the best point.")


def _order(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float)) else (1, str(v))


def _tick(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# -- optimizee figures -----------------------------------------------------------------------
@dataclass
class Contributions:
    """Figures contributed by optimizee plugins, and the problems met getting them."""

    figures: list[Figure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def optimizee_figures(data: RunData, plugins: Plugins, outdir: Path) -> Contributions:
    """Call every ``l2l_report_figures`` implementation on its own; failures are recorded."""
    from .config import build_part

    out = Contributions()
    if data.best is None:
        return out
    table = data.record.config.get("optimizee", {})
    name = table.get("name", "?")
    try:
        optimizee = build_part(plugins, "optimizees", table)
    except Exception as exc:  # noqa: BLE001 - reported in the page
        out.problems.append(f"optimizee {name!r} could not be rebuilt from the stored config "
                            f"({type(exc).__name__}: {exc}); no optimizee figures")
        return out
    figdir = outdir / "optimizee"
    figdir.mkdir(exist_ok=True)
    for impl in plugins.hook.l2l_report_figures.get_hookimpls():
        try:
            paths = impl.function(optimizee_name=name, optimizee=optimizee, best=data.best,
                                  outdir=figdir)
        except Exception as exc:  # noqa: BLE001 - reported in the page
            out.problems.append(f"plugin {impl.plugin_name}: l2l_report_figures raised "
                                f"{type(exc).__name__}: {exc}")
            continue
        for p in paths or []:
            p = Path(p)
            if p.is_file():
                out.figures.append(Figure(p, f"{p.name} (from {impl.plugin_name})"))
            else:
                out.problems.append(f"plugin {impl.plugin_name}: returned {str(p)!r}, "
                                    "which is not a file")
    if not any(figdir.iterdir()):
        figdir.rmdir()
    return out


# -- entry points ----------------------------------------------------------------------------
def write_report(store: Store, run: str | int, outdir: Path, *,
                 plugins: Plugins | None = None) -> Path:
    """Write the figures and ``report.html`` of ``run`` into ``outdir``; return the HTML path."""
    from .report_html import render_page

    _figure(1, 1)  # fail early, before anything is written, when matplotlib is missing
    data = load_run(store, run)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    sections: dict[str, Any] = {"fitness": None, "pareto": None, "grids": [], "params": [],
                                "omitted_params": [], "optimizee": Contributions()}
    if data.individuals:
        sections["fitness"] = plot_fitness(data, outdir)
        sections["pareto"] = plot_pareto(data, outdir)
        sections["grids"] = [plot_grid(data, a, b, outdir) for a, b in grid_axes(data)]
        params = list(data.space)
        sections["params"] = [plot_parameter(data, p, outdir) for p in params[:MAX_PARAM_FIGURES]]
        sections["omitted_params"] = [p.name for p in params[MAX_PARAM_FIGURES:]]
        sections["optimizee"] = optimizee_figures(data, plugins or get_plugins(), outdir)
    path = outdir / "report.html"
    path.write_text(render_page(data, sections), encoding="utf-8")
    return path


def compare(store: Store, runs: Sequence[str | int], out: Path) -> Path:
    """Overlay the best-so-far curves (against evaluations) of several runs in one PNG."""
    if not runs:
        raise ConfigError("compare needs at least one run")
    fig = _figure(8, 5)
    records = [store.run(r) for r in runs]
    ax = fig.subplots()
    same = len({(tuple(r.objectives.names), tuple(r.objectives.directions), r.objectives.weights)
                for r in records}) == 1
    first = RunData(records[0], Space([]), [], [], None)
    scale, label = first.loss_scale() if same else (1.0, "loss (lower is better)")
    positive = True
    for rec in records:
        stats = store.generation_stats(rec.id)
        if not stats:
            ax.plot([], [], label=f"run {rec.id} {rec.name} (no evaluations)")
            continue
        evals = np.cumsum([s["evaluations"] for s in stats])
        best = scale * np.fmin.accumulate(np.array([s["best"] for s in stats], dtype=float))
        finite = best[np.isfinite(best)]
        positive = positive and bool(finite.size) and bool(finite.min() > 0)
        ax.step(evals, best, where="post", lw=1.6, marker="o", ms=2.5,
                label=f"run {rec.id} {rec.name} ({rec.config.get('optimizer', {}).get('name', '?')})")
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(f"best so far: {label}")
    ax.set_title("Best so far against evaluations")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", loc="best")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return _save(fig, out)
