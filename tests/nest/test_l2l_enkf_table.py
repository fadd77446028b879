"""The README's learning-to-learn table script (``examples/l2l_enkf_table.py``) on a tiny
two-loop run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from l2l import Store
from l2l.cli import main
from l2l.validation import load_rounds

SCRIPT = Path(__file__).resolve().parents[2] / "plugins/l2l-nest/examples/l2l_enkf_table.py"


def test_the_table_compares_learned_and_defaults_on_the_same_fresh_inner_seeds(tiny_reservoir,
                                                                               tmp_path):
    inner = "\n".join(f"{k} = {v!r}" for k, v in tiny_reservoir.items())
    config = tmp_path / "l2l.toml"
    config.write_text(f"""
[experiment]
name = "tiny-l2l"
seed = 3
generations = 1
repeats = 2
[optimizee]
name = "meta"
budget = 40
[optimizee.optimizee]
name = "nest-reservoir"
mse_weight = 0.0
{inner}
[optimizee.optimizer]
name = "enkf"
[optimizee.space]
"optimizer.gamma" = {{ low = 0.001, high = 4.0 }}
"optimizer.population" = {{ type = "int", low = 10, high = 20 }}
[optimizer]
name = "random"
population = 2
[executor]
name = "serial"
""")
    db = str(tmp_path / "l2l.db")
    assert main(["run", str(config), "--store", db]) == 0
    out = subprocess.run([sys.executable, str(SCRIPT), db, "--run", "tiny-l2l", "--seeds", "2",
                          "--workers", "1"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    defaults = next(line for line in lines if line.startswith("| defaults |"))
    learned = next(line for line in lines if line.startswith("| learned (outer GA's best) |"))
    # the EnKF's constructor defaults; inner evaluations = population × (40 // population)
    assert "optimizer.gamma = 0.01, optimizer.population = 32 | 32 |" in defaults
    population = int(learned.split("optimizer.population = ")[1].split()[0])
    assert f"| {population * (40 // population)} |" in learned
    assert defaults.count("%") == learned.count("%") == 2
    assert sum("learned − defaults (paired over 2 inner seeds)" in line for line in lines) == 2
    with Store(db) as store:
        (vr,) = load_rounds(store, 1)
    assert vr.repeats == 2 and [c.baseline for c in vr.candidates] == [None, "defaults"]
    assert all(c.scores["test"].count == 2 for c in vr.candidates)
