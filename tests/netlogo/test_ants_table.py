"""The README's ant table script (``examples/ants_table.py``) on a tiny run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from l2l import Store
from l2l.cli import main
from l2l.validation import load_rounds

SCRIPT = Path(__file__).resolve().parents[2] / "plugins/l2l-netlogo/examples/ants_table.py"

CONFIG = """
[experiment]
name = "tiny-ants"
seed = 1
generations = 2
repeats = 2
reevaluate = 1
[optimizee]
name = "netlogo-ants"
engine = "python"
n_ants = 3
world_size = 21
ticks = 60
fitness = ["food"]
[optimizer]
name = "ga"
population = 4
[executor]
name = "serial"
"""


def table_rows(text: str) -> dict[str, list[str]]:
    return {cells[0]: cells[1:] for line in text.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}


def table(db: str) -> str:
    out = subprocess.run([sys.executable, str(SCRIPT), db, "--run", "tiny-ants", "--worlds", "3",
                          "--random", "2", "--points", "2", "--fewer-ants", "1", "--workers", "1",
                          "--behaviour"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_table_validates_once_and_prints_baselines_curve_and_fewer_ants(tmp_path):
    config = tmp_path / "ants.toml"
    config.write_text(CONFIG)
    db = str(tmp_path / "ants.db")
    assert main(["run", str(config), "--store", db]) == 0
    text = table(db)
    assert "n_ants 3, world_size 21, ticks 60; ga population 4, repeats 2, reevaluate 1" in text
    assert "food, mean ± SE over 3 fresh worlds" in text
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    assert any(k.startswith("optimized (run's best") for k in rows)
    assert "hand-wired (`hand_wired()`)" in rows and "random networks (2, one world each)" in rows
    lines = text.splitlines()
    # learning curve: generation, cumulative evaluations (4 × 2 repeats, then + 2 re-evaluations)
    assert any(line.startswith("| 0 | 8 | ") for line in lines)
    assert any(line.startswith("| 1 | 18 | ") for line in lines)
    fewer = [line for line in lines[lines.index("| ants | optimized | per ant | hand-wired | "
                                                "per ant |"):] if line.startswith("| 1 | ")]
    assert len(fewer) == 1 and fewer[0].count("|") == 6
    assert "reaches the hand-wired controller's mean" in text
    assert "Optimized − hand-wired: " in text and " SE, the SEs combined" in text
    forage = table_rows(text[text.index("How they forage"):])
    assert set(forage) >= {"optimized", "hand-wired"} and len(forage["hand-wired"]) == 5
    assert float(forage["hand-wired"][0]) > 0  # the hand design delivers within 60 ticks
    with Store(db) as store:
        rounds = load_rounds(store, 1)
        assert len(rounds) == 1 and rounds[0].repeats == 3
        hand = next(c for c in rounds[0].candidates if c.baseline == "hand-wired")
    # the hand-wired row is the stored round's figure, and a second call reuses the round
    assert hand.scores["fresh"].count == 3
    assert table(db).split("Machine:")[0] == text.split("Machine:")[0]
    with Store(db) as store:
        assert len(load_rounds(store, 1)) == 1


def test_a_run_trained_on_the_shaped_objective_is_scored_on_food(tmp_path):
    food_db, shaped_db = str(tmp_path / "food.db"), str(tmp_path / "shaped.db")
    shaped_config = CONFIG.replace('fitness = ["food"]',
                                   'fitness = ["shaped"]\noptimize_delays = false')
    for db, text in ((food_db, CONFIG), (shaped_db, shaped_config)):
        config = tmp_path / "ants.toml"
        config.write_text(text)
        assert main(["run", str(config), "--store", db]) == 0
    food, shaped = table(food_db), table(shaped_db)
    assert "training score (shaped)" in shaped and "training score (food)" in food
    assert "training mean, shaped (n)" in shaped
    # same run seed, same validation round: the same fresh worlds, scored on food for both
    hand = "hand-wired (`hand_wired()`)"
    assert table_rows(shaped)[hand][0] == table_rows(food)[hand][0]
