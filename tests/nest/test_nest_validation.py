"""Held-out scores of nest-reservoir and of learning to learn on it (``l2l validate``)."""

from __future__ import annotations

import numpy as np

from l2l import Experiment, Store, build
from l2l.noise import Noise
from l2l.validation import validate_run
from l2l_nest.reservoir import ReservoirDigits


def test_reservoir_names_validation_and_test_accuracy(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir)
    assert opt.held_out() == {"validation": "accuracy and mse on the 30 validation images",
                              "test": "accuracy and mse on the 30 test images"}
    opt.setup()
    p = opt.space().sample(np.random.default_rng(1), 1)[0]
    assert opt.score_held_out("test", p, 0).fitness == opt.test(p, 0).fitness
    assert opt.score_held_out("validation", p, 0).fitness == opt.validate(p, 0).fitness


def test_validate_an_enkf_run_reports_validation_and_test_accuracy(tiny_reservoir, tmp_path):
    db = str(tmp_path / "digits.db")
    opt = ReservoirDigits(**tiny_reservoir)
    result = Experiment(opt, build("optimizer", "enkf", population=40, gamma=0.1), store=db,
                        seed=0, generations=2).run()
    with Store(db) as store:
        vr = validate_run(store, result.run_id, repeats=1, optimizee=opt)
    scores = vr.candidates[0].scores
    assert set(scores) == {"fresh", "validation", "test"}
    assert scores["test"].mean == opt.test(result.best_params, 0).fitness or \
        scores["test"].count == 1
    # frozen input noise: the fresh-seed score is the training score
    assert scores["fresh"].mean == result.best_fitness


def test_meta_validation_scores_inner_runs_on_the_test_images_beside_the_defaults(tiny_reservoir,
                                                                                 tmp_path):
    meta = build("optimizee", "meta", budget=40,
                 optimizee={"name": "nest-reservoir", **tiny_reservoir, "mse_weight": 0.0},
                 optimizer={"name": "enkf", "population": 20},
                 space={"optimizer.gamma": {"low": 0.01, "high": 1.0}})
    db = str(tmp_path / "meta.db")
    result = Experiment(meta, build("optimizer", "random", population=2), store=db, seed=1,
                        generations=1, noise=Noise(repeats=2)).run()
    assert result.best_count == 2
    with Store(db) as store:
        vr = validate_run(store, result.run_id, repeats=2, optimizee=meta)
    learned, defaults = vr.candidates
    assert defaults.baseline == "defaults"
    for c in (learned, defaults):
        assert set(c.scores) == {"fresh", "validation", "test"} and c.scores["test"].count == 2
        # the outer fitness of a fresh inner run is its validation accuracy
        assert c.scores["fresh"].mean == c.scores["validation"].mean


def test_cli_run_with_validate_prints_validation_and_test_accuracy_and_show_repeats_them(
        tiny_reservoir, tmp_path, capsys):
    from l2l.cli import main

    keys = "\n".join(f"{k} = {v!r}" for k, v in tiny_reservoir.items())
    config = tmp_path / "digits.toml"
    config.write_text(f'[experiment]\nname = "digits"\nseed = 1\ngenerations = 1\n'
                      f'[optimizee]\nname = "nest-reservoir"\n{keys}\n'
                      f'[optimizer]\nname = "enkf"\npopulation = 20\ngamma = 0.1\n'
                      f'[executor]\nname = "serial"\n')
    db = str(tmp_path / "digits.db")
    assert main(["run", str(config), "--store", db, "--validate", "1"]) == 0
    out = capsys.readouterr().out
    n = tiny_reservoir
    assert f"validation: accuracy and mse on the {n['n_validation']} validation images" in out
    assert f"test: accuracy and mse on the {n['n_test']} test images" in out
    lines = [line.split() for line in out.splitlines()]
    scored = {w[0]: w for w in lines if w and w[0] in ("validation", "test") and "accuracy" in w}
    assert set(scored) == {"validation", "test"}
    assert main(["show", "digits", "--store", db]) == 0
    shown = capsys.readouterr().out
    assert "validation round 1" in shown and "test images" in shown
    assert [w for w in (line.split() for line in shown.splitlines())
            if w and w[0] == "test" and "accuracy" in w] == [scored["test"]]
