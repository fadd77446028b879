"""The rows a bench contributes to the README's "Measured" table.

Each bench writes ``bench/results/<bench>.md`` (its full table) and, through :func:`write`,
``bench/results/<bench>.summary.json``: the headline rows, the command that produced them and
the machine they were measured on. ``bench/run_all.py`` builds the README table from these
files only, so the front page cannot drift from what the scripts printed.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write(bench: str, command: str, machine: str, rows: list[dict[str, str]]) -> Path:
    """Write the summary of ``bench``. ``rows``: dicts with ``what`` (the measured quantity),
    ``l2l`` (our figure) and ``reference`` (the peer's figure measured in the same run, a goal,
    or a figure labelled as quoted with its source). ``machine``: one line (CPU, cores,
    bandwidth, load), e.g. the first line of :meth:`machine.Machine.markdown`."""
    for row in rows:
        missing = {"what", "l2l", "reference"} - set(row)
        if missing:
            raise ValueError(f"summary row {row!r} lacks {sorted(missing)}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{bench}.summary.json"
    path.write_text(json.dumps({"bench": bench, "command": command, "machine": machine,
                                "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    return path


def read_all() -> list[dict]:
    """Every bench's summary, in file-name order."""
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.summary.json"))]
