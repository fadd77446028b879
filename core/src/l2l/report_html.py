"""The HTML page of ``l2l report``: one self-contained file, figures embedded as data URIs."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter
from html import escape
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .noise import fmt_mean_se
from .serialize import plain

if TYPE_CHECKING:
    from .evaluation import Individual
    from .report import ReportFigure, RunData, Sections

#: failure reasons listed (most frequent first)
MAX_REASONS = 20
#: Pareto-front members listed in the table
MAX_FRONT_ROWS = 30

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;
text-align:left;vertical-align:top;font-size:.9rem}th{background:#f4f4f4}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}pre{background:#f7f7f7;padding:.7rem;overflow:auto;
font-size:.85rem}.status-finished{color:#1a7f37}.status-failed,.status-interrupted{color:#c62828}
.status-stopped,.status-running{color:#9a6700}.problem{color:#c62828}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:1rem}
"""


def fmt(value: Any) -> str:
    """A compact human-readable form of a parameter or fitness value."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, threshold=24, max_line_width=90)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    return str(value)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "–"
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    head = "" if header is None else "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{escape(fmt(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{head}{body}</table>"


def _figure(fig: ReportFigure) -> str:
    data = base64.b64encode(fig.path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{escape(fig.path.name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(fig.caption)}</figcaption></figure>")


def _summary(data: RunData) -> str:
    r = data.record
    failed = sum(1 for ind in data.individuals if not ind.evaluation.ok)
    duration = "–" if r.ended is None else f"{r.ended - r.started:.1f} s"
    rows = [("run", f"{r.id} ({r.name})"), ("seed", r.seed), ("started", _when(r.started)),
            ("ended", _when(r.ended)), ("duration", duration), ("generations", r.generations),
            ("evaluations", r.evaluations), ("failed evaluations", failed),
            ("objectives", ", ".join(f"{n} ({d})" for n, d in
                                     zip(r.objectives.names, r.objectives.directions)))]
    if r.objectives.weights is not None:
        rows.append(("weights", r.objectives.weights))
    t = data.timing
    if t is not None:
        rows += [("mode", f"async, {t.slots} slots (each 'generation' is a block of {t.block} evaluations)"),
                 ("wall time (all sessions)", f"{t.wall:.1f} s, {t.rate:.3g} evaluations/s"),
                 ("worker utilisation", f"{t.utilisation:.3f} (busy worker-seconds / "
                                        f"(slots × wall time))"),
                 ("in flight", f"{t.in_flight_mean:.3g} on average, at most {t.in_flight_max}")]
    status = (f'<p>Status: <b class="status-{escape(r.status)}">{escape(r.status)}</b>'
              + (f' — <span class="problem">{escape(r.error)}</span>' if r.error else "") + "</p>")
    return status + _table(rows)


def _best(best: Individual | None, data: RunData) -> str:
    if best is None:
        return "<p>No successful evaluation.</p>"
    ev = best.evaluation
    cand = data.best_candidate
    if cand is not None and cand.count > 1:
        rows: list[tuple[str, Any]] = [(f"fitness: {n} (mean ± SE)", fmt_mean_se(m, e))
                                       for n, m, e in zip(data.objective_names, cand.mean, cand.se)]
        rows += [("scores", f"{cand.count} ({cand.failed} failed)" if cand.failed else cand.count),
                 ("generation", best.generation), ("index", best.index)]
        scores = _table([(r.generation, r.index, r.seed, *r.evaluation.fitness)
                         for r in cand.rows], ["generation", "index", "seed", *data.objective_names])
        intro = ("<p>The candidate with the lowest mean loss over all its scores (repeats and "
                 "re-evaluations); a mean chosen by the scores that estimate it is optimistic: "
                 "see the held-out scores below for an unbiased figure.</p>")
        params = _table([(k, v) for k, v in best.params.items()], ["parameter", "value"])
        return (intro + _table(rows) + "<h3>Parameters</h3>" + params + "<h3>Its scores</h3>"
                + scores)
    rows = [(f"fitness: {n}", f) for n, f in zip(data.objective_names, ev.fitness)]
    rows += [("generation", best.generation), ("index", best.index), ("seed", best.seed),
             ("wall time", f"{ev.wall_time:.3g} s"), ("worker", ev.worker)]
    params = _table([(k, v) for k, v in best.params.items()], ["parameter", "value"])
    info = "" if not ev.info else "<h3>Info</h3><pre>" + escape(
        json.dumps(plain(ev.info), indent=2, default=str)) + "</pre>"
    return _table(rows) + "<h3>Parameters</h3>" + params + info


def _validations(data: RunData) -> str:
    """The stored ``l2l validate`` rounds: what each score measures, then mean ± SE of each
    objective per candidate and score."""
    names = list(data.objective_names)
    parts = []
    for vr in data.validations:
        desc = _table(sorted(vr.descriptions.items(), key=lambda kv: kv[0] != "fresh"),
                      ["score", "what it measures"])
        rows: list[tuple[Any, ...]] = []
        for c in vr.candidates:
            t = c.training
            if c.baseline is not None:
                rows.append(("baseline", c.baseline, "", *[""] * len(names), ""))
            else:
                rows.append((c.rank, f"{c.generation}, {c.index}", "training",
                             *[fmt_mean_se(m, e) for m, e in zip(t.get("mean", []),
                                                                 t.get("se", []))],
                             t.get("count", "?")))
            for name, sc in c.scores.items():
                rows.append(("", "", name, *[fmt_mean_se(m, e) for m, e in zip(sc.mean, sc.se)],
                             f"{sc.count - sc.failed} of {sc.count}" if sc.failed else sc.count))
        parts.append(f"<h3>Round {vr.round} ({_when(vr.created)}): {vr.repeats} fresh seeds "
                     "per score</h3>" + desc
                     + _table(rows, ["rank", "generation, index", "score",
                                     *[f"{n} (mean ± SE)" for n in names], "n"]))
    return "".join(parts)


def _front(members: list[Individual], data: RunData) -> str:
    names = list(data.objective_names)
    rows = [(m.generation, m.index, *m.evaluation.fitness,
             "; ".join(f"{k}={fmt(v)}" for k, v in m.params.items()))
            for m in members[:MAX_FRONT_ROWS]]
    more = (f"<p>… and {len(members) - MAX_FRONT_ROWS} more non-dominated evaluations.</p>"
            if len(members) > MAX_FRONT_ROWS else "")
    return _table(rows, ["generation", "index", *names, "parameters"]) + more


def _failures(data: RunData) -> str:
    failed = [ind for ind in data.individuals if not ind.evaluation.ok]
    if not failed:
        return "<p>No evaluation failed.</p>"
    reasons = Counter(ind.evaluation.error or "(no reason recorded)" for ind in failed)
    first: dict[str, str] = {}
    for ind in failed:
        first.setdefault(ind.evaluation.error or "(no reason recorded)",
                         f"generation {ind.generation}, index {ind.index}")
    rows = [(n, reason, first[reason]) for reason, n in reasons.most_common(MAX_REASONS)]
    more = (f"<p>… and {len(reasons) - MAX_REASONS} other reasons.</p>"
            if len(reasons) > MAX_REASONS else "")
    return (f"<p>{len(failed)} of {len(data.individuals)} evaluations failed.</p>"
            + _table(rows, ["count", "reason", "first seen"]) + more)


def render_page(data: RunData, sections: Sections) -> str:
    """The whole report page of one run."""
    r = data.record
    parts = [f"<h1>l2l report: run {r.id} — {escape(r.name)}</h1>", _summary(data)]
    if sections.fitness is None:
        parts.append("<p>The run has no stored evaluations yet.</p>")
    else:
        parts += ["<h2>Fitness</h2>", _figure(sections.fitness)]
    parts += ["<h2>Best individual</h2>", _best(data.best, data)]
    if data.validations:
        parts += ["<h2>Held-out scores</h2>", _validations(data)]
    elif data.best is not None:
        parts += ["<h2>Held-out scores</h2>", "<p>None yet: <code>l2l validate "
                  f"{r.id}</code> re-scores the best on fresh seeds and held-out data.</p>"]
    if sections.pareto is not None:
        fig, members = sections.pareto
        parts += ["<h2>Pareto front</h2>", _figure(fig), _front(members, data)]
    if sections.grids:
        parts += ["<h2>Grid</h2>"] + [_figure(f) for f in sections.grids]
    if sections.params:
        parts += ["<h2>Parameters</h2>", '<div class="grid">']
        parts += [_figure(f) for f in sections.params] + ["</div>"]
        if sections.omitted_params:
            parts.append("<p>Not drawn: " + escape(", ".join(sections.omitted_params)) + "</p>")
    contrib = sections.optimizee
    if contrib.figures or contrib.problems:
        parts.append("<h2>Optimizee figures</h2>")
        parts += [_figure(f) for f in contrib.figures]
        parts += [f'<p class="problem">{escape(p)}</p>' for p in contrib.problems]
    parts += ["<h2>Failed evaluations</h2>", _failures(data)]
    parts += ["<h2>Configuration</h2>", "<pre>" + escape(
        json.dumps(plain(r.config), indent=2, default=str)) + "</pre>"]
    parts += ["<h2>Versions</h2>", _table(sorted(r.versions.items()), ["package", "version"])]
    title = escape(f"l2l report: run {r.id} ({r.name})")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
