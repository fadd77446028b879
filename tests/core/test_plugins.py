"""Plugin discovery with throwaway distributions written to a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from l2l import ConfigError, PluginError, build
from l2l.plugins import NameClash, Plugins

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
    assert [(c.kind, c.name, c.plugins) for c in plugins.conflicts] == [
        ("optimizer", "ga", ("l2l-core", "l2l-other"))]
    assert str(plugins.conflicts[0]) == "optimizer 'ga' is registered by l2l-core, l2l-other"
    with pytest.raises(NameClash, match="several plugins"):
        plugins.get("optimizers", "ga")
    assert plugins.get("optimizers", "l2l-other:ga").__name__ == "OtherGA"
    assert plugins.get("optimizers", "l2l-core:ga").__name__ == "GeneticAlgorithm"
    assert plugins.qualified("optimizer", plugins.get("optimizer", "l2l-other:ga")) == "l2l-other:ga"


def test_get_takes_singular_and_plural_kinds_and_rejects_others(site):
    plugins = Plugins(strict=False)
    assert plugins.get("optimizee", "toy") is plugins.get("optimizees", "toy")
    assert plugins.get("executor", "serial") is plugins.get("executors", "l2l-core:serial")
    for wrong in ("optimiser", "optimizerss", "", "plugins"):
        with pytest.raises(ConfigError, match="unknown part kind"):
            plugins.get(wrong, "ga")
    with pytest.raises(ConfigError, match="unknown part kind"):
        build("model", "toy")


def _cli(site, *args, check=True):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    env.pop("L2L_STRICT_PLUGINS", None)
    proc = subprocess.run([sys.executable, "-m", "l2l", *args], env=env, capture_output=True,
                          text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_cli_list_plugins_json(site):
    write_dist(site, "l2l-other", "2.0", "conflictplug", CONFLICT)
    entries = {e["name"]: e for e in json.loads(_cli(site, "list-plugins", "--json").stdout)}
    for e in entries.values():
        assert set(e) == {"name", "version", "status", "error", "optimizers", "optimizees",
                          "executors", "hooks", "conflicts"}
    assert entries["l2l-good"]["status"] == "ok" and entries["l2l-good"]["error"] is None
    assert entries["l2l-good"]["hooks"] == ["l2l_register_optimizees", "l2l_register_optimizers"]
    assert entries["l2l-good"]["conflicts"] == []
    assert entries["l2l-broken"]["status"] == "failed"
    assert "not installed" in entries["l2l-broken"]["error"]
    core = entries["l2l-core"]
    assert {"ga", "random"} <= set(core["optimizers"]) and "function" in core["optimizees"]
    assert {"serial", "process"} <= set(core["executors"])
    assert core["hooks"] == ["l2l_register_executors", "l2l_register_optimizees",
                             "l2l_register_optimizers"]
    assert core["conflicts"] == [{"kind": "optimizer", "name": "ga", "with": ["l2l-other"]}]
    assert entries["l2l-other"]["conflicts"] == [{"kind": "optimizer", "name": "ga", "with": ["l2l-core"]}]
    table = _cli(site, "list-plugins").stdout
    assert "failed: ImportError: the simulator is not installed" in table
    assert "conflict: optimizer 'ga' is registered by l2l-core, l2l-other" in table


# -- runs record the plugin of each part, so a later name clash does not block resume ----------
RIVAL = GOOD.replace("registry.add(\"toy\", Toy)", "registry.add(\"toy\", Toy2)").replace(
    "class Rnd2(RandomSearch):", "class Toy2(Toy):\n    pass\n\nclass Rnd2(RandomSearch):")

RUN = """
[experiment]
name = "clash"
seed = 3
generations = 3
[optimizee]
name = "toy"
[optimizer]
name = "rnd2"
population = 4
[executor]
name = "serial"
"""


def _interrupted_run(site, tmp_path, old_store=False):
    """A run of toy/rnd2 (from l2l-good) cut back to its first generation, as after kill -9;
    ``old_store``: without the qualified names (as stores written before they were recorded)."""
    (tmp_path / "run.toml").write_text(RUN)
    db = tmp_path / "runs.db"
    _cli(site, "run", str(tmp_path / "run.toml"), "--store", str(db))
    with sqlite3.connect(db) as con:
        config = json.loads(con.execute("SELECT config FROM runs").fetchone()[0])
        assert config["plugins"] == {"optimizee": "l2l-good:toy", "optimizer": "l2l-good:rnd2",
                                     "executor": "l2l-core:serial"}
        assert config["optimizer"]["name"] == "rnd2"  # the table as written
        if old_store:
            del config["plugins"]
        con.execute("UPDATE runs SET status = 'interrupted', config = ?", (json.dumps(config),))
        con.execute("DELETE FROM evaluations WHERE generation > 0")
        con.execute("DELETE FROM checkpoints WHERE generation > 0")
    return db


def _recorded(db):
    with sqlite3.connect(db) as con:
        return json.loads(con.execute("SELECT config FROM runs").fetchone()[0]).get("plugins")


def test_a_run_resumes_after_another_plugin_registers_the_same_names(site, tmp_path):
    db = _interrupted_run(site, tmp_path)
    write_dist(site, "l2l-rival", "1.0", "rivalplug", RIVAL)
    assert "optimizee 'toy' is registered by l2l-good, l2l-rival" in _cli(site, "list-plugins").stdout
    done = _cli(site, "resume", "1", "--store", str(db))
    assert "run 1 finished: 3 generations, 12 evaluations" in done.stdout
    assert _recorded(db)["optimizee"] == "l2l-good:toy"


def test_an_older_run_with_a_clash_says_how_to_choose(site, tmp_path):
    db = _interrupted_run(site, tmp_path, old_store=True)
    write_dist(site, "l2l-rival", "1.0", "rivalplug", RIVAL)  # registers toy and rnd2 too
    refused = _cli(site, "resume", "1", "--store", str(db), check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert ("optimizee 'toy' is registered by several plugins (l2l-good, l2l-rival); optimizer "
            "'rnd2' is registered by several plugins (l2l-good, l2l-rival); choose: l2l resume 1 "
            "--optimizee {l2l-good|l2l-rival}:toy --optimizer {l2l-good|l2l-rival}:rnd2"
            ) in refused.stderr
    done = _cli(site, "resume", "1", "--store", str(db), "--optimizee", "l2l-good:toy",
                "--optimizer", "l2l-good:rnd2")
    assert "run 1 finished: 3 generations, 12 evaluations" in done.stdout
    assert _recorded(db) == {"optimizee": "l2l-good:toy", "optimizer": "l2l-good:rnd2",
                             "executor": "l2l-core:serial"}


def test_a_run_whose_plugin_is_gone_is_not_resumed_with_a_namesake(site, tmp_path):
    db = _interrupted_run(site, tmp_path)
    write_dist(site, "l2l-rival", "1.0", "rivalplug", RIVAL)
    shutil.rmtree(site / "l2l_good-1.2.dist-info")
    refused = _cli(site, "resume", "1", "--store", str(db), check=False)
    assert refused.returncode == 2, refused.stderr
    assert ("the run's optimizee 'toy' came from l2l-good, which is not installed or no longer "
            "registers it; l2l-rival registers 'toy'") in refused.stderr
    assert "choose: l2l resume 1 --optimizee {l2l-rival}:toy --optimizer {l2l-rival}:rnd2" in refused.stderr
