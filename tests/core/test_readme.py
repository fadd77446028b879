"""The README's commands and Python example are what the code does."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from l2l.cli import make_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def block_after(heading: str, lang: str) -> str:
    """The first fenced ``lang`` block after the line ``heading``."""
    rest = README[README.index(heading):]
    match = re.search(rf"```{lang}\n(.*?)```", rest, re.S)
    assert match, f"no {lang} block after {heading!r}"
    return match.group(1)


def subcommands() -> dict[str, list[set[str]]]:
    """Each subcommand and its options (each a set of aliases, without -h)."""
    sub = next(a for a in make_parser()._actions if a.dest == "command")
    return {name: [set(a.option_strings) for a in p._actions
                   if a.option_strings and a.option_strings[0] not in ("-h", "--help")]
            for name, p in sub.choices.items()}


def test_the_usage_block_lists_every_command_and_option():
    usage = block_after("## Running experiments", "bash")
    lines: dict[str, str] = {}
    current = None
    for line in usage.splitlines():
        text = line.split("  #")[0]
        if text.startswith("l2l "):
            current = text.split()[1]
            lines[current] = text
        elif current and text.strip():  # a continuation line
            lines[current] += " " + text.strip()
    commands = subcommands()
    assert set(lines) == set(commands)
    for name, options in commands.items():
        shown = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", lines[name]))
        missing = [sorted(o) for o in options if not o & shown]
        unknown = shown - set().union(*options)
        assert not missing and not unknown, (f"README usage of 'l2l {name}': lacks {missing}, "
                                             f"shows unknown {sorted(unknown)}")


@pytest.mark.timeout(240)
def test_the_python_example_runs_saved_as_a_script(tmp_path):
    code = block_after("The same from Python", "python")
    (tmp_path / "example.py").write_text(code.replace("generations=100", "generations=5"))
    proc = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.match(r"\(\d", proc.stdout) and "'x': array(" in proc.stdout
    assert (tmp_path / "l2l-runs.db").is_file()


@pytest.mark.timeout(240)
def test_without_the_main_guard_the_error_names_it(tmp_path):
    code = block_after("The same from Python", "python")
    body = code[code.index("def main() -> None:\n") + len("def main() -> None:\n"):
                code.index('if __name__ == "__main__":')]
    unguarded = code[:code.index("def main()")] + textwrap.dedent(body)
    # ga instead of cmaes: each worker runs the script up to the optimizer's start (cma imports
    # scipy where it is installed, seconds per process)
    unguarded = unguarded.replace("generations=100", "generations=2").replace('"cmaes"', '"ga"')
    (tmp_path / "unguarded.py").write_text(unguarded)
    proc = subprocess.run([sys.executable, "unguarded.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=200)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("l2l.errors.ExecutorError: a worker process exited (exit code 1) "
                           "before it started: with start_method 'forkserver' each worker "
                           f"imports the main module ({tmp_path / 'unguarded.py'}) again"), last
    assert "under 'if __name__ == \"__main__\":'" in last
