"""nest-reservoir on real NEST: contract, batch path, reproducibility, training."""

from __future__ import annotations

import numpy as np
import pytest

from l2l import Experiment, build
from l2l.testing import check_optimizee
from l2l_nest.reservoir import ReservoirDigits


def random_params(opt: ReservoirDigits, n: int, seed: int = 0) -> list[dict]:
    return opt.space().sample(np.random.default_rng(seed), n)


def test_conformance(tiny_reservoir):
    check_optimizee(ReservoirDigits(**tiny_reservoir), samples=3)


def test_targets_are_one_hot_without_setup(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir)
    targets = opt.targets()
    assert targets.shape == (60 * 10,)
    rows = targets.reshape(60, 10)
    assert np.array_equal(rows.sum(axis=1), np.ones(60))
    assert set(np.unique(rows)) == {0.0, 1.0}
    assert len(np.unique(rows.argmax(axis=1))) > 5  # several classes in the training set


def test_evaluation_scores_spike_counts(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir)
    opt.setup()
    ev = opt.evaluate(random_params(opt, 1)[0], 3)
    accuracy, mse = ev.fitness
    assert 0.0 <= accuracy <= 1.0 and mse > 0
    assert ev.observation.shape == opt.targets().shape
    # spike counts divided by target_rate * presentation time (200 Hz * 50 ms = 10 spikes)
    assert np.allclose(ev.observation * 10.0, np.round(ev.observation * 10.0))
    assert np.isclose(mse, np.mean((ev.observation - opt.targets()) ** 2))
    assert ev.info["mean_readout_rate"] > 0


@pytest.mark.parametrize("coding", ["current", "poisson"])
def test_batch_gives_the_same_readout_spikes_as_single_runs(tiny_reservoir, coding):
    opt = ReservoirDigits(**tiny_reservoir, input_coding=coding, input_seed=None, noise_std=50.0)
    opt.setup()
    params = random_params(opt, 4)
    batch = opt.evaluate_batch(params, [11, 12, 13, 14])
    for p, ev in zip(params, batch):
        single = opt.evaluate(p, 11)  # a batch shares the reservoir of its first seed
        assert np.array_equal(ev.observation, single.observation)
        assert ev.fitness == single.fitness
    # members differ (each readout population has its own weights)
    assert len({ev.observation.tobytes() for ev in batch}) == 4


def test_frozen_input_is_independent_of_the_evaluation_seed(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir, input_coding="poisson")
    opt.setup()
    p = random_params(opt, 1)[0]
    assert np.array_equal(opt.evaluate(p, 1).observation, opt.evaluate(p, 2).observation)
    other = ReservoirDigits(**tiny_reservoir, input_coding="poisson", input_seed=5)
    assert not np.array_equal(opt.evaluate(p, 1).observation, other.evaluate(p, 1).observation)


@pytest.mark.parametrize("noise", [dict(input_coding="poisson"), dict(noise_std=50.0)])
def test_same_seed_same_result_and_seed_changes_the_noise(tiny_reservoir, noise):
    opt = ReservoirDigits(**tiny_reservoir, **noise, input_seed=None)
    opt.setup()
    p = random_params(opt, 1)[0]
    a, b, c = opt.evaluate(p, 7), opt.evaluate(p, 7), opt.evaluate(p, 8)
    assert np.array_equal(a.observation, b.observation) and a.fitness == b.fitness
    assert not np.array_equal(a.observation, c.observation)


def test_two_threads_reproduce_and_batch_matches(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir, input_coding="poisson", local_num_threads=2)
    opt.setup()
    params = random_params(opt, 2)
    batch = opt.evaluate_batch(params, [0, 1])
    for p, ev in zip(params, batch):
        assert np.array_equal(opt.evaluate(p, 0).observation, ev.observation)


def test_validate_and_test_use_held_out_images(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir)
    opt.setup()
    p = random_params(opt, 1)[0]
    val, test = opt.validate(p, 0), opt.test(p, 0)
    assert val.info["part"] == "validation" and val.info["n_images"] == 30
    assert test.info["part"] == "test" and test.info["n_images"] == 30
    assert len(val.fitness) == len(test.fitness) == 2
    splits = opt._splits()
    train = {row.tobytes() for row in splits["train"].images}
    assert not train & {row.tobytes() for row in splits["test"].images}


def test_short_enkf_run_improves_accuracy(tiny_reservoir):
    opt = ReservoirDigits(**tiny_reservoir)
    enkf = build("optimizer", "enkf", population=100, gamma=0.1)
    result = Experiment(opt, enkf, seed=0, generations=5).run()
    # history: best loss (mse - accuracy) so far, after each generation
    assert result.history[-1] < result.history[0] - 0.05
    assert result.best.evaluation.fitness[0] >= 0.3  # chance is 0.1


@pytest.mark.parametrize("bad", [dict(n_readout_sources=100), dict(presentation_ms=50.05),
                                 dict(connection_probability=1.5), dict(n_train=5000),
                                 dict(weight_bound=0.0), dict(local_num_threads=0),
                                 dict(input_coding="spikes"), dict(noise_std=-1.0)])
def test_bad_config_raises_config_error(tiny_reservoir, bad):
    from l2l import ConfigError

    opt = ReservoirDigits(**{**tiny_reservoir, **bad})
    with pytest.raises(ConfigError):
        opt.space()
        opt.targets()
        opt.evaluate({"weights": np.zeros((opt.n_sources, 10))}, 0)


def test_meta_optimizee_tunes_enkf_on_validation_accuracy(tiny_reservoir):
    meta = build("optimizee", "meta", generations=2,
                 optimizee={"name": "nest-reservoir", **tiny_reservoir, "mse_weight": 0.0},
                 optimizer={"name": "enkf", "population": 20},
                 space={"optimizer.gamma": {"low": 0.01, "high": 1.0},
                        "optimizee.input_weight": {"low": 150.0, "high": 300.0}})
    meta.setup()
    params = meta.space().sample(np.random.default_rng(0), 2)
    evs = [meta.evaluate(p, 5) for p in params]
    inner = ReservoirDigits(**tiny_reservoir, mse_weight=0.0)
    for ev in evs:
        assert ev.ok and len(ev.info["inner_history"]) == 2
        assert 0.0 <= ev.fitness[0] <= 1.0
        # the outer loss is minus the validation accuracy (mse weighted 0)
        assert inner.objectives().loss(ev.fitness) == -ev.fitness[0]


def test_decision_most_spikes_then_earliest_first_spike():
    from l2l_nest.digits import Split

    opt = ReservoirDigits(presentation_ms=50.0, target_rate=200.0)
    split = Split(images=np.zeros((4, 64)), labels=np.array([0, 1, 2, 3]))
    counts = np.zeros((4, 10))
    latency = np.full((4, 10), np.inf)
    counts[0, [0, 5]] = [3, 2]                                  # most spikes: right
    counts[1, [1, 4]] = 2
    latency[1, [1, 4]] = [5.0, 9.0]                             # tie, earlier first spike: right
    counts[2, [2, 7]] = 2
    latency[2, [2, 7]] = 4.0                                    # exact tie: wrong
    ev = opt._score(counts, latency, split, {})                 # image 3: all silent, wrong
    assert ev.fitness[0] == 0.5
    assert np.allclose(ev.observation.reshape(4, 10), counts / 10.0)
