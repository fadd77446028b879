"""The README's "Measured" table is exactly the one generated from the committed bench results
(``bench/results/*.summary.json``), so the front page cannot drift from what the benches
printed. Rebuild it with ``python bench/run_all.py --table-only``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_summary():
    spec = importlib.util.spec_from_file_location("bench_summary", ROOT / "bench" / "summary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_generated_from_the_results():
    summary = bench_summary()
    block = summary.readme_block(ROOT / "README.md")
    assert block is not None, "README.md lacks the generated 'Measured' block"
    assert block == summary.render(summary.read_all()), (
        "README.md's Measured table differs from bench/results/*.summary.json: "
        "run python bench/run_all.py --table-only")


def test_every_summary_row_names_its_figures():
    summaries = bench_summary().read_all()
    assert summaries, "no bench summary in bench/results/"
    for s in summaries:
        assert s["command"].startswith("python bench/"), s["command"]
        assert s["machine"].strip(), f"{s['bench']}: no machine line"
        for row in s["rows"]:
            assert row["what"] and row["l2l"] and row["reference"], row


def test_render_puts_each_row_with_its_machine_and_command(tmp_path):
    summary = bench_summary()
    line = ("Machine: Some CPU, 2 cores at 2.00 GHz (AVX2+FMA); float64 peak estimate 64 GFLOP/s "
            "(cores x GHz x FMA lanes x 2), measured matrix product 20 GFLOP/s; memory bandwidth "
            "(numpy triad) 14.9 GB/s; load average 0.3 before, 1.2 after (1-minute, 2 cores); "
            "free cores (busy probe) 1.98 before, 1.95 after.")
    s = {"bench": "x", "command": "python bench/x.py", "machine": line,
         "rows": [{"what": "a | b", "l2l": "1 ms", "reference": "goal < 2 ms"}]}
    table = summary.render([s])
    assert "| a \\| b | 1 ms | goal < 2 ms | Some CPU, 2 cores, 14.9 GB/s, load 0.3→1.2, free cores " \
           "1.98→1.95 | `python bench/x.py` |" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"# t\n\n{summary.START}\nold\n{summary.END}\n\nrest\n")
    summary.RESULTS = tmp_path  # read the summaries from here
    (tmp_path / "x.summary.json").write_text(json.dumps(s))
    assert summary.update_readme(readme) is True
    assert readme.read_text() == f"# t\n\n{table}\n\nrest\n"
    assert summary.update_readme(readme) is False
