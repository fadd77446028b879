"""The command line: runs, listings, exports and one-line errors with exit status 2."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from l2l.cli import main

GOOD = """
[experiment]
name = "cli-ga"
seed = 3
generations = 4
[optimizee]
name = "function"
function = "sphere"
dimension = 3
[optimizer]
name = "ga"
population = 8
[executor]
name = "serial"
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(GOOD)
    return path


def l2l(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "l2l", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_run_show_runs_export(tmp_path, config, capsys):
    db = tmp_path / "runs.db"
    assert main(["run", str(config), "--store", str(db)]) == 0
    out = capsys.readouterr()
    assert "run 1 finished: 4 generations, 32 evaluations" in out.out
    # plain log lines off a terminal, generations numbered from 0 like show/export/hooks
    assert "generation 3 (4 of 4): 8 evaluations, 0 failed" in out.err
    assert main(["run", str(config), "--store", str(db), "--seed", "9", "--generations", "2"]) == 0
    capsys.readouterr()
    assert main(["runs", "--store", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "cli-ga" in listing and "finished" in listing and "32" in listing and "16" in listing
    assert main(["show", "cli-ga", "--store", str(db)]) == 0  # newest run of that name
    shown = capsys.readouterr().out
    assert "run 2 'cli-ga': finished, seed 9, 2 generations" in shown and "overall best" in shown
    assert main(["export", "1", "--store", str(db), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) == 32 and {"x[0]", "x[1]", "x[2]", "fitness", "status"} <= set(table[0])
    out_json = tmp_path / "e.json"
    assert main(["export", "1", "--store", str(db), "--format", "json", "-o", str(out_json)]) == 0
    data = json.loads(out_json.read_text())
    assert len(data["evaluations"]) == 32 and len(data["evaluations"][0]["params"]["x"]) == 3


def test_executor_and_workers_overrides(tmp_path, config, capsys):
    db = tmp_path / "runs.db"
    assert main(["run", str(config), "--store", str(db), "--executor", "process", "--workers", "2"]) == 0
    capsys.readouterr()
    assert main(["show", "1", "--store", str(db)]) == 0
    assert "executor process" in capsys.readouterr().out


BAD_INPUTS = [
    ("[experiment\nname = 1", "malformed TOML"),
    (GOOD.replace('name = "ga"', 'name = "nope"'), "unknown optimizer 'nope'"),
    (GOOD.replace("population = 8", "populaton = 8"), "unknown key(s) 'populaton'"),
    (GOOD.replace("population = 8", 'population = "eight"'), "population = 'eight' should be int"),
    (GOOD.replace("dimension = 3", "dimension = 3\nbound = -1.0"), "above upper bound"),
    (GOOD.replace('function = "sphere"', 'function = "nope"'), "unknown function 'nope'"),
    (GOOD.replace("generations = 4", "generations = 4\ncolour = 1"), "[experiment]: unknown key(s) 'colour'"),
    (GOOD + "\n[extra]\na = 1\n", "unknown table(s) 'extra'"),
    (GOOD.replace('[executor]\nname = "serial"', '[executor]\nname = "process"\nworkers = 0'), "workers must be at least 1"),
]


@pytest.mark.parametrize("text, message", BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    res = l2l("run", path, "--store", tmp_path / "r.db")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("l2l: error: ")
    assert message in res.stderr and "Traceback" not in res.stderr


def test_other_errors_are_one_line_too(tmp_path):
    for args, message in [(("run", tmp_path / "missing.toml"), "does not exist"),
                          (("show", "42", "--store", tmp_path / "r.db"), "r.db does not exist"),
                          (("frobnicate",), "invalid choice"),
                          (("run",), "required"),
                          (("run", "x.toml", "--store", tmp_path / "no" / "dir.db"), "does not exist")]:
        res = l2l(*args, cwd=tmp_path)
        assert res.returncode == 2, args
        assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr


def test_debug_shows_the_traceback(tmp_path):
    res = l2l("--debug", "run", tmp_path / "missing.toml")
    assert res.returncode == 2 and "Traceback" in res.stderr


def test_a_bad_config_creates_no_run(tmp_path, config):
    db = tmp_path / "r.db"
    res = l2l("run", config, "--store", db, "--executor", "process", "--workers", "0")
    assert res.returncode == 2
    assert "no runs" in l2l("runs", "--store", db).stdout
