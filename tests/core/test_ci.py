"""``.ci/run`` runs the README's two Quick-start commands as a new user would (a fresh copy, a
fresh HOME, PATH=/usr/bin:/bin, nothing else from the caller's environment) and fails when either
fails or when the tests passed nothing. Checked on a throwaway repository whose README's
commands are stand-ins."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSED = "printf 'nox > Running session core\\nnox > pytest -q tests/core\\n3 passed in 0.1s\\n'"


def ci(tmp_path: Path, *commands: str) -> tuple[int, str, Path]:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "README.md").write_text("# x\n\n## Quick start\n\n```bash\n# the commands\n"
                                    + "\n".join(commands) + "\n```\n\n## Other\n\n```bash\nls\n```\n")
    (repo / "marker.txt").write_text("copied")
    work = tmp_path / "ci"
    env = {**os.environ, "L2L_CI_DIR": str(work), "L2L_CALLER_ONLY": "1"}
    proc = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, proc.stderr, work


def test_both_commands_run_in_a_clean_environment_and_pass(tmp_path):
    probe = 'env > "$HOME/../env.txt"; test -f marker.txt && pwd > "$HOME/../cwd.txt"'
    rc, err, work = ci(tmp_path, f"true && {probe}", PASSED)
    assert rc == 0, err
    env = dict(line.split("=", 1) for line in (work / "env.txt").read_text().splitlines()
               if "=" in line)
    assert env["PATH"] == "/usr/bin:/bin" and env["HOME"] == str(work / "home")
    assert "L2L_CALLER_ONLY" not in env and "VIRTUAL_ENV" not in env
    assert (work / "cwd.txt").read_text().strip() == str(work / "l2l")  # a copy, not the repo
    assert "3 tests passed" in err and "CI passed" in err


@pytest.mark.parametrize("tests, message", [
    ("printf 'nox > Running session core\\nnox > pytest -q tests/core\\n4 skipped in 0.1s\\n'",
     "no test passed in session(s): core"),
    (PASSED + "; printf 'nox > Running session tvb\\nnox > pytest -q tests/tvb\\nno tests ran\\n'",
     "no test passed in session(s): tvb"),
    ("true", "no test passed at all"),
])
def test_a_run_without_tests_fails(tmp_path, tests, message):
    rc, err, _ = ci(tmp_path, "true", tests)
    assert rc != 0 and f"{message} — a run without tests is a failure" in err and "CI FAILED" in err


def test_a_failing_command_fails_ci(tmp_path):
    rc, err, _ = ci(tmp_path / "demo", "exit 3", PASSED)
    assert rc == 3 and "exit status 3" in err and err.count("== running") == 1  # tests not run
    rc, err, _ = ci(tmp_path / "tests", "true", "exit 4")
    assert rc == 4 and "CI FAILED" in err


def test_the_readme_must_hold_two_commands(tmp_path):
    rc, err, _ = ci(tmp_path, "true", PASSED, "true")
    assert rc == 1 and "exactly two commands" in err


def test_the_real_readme_gives_the_two_commands():
    out = subprocess.run(["awk", '/^## Quick start/ {q = 1; next} q && /^```bash/ {b = 1; next} '
                          'b && /^```/ {exit} b && NF && $1 !~ /^#/ {print}', str(ROOT / "README.md")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["python3 -m venv .venv && .venv/bin/pip install -q nox uv && .venv/bin/nox -s demo",
                   "python3 -m venv .venv && .venv/bin/pip install -q nox uv && .venv/bin/nox"]
