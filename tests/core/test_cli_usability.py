"""Small things a new user meets on the command line: --workers where it has no meaning,
generation numbers that agree between progress lines, show, exports and hooks."""

from __future__ import annotations

import io

import pytest

from l2l import Evaluation, Individual, Objectives
from l2l.cli import main
from l2l.progress import ProgressDisplay

CONFIG = """
[experiment]
generations = 2
[optimizee]
name = "function"
dimension = 2
[optimizer]
name = "random"
population = 4
[executor]
name = "{executor}"
"""


@pytest.mark.parametrize("executor, args", [("process", ["--executor", "serial", "--workers", "2"]),
                                            ("serial", ["--workers", "2"])])
def test_workers_with_the_serial_executor_is_one_line(tmp_path, capsys, executor, args):
    (tmp_path / "exp.toml").write_text(CONFIG.format(executor=executor))
    assert main(["run", str(tmp_path / "exp.toml"), "--store", str(tmp_path / "r.db"), *args]) == 2
    err = capsys.readouterr().err
    assert err == ("l2l: error: --workers: the 'serial' executor has no workers (it takes batch, "
                   "timeout); drop --workers, or pick an executor that has them, e.g. "
                   "--executor process\n")


def test_workers_are_applied_where_they_exist(tmp_path, capsys):
    (tmp_path / "exp.toml").write_text(CONFIG.format(executor="serial"))
    db = tmp_path / "r.db"
    assert main(["run", str(tmp_path / "exp.toml"), "--store", str(db),
                 "--executor", "process", "--workers", "1"]) == 0
    assert main(["show", "1", "--store", str(db)]) == 0
    assert "executor process" in capsys.readouterr().out


def test_progress_numbers_generations_like_show_and_the_hooks():
    out = io.StringIO()
    progress = ProgressDisplay(3, Objectives(), stream=out, live=False)
    ev = Evaluation(fitness=(1.5,))
    progress.generation(0, [Individual(0, 0, {"x": 1.0}, 1, ev)], 1.5, 0.01)
    progress.generation(2, [Individual(2, 0, {"x": 1.0}, 1, ev)], 1.5, 0.01)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("generation 0 (1 of 3): 1 evaluations, 0 failed, best")
    assert lines[1].startswith("generation 2 (3 of 3): ")
