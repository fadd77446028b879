"""``l2l report`` and ``l2l compare``: figures, the HTML page, and plugin contributions."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="l2l report needs matplotlib (l2l-core[report])")

from matplotlib.image import imread  # noqa: E402

from l2l import (Categorical, ConfigError, Experiment, Float, Int, Objectives, Optimizee,  # noqa: E402
                 Optimizer, Space, Store, StoreError, build, hookimpl)
from l2l.plugins import Plugins  # noqa: E402
from l2l.report import (columns, compare, grid_axes, grid_values, load_run,  # noqa: E402
                        pareto_front, write_report)


class TwoObjectives(Optimizee):
    """cost = x² + y² (min), gain = x (max): the front is y = 0; fails for y > 0.8."""

    def __init__(self, fail_above: float = 0.8):
        self.fail_above = fail_above

    def space(self) -> Space:
        return Space([Float("x", 0.0, 1.0), Float("y", -1.0, 1.0)])

    def objectives(self) -> Objectives:
        return Objectives(("cost", "gain"), ("min", "max"), weights=(1.0, 0.5))

    def evaluate(self, params, seed):
        if params["y"] > self.fail_above:
            raise ValueError("y is too large for the model")
        return (params["x"] ** 2 + params["y"] ** 2, params["x"])


class Tuning(Optimizee):
    """A scalar float, an int and a categorical; NaN (a failure) at rate 5 with mode 'b'."""

    def space(self) -> Space:
        return Space([Float("gain", 0.0, 2.0), Int("rate", 1, 5), Categorical("mode", ["a", "b", "c"])])

    def evaluate(self, params, seed):
        if params["rate"] == 5 and params["mode"] == "b":
            return float("nan")
        return (params["gain"] - 1.2) ** 2 + 0.1 * params["rate"] + (params["mode"] != "c")


class Grid(Optimizer):
    """Every point of gain × rate (modes cycle) in one generation, then done."""

    def __init__(self, gains: list[float] = (0.0, 0.5, 1.0, 1.5), modes: list[str] = ("a", "b", "c")):
        self.gains = gains
        self.modes = modes

    def ask(self):
        self.asked = True
        return [{"gain": g, "rate": r, "mode": self.modes[(i + r) % len(self.modes)]}
                for i, g in enumerate(self.gains) for r in range(1, 6)]

    def tell(self, candidates, evaluations):
        pass

    @property
    def done(self) -> bool:
        return getattr(self, "asked", False)


class Parts:
    @hookimpl
    def l2l_register_optimizees(self, registry):
        registry.add("two-objectives", TwoObjectives)
        registry.add("tuning", Tuning)

    @hookimpl
    def l2l_register_optimizers(self, registry):
        registry.add("test-grid", Grid)

    @hookimpl
    def l2l_report_figures(self, optimizee_name, optimizee, best, outdir):
        if optimizee_name != "two-objectives":
            return None
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3, 2))
        ax = fig.subplots()
        ax.plot([0, best.params["x"]], [0, best.params["y"]])
        path = outdir / "best-vector.png"
        fig.savefig(path)
        return [path]


class BrokenFigures:
    @hookimpl
    def l2l_report_figures(self, optimizee_name, optimizee, best, outdir):
        raise RuntimeError("plotting backend on fire")


@pytest.fixture(scope="module")
def plugins():
    p = Plugins()
    p.register(Parts(), "report-test")
    p.register(BrokenFigures(), "broken-figures")
    return p


@pytest.fixture(scope="module")
def runs(tmp_path_factory, plugins):
    store = Store(tmp_path_factory.mktemp("runs") / "runs.db")
    ids = {}
    ids["ga"] = Experiment(build("optimizee", "function", function="rastrigin", dimension=2),
                           build("optimizer", "ga", population=16), store=store, generations=8,
                           seed=1, name="ga-rastrigin", plugins=plugins).run().run_id
    ids["random"] = Experiment(build("optimizee", "function", function="rastrigin", dimension=2),
                               build("optimizer", "random", population=16), store=store,
                               generations=8, seed=1, name="random-rastrigin",
                               plugins=plugins).run().run_id
    ids["wide"] = Experiment(build("optimizee", "function", function="sphere", dimension=9),
                             build("optimizer", "ga", population=12), store=store, generations=5,
                             seed=2, plugins=plugins).run().run_id
    ids["pareto"] = Experiment(plugins.get("optimizees", "two-objectives")(),
                               build("optimizer", "random", population=40), store=store,
                               generations=4, seed=3, plugins=plugins).run().run_id
    ids["grid"] = Experiment(Tuning(), Grid(), store=store, generations=3, seed=0,
                             plugins=plugins).run().run_id
    ids["unregistered"] = Experiment(TwoObjectives(), build("optimizer", "random", population=8),
                                     store=store, generations=2, seed=0).run().run_id
    return store, ids


def images(page: str) -> list[str]:
    return re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,[A-Za-z0-9+/=]+">', page)


def check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(path).shape[:2]
    assert width >= 200 and height >= 150


def test_single_objective_report(runs, plugins, tmp_path):
    store, ids = runs
    page_path = write_report(store, ids["ga"], tmp_path / "ga", plugins=plugins)
    assert page_path == tmp_path / "ga" / "report.html"
    page = page_path.read_text()
    pngs = sorted(p.name for p in (tmp_path / "ga").glob("*.png"))
    assert pngs == ["fitness.png", "param-x.png"]
    for name in pngs:
        check_png(tmp_path / "ga" / name)
    assert sorted(images(page)) == pngs  # every figure is embedded, nothing linked
    assert "src=\"http" not in page and "<script" not in page
    for heading in ("Fitness", "Best individual", "Parameters", "Failed evaluations",
                    "Configuration", "Versions"):
        assert f"<h2>{heading}</h2>" in page
    assert "Pareto front" not in page and "<h2>Grid</h2>" not in page
    best = store.best(ids["ga"])
    assert f"{best.evaluation.fitness[0]:.6g}" in page
    assert "ga-rastrigin" in page and "rastrigin" in page and "l2l-core" in page
    assert 'class="status-finished">finished' in page
    assert "No evaluation failed." in page
    # a failing contribution is reported in the page, not fatal
    assert "plugin broken-figures: l2l_report_figures raised RuntimeError" in page


def test_failing_plugin_figure_is_reported_and_good_ones_embedded(runs, plugins, tmp_path):
    store, ids = runs
    page = write_report(store, ids["pareto"], tmp_path / "p", plugins=plugins).read_text()
    assert "best-vector.png" in images(page)
    assert "best-vector.png (from report-test)" in page
    assert "plugin broken-figures: l2l_report_figures raised RuntimeError: plotting backend on fire" in page
    check_png(tmp_path / "p" / "optimizee" / "best-vector.png")


def test_pareto_front_and_failures(runs, plugins, tmp_path):
    store, ids = runs
    out = tmp_path / "pareto"
    page = write_report(store, ids["pareto"], out, plugins=plugins).read_text()
    check_png(out / "pareto.png")
    assert "<h2>Pareto front</h2>" in page
    data = load_run(store, ids["pareto"])
    ok = [i for i in data.individuals if i.evaluation.ok]
    points = np.array([(i.evaluation.fitness[0], -i.evaluation.fitness[1]) for i in ok])
    front = pareto_front(points)
    # every front member is non-dominated and every other point is dominated by a member
    for k in range(len(ok)):
        dominated = np.any(np.all(points[front] <= points[k], axis=1)
                           & np.any(points[front] < points[k], axis=1))
        assert dominated == (k not in set(front))
    assert f"{len(front)} non-dominated" in page
    failed = [i for i in data.individuals if not i.evaluation.ok]
    assert failed, "the fixture should produce failures (y > 0.8)"
    assert f"{len(failed)} of {len(data.individuals)} evaluations failed" in page
    assert "ValueError: y is too large for the model" in page


def test_pareto_front_of_known_points():
    pts = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 5], [0.5, 6]])
    assert sorted(pareto_front(pts).tolist()) == [0, 1, 3, 4, 6]


def test_grid_heatmap_parameters_and_categoricals(runs, plugins, tmp_path):
    store, ids = runs
    data = load_run(store, ids["grid"])
    pairs = [(a.label, b.label) for a, b in grid_axes(data)]
    assert ("gain", "rate") in pairs and ("gain", "mode") in pairs
    cols = {c.label: c for c in columns(data.space)}
    xs, ys, grid = grid_values(data, cols["gain"], cols["rate"])
    assert xs == [0.0, 0.5, 1.0, 1.5] and ys == [1, 2, 3, 4, 5]
    assert grid.shape == (5, 4)
    assert np.nanmin(grid) == pytest.approx(store.run(ids["grid"]).best_loss)
    # the one combination that failed everywhere it was tried is NaN
    failed = {(i.params["gain"], i.params["rate"]) for i in data.individuals if not i.evaluation.ok}
    for g, r in failed:
        assert np.isnan(grid[ys.index(r), xs.index(g)])
    out = tmp_path / "grid"
    page = write_report(store, ids["grid"], out, plugins=plugins).read_text()
    assert "<h2>Grid</h2>" in page
    for name in ("grid-gain-rate.png", "grid-gain-mode.png", "param-gain.png", "param-rate.png",
                 "param-mode.png"):
        check_png(out / name)
        assert name in images(page)
    assert "non-finite fitness" in page


def test_grid_search_over_array_entries(tmp_path):
    store = Store(tmp_path / "gs.db")
    run_id = Experiment(build("optimizee", "function", function="rastrigin", dimension=2),
                        build("optimizer", "gs", points=7, population=10), store=store,
                        generations=10, seed=0).run().run_id
    data = load_run(store, run_id)
    [(a, b)] = grid_axes(data)
    assert (a.label, b.label) == ("x[0]", "x[1]")
    xs, ys, grid = grid_values(data, a, b)
    assert len(xs) == len(ys) == 7 and np.isfinite(grid).all()
    assert grid[3, 3] == pytest.approx(0.0)  # rastrigin's minimum at the grid's centre
    page = write_report(store, run_id, tmp_path / "gs").read_text()
    assert "grid-x_0-x_1.png" in images(page)
    check_png(tmp_path / "gs" / "grid-x_0-x_1.png")


def test_no_grid_for_random_search(runs):
    store, ids = runs
    assert grid_axes(load_run(store, ids["random"])) == []
    assert grid_axes(load_run(store, ids["pareto"])) == []


def test_array_parameter_gets_heatmaps(runs, plugins, tmp_path):
    store, ids = runs
    page = write_report(store, ids["wide"], tmp_path / "wide", plugins=plugins).read_text()
    check_png(tmp_path / "wide" / "param-x.png")
    assert "array of shape (9,)" in page


def test_unrebuildable_optimizee_is_reported(runs, plugins, tmp_path):
    store, ids = runs
    page = write_report(store, ids["unregistered"], tmp_path / "u", plugins=plugins).read_text()
    assert "could not be rebuilt from the stored config" in page
    assert "<h2>Pareto front</h2>" in page


def test_run_without_evaluations(tmp_path):
    store = Store(tmp_path / "empty.db")
    opt = TwoObjectives()
    run_id = store.create_run("empty", 0, {"optimizee": {"name": "two-objectives"}}, {},
                              opt.space().to_json(), opt.objectives())
    page = write_report(store, run_id, tmp_path / "e").read_text()
    assert "no stored evaluations" in page and "No successful evaluation." in page
    assert images(page) == []


def test_compare_overlays_runs(runs, tmp_path):
    store, ids = runs
    out = compare(store, [ids["ga"], "random-rastrigin"], tmp_path / "sub" / "cmp.png")
    assert out == tmp_path / "sub" / "cmp.png"
    check_png(out)
    with pytest.raises(ConfigError):
        compare(store, [], tmp_path / "none.png")
    with pytest.raises(StoreError):
        compare(store, ["no-such-run"], tmp_path / "none.png")


def test_unknown_run_raises(runs, tmp_path):
    store, _ = runs
    with pytest.raises(StoreError):
        write_report(store, 999, tmp_path / "x")


def test_missing_matplotlib_is_a_config_error(runs, tmp_path, monkeypatch):
    store, ids = runs
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
                "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(ConfigError, match=r"pip install 'l2l-core\[report\]'"):
        write_report(store, ids["ga"], tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_maximised_single_objective_is_shown_in_its_units(tmp_path):
    class Gain(Optimizee):
        def space(self):
            return Space([Float("g", 0.0, 1.0)])

        def objectives(self):
            return Objectives(("gain",), ("max",))

        def evaluate(self, params, seed):
            return params["g"]

    store = Store(tmp_path / "max.db")
    run_id = Experiment(Gain(), build("optimizer", "random", population=8), store=store,
                        generations=2).run().run_id
    data = load_run(store, run_id)
    scale, label = data.loss_scale()
    assert scale == -1.0 and label == "gain (max)"
    page = write_report(store, run_id, tmp_path / "g").read_text()
    assert f"{data.best.evaluation.fitness[0]:.6g}" in page


def test_cli_report_and_compare(runs, tmp_path, capsys):
    from l2l.cli import main

    store, ids = runs
    assert main(["report", str(ids["ga"]), "--store", store.path, "-o", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.html").is_file()
    assert main(["compare", str(ids["ga"]), str(ids["random"]), "--store", store.path,
                 "-o", str(tmp_path / "c.png")]) == 0
    check_png(tmp_path / "c.png")
    assert "report written to" in capsys.readouterr().out


def test_categorical_with_list_choices(tmp_path):
    class Pairs(Optimizee):
        def space(self):
            return Space([Categorical("pair", [[1, 2], [3, 4]]), Int("n", 1, 3)])

        def evaluate(self, params, seed):
            return sum(params["pair"]) * params["n"]

    store = Store(tmp_path / "pairs.db")
    run_id = Experiment(Pairs(), build("optimizer", "random", population=12), store=store,
                        generations=3, seed=4).run().run_id
    data = load_run(store, run_id)
    assert [(a.label, b.label) for a, b in grid_axes(data)] == [("pair", "n")]
    page = write_report(store, run_id, tmp_path / "pairs").read_text()
    for name in ("param-pair.png", "param-n.png", "grid-pair-n.png"):
        assert name in images(page)


@pytest.mark.parametrize("generations", [1, 4])
def test_run_where_everything_failed(tmp_path, generations):
    class Broken(Optimizee):
        def space(self):
            return Space([Float("a", 0.0, 1.0)])

        def evaluate(self, params, seed):
            raise RuntimeError("simulator not found")

    store = Store(tmp_path / "broken.db")
    run_id = Experiment(Broken(), build("optimizer", "random", population=5), store=store,
                        generations=generations).run().run_id
    page = write_report(store, run_id, tmp_path / "b").read_text()
    assert "No successful evaluation." in page
    assert f"{5 * generations} of {5 * generations} evaluations failed" in page
    assert "RuntimeError: simulator not found" in page
    assert sorted(images(page)) == ["fitness.png", "param-a.png"]
