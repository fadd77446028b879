"""The bad-input table: every input a user can get wrong ends with one line naming the problem
and exit status 2, never a traceback; nothing is written into a file that is not ours, and
reading a store never creates or changes one."""

from __future__ import annotations

import ctypes
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from l2l.cli import main

GOOD = """
[experiment]
name = "bad-input"
seed = 3
generations = 2
[optimizee]
name = "function"
function = "sphere"
dimension = 2
[optimizer]
name = "ga"
population = 4
[executor]
name = "serial"
"""

#: (config text or bytes, extra CLI arguments, what the one line must say)
CONFIGS = [
    ("[experiment\nname = 1", [], "malformed TOML"),
    (GOOD.encode().replace(b"bad-input", b"bad-\xff\xfeinput"), [], "not UTF-8 text"),
    ("optimizee = 3\n" + GOOD.replace('[optimizee]\nname = "function"\nfunction = "sphere"\n'
                                       'dimension = 2', ""), [], "[optimizee] must be a table, got 3"),
    ("experiment = [1, 2]\n" + GOOD.replace('[experiment]\nname = "bad-input"\nseed = 3\n'
                                             "generations = 2\n", ""), [], "[experiment] must be a table"),
    (GOOD.replace("seed = 3", "seed = -1"), [], "seed must be between 0 and 2**63 - 1, got -1"),
    (GOOD, ["--seed", "-1"], "seed must be between 0 and 2**63 - 1, got -1"),
    (GOOD.replace("seed = 3", "seed = 9223372036854775808"), [], "seed must be between 0"),
    (GOOD.replace("seed = 3", 'seed = 3\ntarget = "abc"'), [], "target = 'abc' should be float"),
    (GOOD.replace("seed = 3", 'seed = 3\npatience = "x"'), [], "patience = 'x' should be int"),
    (GOOD.replace("seed = 3", "seed = 3\npatience = 0"), [], "patience must be at least 1, got 0"),
    (GOOD.replace("seed = 3", "seed = 3\nmax_seconds = -5"), [], "max_seconds must be positive, got -5"),
    (GOOD.replace("seed = 3", "seed = 3\nmax_evaluations = 0"), [], "max_evaluations must be at least 1"),
    (GOOD.replace("generations = 2", "generations = 0"), [], "generations must be at least 1"),
    (GOOD.replace("population = 4", "population = 4\nelite = 50"), [],
     "elite must not exceed the population (4), got 50"),
    (GOOD.replace('name = "function"\nfunction = "sphere"\ndimension = 2',
                  'name = "probe"\nfault = "nope"'), [], "optimizee 'probe' (l2l-probe): space() raised ValueError: unknown fault 'nope'"),
]


def one_line(capsys, code: int, message: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("l2l: error: ") and err.count("\n") == 1, err
    assert message in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("text, extra, message", CONFIGS, ids=[c[2][:40] for c in CONFIGS])
def test_bad_config_is_one_line_and_exit_2_and_creates_no_run(tmp_path, capsys, text, extra, message):
    config = tmp_path / "exp.toml"
    (config.write_bytes if isinstance(text, bytes) else config.write_text)(text)
    store = tmp_path / "runs.db"
    one_line(capsys, main(["run", str(config), "--store", str(store), *extra]), message)
    if store.exists():  # the store was opened first: it must hold no run
        assert main(["runs", "--store", str(store)]) == 0
        assert "no runs" in capsys.readouterr().out


@pytest.fixture
def finished(tmp_path):
    """A store with one finished run."""
    config = tmp_path / "exp.toml"
    config.write_text(GOOD)
    store = tmp_path / "runs.db"
    assert main(["run", str(config), "--store", str(store)]) == 0
    return store


def test_bad_paths_and_numbers_are_one_line(tmp_path, capsys, finished):
    capsys.readouterr()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [
        (["show", "99999999999999999999999", "--store", finished], "no run '99999999999999999999999'"),
        (["export", "1", "-o", tmp_path / "missing" / "dir" / "x.csv", "--store", finished],
         "output directory"),
        (["export", "1", "-o", tmp_path, "--store", finished], "is a directory"),
        (["report", "1", "-o", a_file, "--store", finished], "is an existing file, not a directory"),
        (["run", tmp_path / "exp.toml", "--report", a_file, "--store", finished],
         "is an existing file, not a directory"),
        (["new-plugin", "thing", "--dir", a_file], "is an existing file, not a directory"),
        (["runs", "--store", ""], "the store path is empty"),
        (["run", tmp_path / "exp.toml", "--store", ""], "the store path is empty"),
        (["show", "1", "--store", tmp_path / "nosuch.db"], "nosuch.db does not exist"),
        (["runs", "--store", tmp_path], "is a directory"),
    ]
    for args, message in cases:
        one_line(capsys, main([str(a) for a in args]), message)
    assert not (tmp_path / "nosuch.db").exists()
    assert main(["runs", "--store", str(finished)]) == 0
    assert capsys.readouterr().out.count("finished") == 1  # `run --report a-file` ran nothing


def _foreign(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE runs (id INTEGER PRIMARY KEY, title TEXT);"
                      "CREATE TABLE notes (body TEXT); INSERT INTO runs (title) VALUES ('mine');")
    con.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("make, message", [
    (_foreign, "is not an l2l store (another application's SQLite database: tables notes, runs)"),
    (lambda p: p.write_text("name,value\na,1\n"), "is not an l2l store (not an SQLite database)"),
])
def test_a_file_that_is_not_ours_is_never_written(tmp_path, capsys, make, message):
    config = tmp_path / "exp.toml"
    config.write_text(GOOD)
    store = tmp_path / "theirs.db"
    make(store)
    before, mtime = _digest(store), store.stat().st_mtime_ns
    for args in (["run", config], ["runs"], ["show", "1"], ["export", "1"], ["resume", "1"],
                 ["report", "1", "-o", tmp_path / "r"]):
        one_line(capsys, main([*map(str, args), "--store", str(store)]), message)
    assert _digest(store) == before and store.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml", "theirs.db"]


def test_a_store_from_a_newer_l2l_is_refused(tmp_path, capsys, finished):
    capsys.readouterr()
    con = sqlite3.connect(finished)
    con.execute("PRAGMA user_version = 99")
    con.close()
    one_line(capsys, main(["runs", "--store", str(finished)]), "written by a newer l2l (schema 99")


def _unprivileged():
    """For a child process: drop root's power to ignore file permissions (so that a read-only
    file or directory is read-only for it too)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH: out of the bounding set
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def l2l_unprivileged(*args, cwd):
    return subprocess.run([sys.executable, "-m", "l2l", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, preexec_fn=_unprivileged, timeout=120)


def test_reading_works_on_a_read_only_store_in_a_read_only_directory(tmp_path, finished):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    store = shelf / "runs.db"
    store.write_bytes(finished.read_bytes())  # a closed WAL store: no -wal/-shm next to it
    store.chmod(0o444)
    shelf.chmod(0o555)
    try:
        before = _digest(store)
        listing = l2l_unprivileged("runs", "--store", store, cwd=tmp_path)
        assert listing.returncode == 0 and "bad-input" in listing.stdout, listing.stderr
        shown = l2l_unprivileged("show", "1", "--store", store, cwd=tmp_path)
        assert shown.returncode == 0 and "overall best" in shown.stdout, shown.stderr
        exported = l2l_unprivileged("export", "1", "--store", store, cwd=tmp_path)
        assert exported.returncode == 0 and exported.stdout.count("\n") == 9, exported.stderr
        refused = l2l_unprivileged("run", tmp_path / "exp.toml", "--store", store, cwd=tmp_path)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
        assert "is read-only" in refused.stderr and "Traceback" not in refused.stderr
        assert _digest(store) == before and sorted(os.listdir(shelf)) == ["runs.db"]
    finally:
        shelf.chmod(0o755)
        store.chmod(0o644)


def test_list_plugins_survives_a_plugin_that_exits_at_import(tmp_path):
    """A distribution whose plugin module calls sys.exit() at import is reported as failed."""
    (tmp_path / "exiting_plugin.py").write_text("import sys\nsys.exit(3)\n")
    info = tmp_path / "exiting_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: exiting-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[l2l]\nexiting = exiting_plugin\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    res = subprocess.run([sys.executable, "-m", "l2l", "list-plugins"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "exiting-plugin" in res.stdout and "failed: SystemExit raised while importing" in res.stdout
    run = subprocess.run([sys.executable, "-m", "l2l", "runs", "--store", tmp_path / "none.db"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2 and "does not exist" in run.stderr  # l2l itself still works
