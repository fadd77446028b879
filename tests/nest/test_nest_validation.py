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
