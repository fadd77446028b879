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

from .asynchronous import AsyncStats
from .errors import ConfigError
from .evaluation import Individual
from .noise import Candidate
from .plugins import Plugins, get_plugins
from .space import Categorical, Parameter, Space
from .store import RunRecord, Store
from .validation import ValidationRound

#: array parameters with at most this many entries get one panel per entry, larger ones heatmaps
MAX_ENTRY_PANELS = 6
#: at most this many parameter figures per report (the rest are listed as omitted)
MAX_PARAM_FIGURES = 40
#: a scalar parameter with more distinct values than this is not treated as a grid axis
MAX_GRID_VALUES = 200
#: array parameters with at most this many entries offer their entries as grid axes
MAX_GRID_ENTRIES = 4


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
    for ax in fig.axes:  # generations are whole numbers
        if ax.get_xlabel() == "generation":
            lo, hi = ax.get_xlim()
            if hi - lo < 2:
                ax.set_xlim((lo + hi) / 2 - 1, (lo + hi) / 2 + 1)
            ax.xaxis.set_major_locator(_integer_locator())
    fig.savefig(path, format="png")
    return path


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


@dataclass
class ReportFigure:
    """A PNG of the report with its caption."""

    path: Path
    caption: str


@dataclass
class RunData:
    """Everything the report needs about one run, read from the store once.

    ``best`` is the first row of the best candidate, ``best_candidate`` its summary over all
    its scores (mean ± SE, count), ``history`` the best mean loss after each generation,
    ``generation_best`` the best mean loss of the candidates first evaluated in each
    generation and ``validations`` the stored ``l2l validate`` rounds."""

    record: RunRecord
    space: Space
    individuals: list[Individual]
    stats: list[dict[str, Any]]
    best: Individual | None
    best_candidate: Candidate | None = None
    history: list[float | None] = field(default_factory=list)
    generation_best: dict[int, float] = field(default_factory=dict)
    validations: list[ValidationRound] = field(default_factory=list)
    #: an async run's scheduling facts (None for a generational run)
    timing: AsyncStats | None = None

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
    """Read a run's record, space, evaluations, per-generation statistics, best candidate,
    best-so-far history and validation rounds."""
    from .asynchronous import async_stats
    from .validation import load_rounds

    record = store.run(run)
    best = store.best_candidate(record.id)
    generation_best: dict[int, float] = {}
    for g, _, mean in store.candidate_means(record.id):
        generation_best.setdefault(g, mean)
    return RunData(record, Space.from_json(record.space), list(store.individuals(record.id)),
                   store.generation_stats(record.id), None if best is None else best.rows[0],
                   best, store.best_history(record.id), generation_best,
                   load_rounds(store, record.id), async_stats(store, record.id))


# -- fitness ---------------------------------------------------------------------------------
def plot_fitness(data: RunData, outdir: Path) -> ReportFigure:
    """Best, median and quartiles per generation, the best so far, and failures."""
    scale, label = data.loss_scale()
    gens = np.array([s["generation"] for s in data.stats])

    def get(key: str) -> np.ndarray:
        return scale * np.array([s[key] for s in data.stats], dtype=float)

    q25, median, q75 = get("q25"), get("median"), get("q75")
    best = scale * np.array([data.generation_best.get(int(g), np.nan) for g in gens], dtype=float)
    so_far = scale * np.array([np.nan if h is None else h for h in data.history], dtype=float)
    repeated = any(ind.repeat_of is not None for ind in data.individuals)
    failed = np.array([s["failed"] for s in data.stats])
    total = np.array([s["evaluations"] for s in data.stats])
    fig = _figure(8, 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    if len(gens) > 2:
        top.fill_between(gens, q25, q75, color="tab:blue", alpha=0.2, label="25–75 % of generation")
        top.plot(gens, median, color="tab:blue", lw=1, label="median of generation")
    else:  # too few generations for bands: show the quartiles as error bars
        low, high = np.fmin(q25, q75), np.fmax(q25, q75)  # swapped for maximised objectives
        top.errorbar(gens, median, yerr=[median - low, high - median], fmt="s", color="tab:blue",
                     capsize=6, label="median and 25–75 % of generation")
    top.plot(gens, best, "o", color="tab:orange", ms=3,
             label="best new candidate (mean)" if repeated else "best of generation")
    top.step(gens, so_far, where="post", color="black", lw=1.8,
             label="best so far (mean)" if repeated else "best so far")
    values = np.concatenate([q25, q75, best])
    values = values[np.isfinite(values)]
    if not values.size:
        top.text(0.5, 0.5, "no successful evaluation", transform=top.transAxes, ha="center",
                 color="tab:red")
    if values.size and values.min() > 0 and values.max() / values.min() > 100:
        top.set_yscale("log")
    top.set_ylabel(label)
    top.set_title(f"Fitness of run {data.record.id} ({data.record.name})")
    top.legend(loc="best", fontsize="small")
    top.grid(alpha=0.3)
    if len(gens) <= 60:
        bottom.bar(gens, total, color="lightgrey", label="evaluations")
        bottom.bar(gens, failed, color="tab:red", label="failed")
    else:  # thousands of bar patches draw slowly: filled steps look the same
        bottom.fill_between(gens, 0, total, step="mid", color="lightgrey", label="evaluations")
        bottom.fill_between(gens, 0, failed, step="mid", color="tab:red", label="failed")
    bottom.set_xlabel("generation")
    bottom.set_ylabel("count")
    bottom.legend(loc="upper right", fontsize="x-small", ncols=2)
    path = _save(fig, outdir / "fitness.png")
    caption = ("Fitness per generation: median and quartiles of the successful evaluations, "
               "the best candidate first evaluated in the generation and the best so far; "
               "below, evaluations and failures per generation.")
    if repeated:
        caption += (" Candidates were scored several times (repeats, re-evaluations): the "
                    "best and the best so far are means over all scores of a candidate, the "
                    "quartiles are over single scores.")
    return ReportFigure(path, caption)


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


def plot_parameter(data: RunData, param: Parameter, outdir: Path) -> ReportFigure:
    """How the population's values of one parameter moved over the generations."""
    gens, raw = _values(data, param)
    path = outdir / f"param-{_slug(param.name)}.png"
    if isinstance(param, Categorical):
        return _categorical_figure(param, gens, raw, path)
    per_gen_best = _best_per_generation(data)
    best_gens = np.array(sorted(per_gen_best))
    best_params = data.best.params if data.best is not None else None
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
    return ReportFigure(_save(fig, path), caption)


def _index(shape: tuple[int, ...], flat: int) -> str:
    return ", ".join(str(i) for i in np.unravel_index(flat, shape))


def _categorical_figure(param: Categorical, gens: np.ndarray, raw: list[Any],
                        path: Path) -> ReportFigure:
    uniq = np.unique(gens)
    row = {g: k for k, g in enumerate(uniq)}
    col = {_key(c): k for k, c in enumerate(param.choices)}
    counts = np.zeros((len(param.choices), len(uniq)))
    for g, v in zip(gens, raw):
        counts[col[_key(v)], row[g]] += 1
    fig = _figure(8, 3.8)
    ax = fig.subplots()
    bottom = np.zeros(len(uniq))
    for choice, n in zip(param.choices, counts):
        ax.bar(uniq, n, bottom=bottom, label=str(choice))
        bottom += n
    ax.set_xlabel("generation")
    ax.set_ylabel("candidates")
    ax.set_title(param.name, fontsize="medium")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1), title="choice")
    return ReportFigure(_save(fig, path), f"Parameter {param.name} (categorical): how often each "
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


def plot_pareto(data: RunData, outdir: Path) -> tuple[ReportFigure, list[Individual]] | None:
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
        order = np.argsort(f[:, a] * obj.signs[a], kind="stable")
        ax.plot(f[order, a], f[order, b], "o", mfc="none", mec="tab:red", ms=8, mew=1.5,
                label="Pareto front")
        if len(obj) == 2:  # the attainment boundary (only a front in two dimensions)
            ax.step(f[order, a], f[order, b], where="post", color="tab:red", lw=1)
        ax.set_xlabel(f"{obj.names[a]} ({obj.directions[a]})")
        ax.set_ylabel(f"{obj.names[b]} ({obj.directions[b]})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    bar = fig.colorbar(sc, ax=axes[:len(pairs)].tolist(), label="generation")
    bar.locator = _integer_locator()
    bar.update_ticks()
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    path = _save(fig, outdir / "pareto.png")
    extra = " (pairs of the first four objectives)" if len(obj) > 4 else ""
    return ReportFigure(path, f"Successful evaluations in objective space{extra}, coloured by "
                        f"generation; the {len(front)} non-dominated ones circled."), members


# -- grid heatmaps ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Column:
    """One scalar coordinate of the space: a scalar parameter or one entry of a small array."""

    label: str
    param: Parameter
    entry: int | None = None

    def value(self, params: dict[str, Any]) -> Any:
        v = params[self.param.name]
        return _key(v if self.entry is None else np.asarray(v).reshape(-1)[self.entry])


def columns(space: Space) -> list[Column]:
    """The scalar coordinates that can span a grid."""
    out = []
    for p in space:
        if p.shape == ():
            out.append(Column(p.name, p))
        elif p.size <= MAX_GRID_ENTRIES:
            out += [Column(f"{p.name}[{_index(p.shape, e)}]", p, e) for e in range(p.size)]
    return out


def grid_axes(data: RunData) -> list[tuple[Column, Column]]:
    """Pairs of scalar coordinates whose evaluated values form a full grid.

    A pair qualifies when each takes 2..:data:`MAX_GRID_VALUES` distinct values and the
    evaluated pairs cover the product of those values; for a grid search (optimizer ``gs``)
    over two coordinates, half the product is enough (a stopped run). At most three pairs.
    """
    cols = columns(data.space) if data.individuals else []
    if len(cols) < 2:
        return []
    optimizer = str(data.record.config.get("optimizer", {}).get("name", ""))
    is_gs = optimizer.rpartition(":")[2] == "gs"
    distinct = {c: {c.value(ind.params) for ind in data.individuals} for c in cols}
    axes = [c for c in cols if 2 <= len(distinct[c]) <= MAX_GRID_VALUES]
    out = []
    for i, a in enumerate(axes):
        for b in axes[i + 1:]:
            seen = {(a.value(ind.params), b.value(ind.params)) for ind in data.individuals}
            full = len(distinct[a]) * len(distinct[b])
            need = full / 2 if is_gs and len(cols) == 2 else full
            if len(seen) >= need and full <= max(4, len(data.individuals)):
                out.append((a, b))
    return out[:3]


def _key(value: Any) -> Any:
    """A hashable, comparable form of a parameter value (numpy scalars unwrapped)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_key(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def grid_values(data: RunData, a: Column, b: Column) -> tuple[list[Any], list[Any], np.ndarray]:
    """The sorted values of ``a`` and ``b`` and the lowest loss at each grid point
    (rows: ``b``, columns: ``a``; NaN where no candidate succeeded in every score), a
    candidate scored several times counting with its mean."""
    xs = sorted({a.value(ind.params) for ind in data.individuals}, key=_order)
    ys = sorted({b.value(ind.params) for ind in data.individuals}, key=_order)
    grid = np.full((len(ys), len(xs)), np.nan)
    obj = data.record.objectives
    scores: dict[tuple[int, int], list[Individual]] = {}
    for ind in data.individuals:  # a candidate's value is its mean over all its scores
        scores.setdefault(ind.candidate, []).append(ind)
    for rows in scores.values():
        if not all(r.evaluation.ok for r in rows):
            continue
        j, i = xs.index(a.value(rows[0].params)), ys.index(b.value(rows[0].params))
        loss = float(np.mean([obj.loss(r.evaluation.fitness) for r in rows]))
        if np.isnan(grid[i, j]) or loss < grid[i, j]:
            grid[i, j] = loss
    return xs, ys, grid


def plot_grid(data: RunData, a: Column, b: Column, outdir: Path) -> ReportFigure:
    """Heatmap of the best value found at each grid point of coordinates ``a`` and ``b``."""
    import matplotlib as mpl
    from matplotlib.patches import Rectangle

    scale, label = data.loss_scale()
    xs, ys, grid = grid_values(data, a, b)
    fig = _figure(min(3 + 0.45 * len(xs), 14), min(2.5 + 0.4 * len(ys), 11))
    ax = fig.subplots()
    shown = np.ma.masked_invalid(scale * grid)
    cmap = mpl.colormaps["viridis" if scale > 0 else "viridis_r"].with_extremes(bad="lightgrey")
    im = ax.imshow(shown, origin="lower", aspect="auto", cmap=cmap, interpolation="nearest")
    fig.colorbar(im, ax=ax, label=label)
    ax.set_xticks(range(len(xs)), [_tick(x) for x in xs], rotation=45 if len(xs) > 8 else 0)
    ax.set_yticks(range(len(ys)), [_tick(y) for y in ys])
    ax.set_xlabel(a.label)
    ax.set_ylabel(b.label)
    if len(xs) * len(ys) <= 150:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if np.isfinite(grid[i, j]):
                    level = float(im.norm(scale * grid[i, j]))
                    bright = level > 0.6 if scale > 0 else level < 0.4  # yellow end of viridis
                    ax.text(j, i, f"{scale * grid[i, j]:.3g}", ha="center", va="center",
                            fontsize="x-small", color="black" if bright else "white")
    if np.isfinite(grid).any():
        bi, bj = np.unravel_index(np.nanargmin(grid), grid.shape)
        ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, ec="tab:red", lw=2.5))
    ax.set_title(f"Best {label} on the {a.label} × {b.label} grid", fontsize="medium")
    path = _save(fig, outdir / f"grid-{_slug(a.label)}-{_slug(b.label)}.png")
    return ReportFigure(path, f"Best value found at each point of the {a.label} × {b.label} grid "
                        "(other parameters: best over their values); grey: no successful "
                        "evaluation; red frame: the best point.")


def _order(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float)) else (1, str(v))


def _tick(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# -- optimizee figures -----------------------------------------------------------------------
@dataclass
class Contributions:
    """Figures contributed by optimizee plugins, and the problems met getting them."""

    figures: list[ReportFigure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def optimizee_figures(data: RunData, plugins: Plugins, outdir: Path) -> Contributions:
    """Call every ``l2l_report_figures`` implementation on its own; failures are recorded."""
    from .config import build_part
    from .parts import recorded_table

    out = Contributions()
    if data.best is None:
        return out
    # the hook gets the registered (short) name; the part is rebuilt from the plugin the run used
    name = str(data.record.config.get("optimizee", {}).get("name", "?")).rpartition(":")[2]
    try:
        optimizee = build_part(plugins, "optimizees",
                               recorded_table(data.record.config, "optimizee", plugins))
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
                out.figures.append(ReportFigure(p, f"{p.name} (from {impl.plugin_name})"))
            else:
                out.problems.append(f"plugin {impl.plugin_name}: returned {str(p)!r}, "
                                    "which is not a file")
    if not any(figdir.iterdir()):
        figdir.rmdir()
    return out


# -- entry points ----------------------------------------------------------------------------
@dataclass
class Sections:
    """What the page shows besides the run's record (figures are None or empty when absent)."""

    fitness: ReportFigure | None = None
    pareto: tuple[ReportFigure, list[Individual]] | None = None
    grids: list[ReportFigure] = field(default_factory=list)
    params: list[ReportFigure] = field(default_factory=list)
    omitted_params: list[str] = field(default_factory=list)
    optimizee: Contributions = field(default_factory=Contributions)


def write_report(store: Store, run: str | int, outdir: Path, *,
                 plugins: Plugins | None = None) -> Path:
    """Write the figures and ``report.html`` of ``run`` into ``outdir``; return the HTML path."""
    from .report_html import render_page

    _figure(1, 1)  # fail early, before anything is written, when matplotlib is missing
    data = load_run(store, run)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    sections = Sections()
    if data.individuals:
        params = list(data.space)
        sections = Sections(
            fitness=plot_fitness(data, outdir),
            pareto=plot_pareto(data, outdir),
            grids=[plot_grid(data, a, b, outdir) for a, b in grid_axes(data)],
            params=[plot_parameter(data, p, outdir) for p in params[:MAX_PARAM_FIGURES]],
            omitted_params=[p.name for p in params[MAX_PARAM_FIGURES:]],
            optimizee=optimizee_figures(data, plugins or get_plugins(), outdir))
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
        best = scale * np.array([np.nan if h is None else h for h in store.best_history(rec.id)],
                                dtype=float)
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
