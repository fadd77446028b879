"""The walkthroughs of docs/plugin-authors.md are real code: the guide shows the files of
docs/examples/ verbatim, and each passes the conformance checks and runs."""

from __future__ import annotations

import csv
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from l2l import ConfigError, Experiment, Store, build, builtins
from l2l.executors.serial import SerialExecutor
from l2l.plugins import Plugins
from l2l.scaffold import new_plugin
from l2l.testing import check_executor, check_optimizee, check_optimizer

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "plugin-authors.md").read_text(encoding="utf-8")
EXAMPLES = ROOT / "docs" / "examples"
sys.path.insert(0, str(EXAMPLES))  # importable by worker processes too (they inherit sys.path)

from differential_evolution import DifferentialEvolution  # noqa: E402
from membrane import PassiveMembrane  # noqa: E402
from pool_executor import PoolExecutor  # noqa: E402

SHOWN = re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", GUIDE, re.S)


def test_the_guide_shows_each_example_file_verbatim():
    assert {path for path, _ in SHOWN} == {f"docs/examples/{p.name}" for p in EXAMPLES.glob("*.py")}
    for path, code in SHOWN:
        assert code == (ROOT / path).read_text(encoding="utf-8"), (
            f"docs/plugin-authors.md shows another version of {path}: copy the file into the guide")


def test_the_guide_lists_every_conformance_rule():
    sources = "".join(p.read_text() for p in (ROOT / "core/src/l2l/testing").glob("*.py"))
    rules = set(re.findall(r'f?"([a-z]+(?:-[a-z]+)+): ', sources))
    assert {"smallest-population", "population-below-minimum", "setup-failure-stops-the-run"} <= rules
    missing = sorted(r for r in rules if f"`{r}`" not in GUIDE)
    assert not missing, f"docs/plugin-authors.md does not list the rules {missing}"


# -- the optimizer: differential evolution -----------------------------------------------------
def test_de_passes_check_optimizer():
    check_optimizer(DifferentialEvolution)  # the smallest population it declares: 4
    check_optimizer(DifferentialEvolution, population=12, cr=0.5)


def test_de_converges_on_the_sphere():
    run = Experiment(build("optimizee", "function", function="sphere", dimension=4),
                     DifferentialEvolution(population=16), generations=60, seed=1).run()
    assert run.history[-1] < 1e-3 * run.history[0]


def test_de_refuses_bad_settings_in_one_line():
    sphere = build("optimizee", "function", function="sphere", dimension=2)
    with pytest.raises(ConfigError, match="population must be at least 4, got 3"):
        Experiment(sphere, DifferentialEvolution(population=3)).run()
    with pytest.raises(ConfigError, match="de: need 0 < f <= 2"):
        Experiment(sphere, DifferentialEvolution(f=3.0)).run()


# -- the optimizee: a passive membrane ---------------------------------------------------------
def test_membrane_passes_check_optimizee():
    check_optimizee(PassiveMembrane())
    check_optimizee(PassiveMembrane(noise=0.5, current=0.2))


def test_membrane_is_fitted_and_validated():
    run = Experiment(PassiveMembrane(noise=0.1), DifferentialEvolution(population=12),
                     generations=30, seed=2).run()
    assert run.best_params["tau_m"] == pytest.approx(20.0, rel=0.05)
    assert run.best_params["r_in"] == pytest.approx(150.0, rel=0.05)
    membrane = PassiveMembrane(noise=0.1)
    membrane.setup()
    held_out = membrane.validate(run.best_params, seed=5)
    assert held_out.ok and held_out.fitness[0] < 0.2  # about the noise: the fit generalises


def test_membrane_batch_path_follows_min_batch():
    from l2l import Task
    from l2l.executor import run_tasks, uses_batch

    membrane = PassiveMembrane()
    tasks = [Task(i, {"tau_m": 10.0 + i, "r_in": 100.0}, i) for i in range(10)]
    assert not uses_batch(membrane, tasks[:PassiveMembrane.min_batch - 1])
    assert uses_batch(membrane, tasks[:PassiveMembrane.min_batch])
    membrane.setup()
    assert [e.fitness for e in run_tasks(membrane, tasks[:3])] == \
        [e.fitness for e in run_tasks(membrane, tasks[:3], batch=True)]


def test_membrane_settings_are_checked_in_space():
    with pytest.raises(ConfigError, match="need 0 < dt < duration"):
        Experiment(PassiveMembrane(dt=0.0), build("optimizer", "random")).run()


# -- the executor: a process pool --------------------------------------------------------------
@pytest.mark.timeout(300)
def test_pool_executor_passes_check_executor():
    check_executor(PoolExecutor, workers=2)


@pytest.mark.timeout(300)
def test_pool_executor_gives_the_serial_run():
    def run(executor):
        return Experiment(PassiveMembrane(noise=0.3), DifferentialEvolution(population=8),
                          executor, generations=3, seed=4).run().history

    assert run(PoolExecutor(workers=2)) == run(SerialExecutor())


# -- the worked example: hooks of the scaffolded LIF plugin -------------------------------------
@pytest.mark.timeout(300)
def test_worked_example_writes_its_csv_next_to_the_store_and_its_figure(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from l2l.report import write_report

    package = new_plugin("lif", tmp_path / "pkg")
    shutil.copy(EXAMPLES / "lif_plugin.py", package / "src" / "l2l_lif" / "plugin.py")
    monkeypatch.syspath_prepend(str(package / "src"))
    import l2l_lif.plugin as hooks
    from l2l_lif.optimizee import LIFRate

    plugins = Plugins(discover=False)
    plugins.register(builtins, "l2l-core")
    plugins.register(hooks, "l2l-lif")
    (tmp_path / "runs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    store = Store(tmp_path / "runs" / "lif.db")
    run = Experiment(plugins.get("optimizee", "lif")(), build("optimizer", "ga", population=8),
                     store=store, generations=3, seed=1, plugins=plugins).run()
    assert isinstance(plugins.get("optimizee", "l2l-lif:lif")(), LIFRate)
    rows = list(csv.reader((tmp_path / "runs" / f"lif-progress-{run.run_id}.csv").open()))
    assert [int(r[0]) for r in rows] == [0, 1, 2]
    assert np.allclose([float(r[1]) for r in rows], run.history)
    assert not list((tmp_path / "elsewhere").iterdir())
    page = write_report(store, run.run_id, tmp_path / "report", plugins=plugins)
    assert (tmp_path / "report" / "optimizee" / "lif-fi-curve.png").is_file()
    assert "lif-fi-curve.png" in page.read_text()
