"""Plugin discovery with throwaway distributions written to a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from l2l import ConfigError, PluginError
from l2l.plugins import Plugins

GOOD = '''
from l2l import hookimpl, Optimizee, Space, Float
from l2l.optimizers.random_search import RandomSearch

class Toy(Optimizee):
    def __init__(self, scale: float = 1.0):
        self.scale = scale
    def space(self):
        return Space([Float("x", -1, 1)])
    def evaluate(self, params, seed):
        return self.scale * params["x"] ** 2

class Rnd2(RandomSearch):
    pass

@hookimpl
def l2l_register_optimizees(registry):
    registry.add("toy", Toy)

@hookimpl
def l2l_register_optimizers(registry):
    registry.add("rnd2", Rnd2)
'''

CONFLICT = '''
from l2l import hookimpl
from l2l.optimizers.random_search import RandomSearch

class OtherGA(RandomSearch):
    pass

@hookimpl
def l2l_register_optimizers(registry):
    registry.add("ga", OtherGA)
'''

BROKEN = "raise ImportError('the simulator is not installed')\n"

BAD_HOOK = '''
from l2l import hookimpl

@hookimpl
def l2l_register_executors(registry):
    raise RuntimeError("registration exploded")
'''


def write_dist(site, dist, version, module, source):
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[l2l]\n{dist} = {module}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    write_dist(site, "l2l-good", "1.2", "goodplug", GOOD)
    write_dist(site, "l2l-broken", "0.1", "brokenplug", BROKEN)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_discovery_reports_broken_plugins_and_keeps_the_rest(site):
    plugins = Plugins(strict=False)
    infos = {i.name: i for i in plugins.infos}
    assert infos["l2l-good"].status == "ok" and infos["l2l-good"].version == "1.2"
    assert infos["l2l-good"].optimizees == ["toy"] and infos["l2l-good"].optimizers == ["rnd2"]
    assert infos["l2l-broken"].status == "failed"
    assert "the simulator is not installed" in infos["l2l-broken"].error
    assert infos["l2l-core"].status == "ok" and "ga" in infos["l2l-core"].optimizers
    toy = plugins.get("optimizees", "toy")(scale=2.0)
    assert toy.evaluate({"x": 0.5}, 0) == 0.5
    with pytest.raises(ConfigError, match="failed to load: l2l-broken"):
        plugins.get("optimizees", "no-such-optimizee")


def test_strict_mode_turns_a_broken_plugin_into_an_error(site, monkeypatch):
    monkeypatch.setenv("L2L_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="l2l-broken"):
        Plugins()


def test_a_raising_registration_hook_is_reported(site):
    write_dist(site, "l2l-badhook", "0.3", "badhookplug", BAD_HOOK)
    infos = {i.name: i for i in Plugins(strict=False).infos}
    assert infos["l2l-badhook"].status == "failed"
    assert "registration exploded" in infos["l2l-badhook"].error
    assert infos["l2l-good"].status == "ok"


def test_name_conflicts_are_reported_not_resolved(site):
    write_dist(site, "l2l-other", "2.0", "conflictplug", CONFLICT)
    plugins = Plugins(strict=False)
    assert any("'ga'" in c and "l2l-core" in c and "l2l-other" in c for c in plugins.conflicts)
    with pytest.raises(ConfigError, match="several plugins"):
        plugins.get("optimizers", "ga")
    assert plugins.get("optimizers", "l2l-other:ga").__name__ == "OtherGA"
    assert plugins.get("optimizers", "l2l-core:ga").__name__ == "GeneticAlgorithm"


def test_cli_list_plugins_json(site):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "l2l", "list-plugins", "--json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    entries = {e["name"]: e for e in json.loads(out)}
    for e in entries.values():
        assert set(e) == {"name", "version", "status", "error", "optimizers", "optimizees", "executors"}
    assert entries["l2l-good"]["status"] == "ok" and entries["l2l-good"]["error"] is None
    assert entries["l2l-broken"]["status"] == "failed"
    assert "not installed" in entries["l2l-broken"]["error"]
    core = entries["l2l-core"]
    assert {"ga", "random"} <= set(core["optimizers"]) and "function" in core["optimizees"]
    assert {"serial", "process"} <= set(core["executors"])
    table = subprocess.run([sys.executable, "-m", "l2l", "list-plugins"], env=env,
                           capture_output=True, text=True, check=True).stdout
    assert "failed: ImportError: the simulator is not installed" in table
