"""The ant colony on fresh worlds beside its hand-wired baseline (``l2l validate``)."""

from __future__ import annotations

from l2l import Experiment, Store, build
from l2l.noise import Noise
from l2l.validation import validate_run
from l2l_netlogo import AntColony, hand_wired


def test_fresh_worlds_and_the_hand_wired_baseline_on_the_same_seeds(tmp_path):
    colony = AntColony(engine="python", n_ants=4, ticks=80)
    assert "fresh worlds" in colony.fresh_seeds and colony.held_out() == {}
    base = colony.baselines()["hand-wired"]
    assert all((base[k] == hand_wired()[k]).all() for k in base)
    db = str(tmp_path / "ants.db")
    result = Experiment(colony, build("optimizer", "ga", population=6), store=db, seed=2,
                        generations=2, noise=Noise(repeats=2, reevaluate=1)).run()
    with Store(db) as store:
        vr = validate_run(store, result.run_id, repeats=6, optimizee=colony)
    best, hand = vr.candidates
    assert hand.baseline == "hand-wired" and set(best.scores) == set(hand.scores) == {"fresh"}
    assert hand.scores["fresh"].count == 6
    # the hand design forages in every fresh world; the two-generation GA does not beat it
    assert hand.scores["fresh"].mean[0] > best.scores["fresh"].mean[0]
    assert AntColony(engine="python", hidden=5).baselines() == {}
