"""The registered optimizees: engine choice, errors a user can cause, an optimization, the
report figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from l2l import (ConfigError, Evaluation, Experiment, Individual, build, experiment_from_config,
                 get_plugins, load_config)
from l2l_netlogo import AntColony, NetLogoModel, hand_wired, render_colony
from l2l_netlogo.engine import PythonEngine
from l2l.testing import check_optimizee
from l2l.testing.optimizee import check_constructor
from l2l_netlogo.workspace import netlogo_literal, netlogo_seed


@pytest.fixture
def no_netlogo(monkeypatch):
    monkeypatch.delenv("NETLOGO_HOME", raising=False)


def test_both_optimizees_are_registered():
    assert isinstance(build("optimizee", "netlogo-ants"), AntColony)
    model = build("optimizee", "netlogo-model", model="m.nlogo", reporters=["count turtles"],
                  parameters={"rate": {"low": 0, "high": 1}})
    assert isinstance(model, NetLogoModel)


def test_optimizees_follow_the_contract(no_netlogo):
    check_optimizee(AntColony(engine="python", ticks=40, fitness=["food", "first_delivery"]))
    check_constructor(NetLogoModel(model="m.nlogo", reporters={"n": "count turtles"},
                                   parameters={"rate": {"low": 0, "high": 1}}))


def test_example_config_is_the_reference_experiment():
    path = Path(__file__).parents[2] / "plugins" / "l2l-netlogo" / "examples" / "ants-ga.toml"
    exp = experiment_from_config(load_config(path))
    assert isinstance(exp.optimizee, AntColony) and exp.optimizee.rules().n_ants == 15
    assert exp.optimizee.space().dim == 500 and exp.optimizer.population == 32


@pytest.mark.parametrize("name,ants", [("ants-shaped.toml", 15), ("ants-small-shaped.toml", 5)])
def test_shaped_examples_train_the_weights_on_the_shaped_objective(name, ants):
    path = Path(__file__).parents[2] / "plugins" / "l2l-netlogo" / "examples" / name
    exp = experiment_from_config(load_config(path))
    colony = exp.optimizee
    assert isinstance(colony, AntColony) and colony.rules().n_ants == ants
    assert colony.space().dim == 250 and colony.objectives().names == ("shaped",)
    assert exp.optimizer.population == 32 and set(colony.baselines()["hand-wired"]) == {"weights"}


def test_auto_engine_falls_back_to_python_without_netlogo(no_netlogo):
    colony = AntColony(ticks=30)
    assert isinstance(colony.make_engine(), PythonEngine)
    assert colony.evaluate(hand_wired(), 0).info["engine"] == "python"


def test_asking_for_netlogo_without_it_is_a_clear_error(no_netlogo, tmp_path):
    with pytest.raises(ConfigError, match="NetLogo not found .*NETLOGO_HOME is not set"):
        AntColony(engine="netlogo").setup()
    with pytest.raises(ConfigError, match="no NetLogo installation at"):
        AntColony(engine="netlogo", netlogo_home=str(tmp_path)).setup()
    # through the loop it fails before any evaluation, in one line
    with pytest.raises(ConfigError) as err:
        Experiment(AntColony(engine="netlogo", ticks=10), build("optimizer", "ga", population=4),
                   generations=1).run()
    assert "\n" not in str(err.value)


def test_netlogo_model_without_netlogo_is_a_clear_error(no_netlogo, tmp_path):
    model = NetLogoModel(model=str(tmp_path / "m.nlogo"), reporters=["count turtles"],
                         parameters={"rate": {"low": 0, "high": 1}})
    with pytest.raises(ConfigError, match="netlogo-model: NetLogo not found"):
        model.setup()


def test_bad_configurations_are_config_errors():
    with pytest.raises(ConfigError, match="unknown engine"):
        AntColony(engine="java").make_engine()
    with pytest.raises(ConfigError, match="unknown objective"):
        AntColony(fitness=["speed"]).objectives()
    with pytest.raises(ConfigError, match="world_size"):
        AntColony(world_size=40).space()
    with pytest.raises(ConfigError, match="no reporters"):
        NetLogoModel(model="m.nlogo", parameters={"a": {"low": 0, "high": 1}}).objectives()
    with pytest.raises(ConfigError, match="2 reporters but 1 directions"):
        NetLogoModel(model="m.nlogo", reporters={"a": "count turtles", "b": "ticks"},
                     directions=["max"]).objectives()
    with pytest.raises(ConfigError, match="no parameters"):
        NetLogoModel(model="m.nlogo", reporters=["ticks"]).space()


def test_values_are_written_as_netlogo_literals():
    assert netlogo_literal(np.array([1.5, -2.0])) == "[1.5 -2.0]"
    assert netlogo_literal([np.int64(3), True, "a\"b"]) == '[3 true "a\\"b"]'
    assert 0 <= netlogo_seed(2**63 + 5) < 2**31


def test_a_short_ga_run_improves_the_colony():
    colony = AntColony(engine="python", ticks=120)
    result = Experiment(colony, build("optimizer", "ga", population=16), seed=3,
                        generations=4).run()
    first, last = result.history[0], result.history[-1]
    assert last < first  # losses: the best food count went up
    assert result.best_fitness[0] > 5
    assert result.best.evaluation.info["engine"] == "python"


def test_render_and_report_hook_write_a_png(tmp_path):
    colony = AntColony(engine="python", ticks=60)
    path = render_colony(colony, hand_wired(), 2, tmp_path / "world.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    best = Individual(0, 0, hand_wired(), 2, Evaluation(fitness=(1.0,)))
    hook = get_plugins().hook.l2l_report_figures
    out = [p for paths in hook(optimizee_name="netlogo-ants", optimizee=colony, best=best,
                               outdir=tmp_path / "report") if paths for p in paths]
    assert [Path(p).name for p in out] == ["ant_colony_world.png"] and Path(out[0]).is_file()
    others = hook(optimizee_name="function", optimizee=None, best=best, outdir=tmp_path)
    assert all(r is None or not any("ant_colony" in str(p) for p in r) for r in others)
