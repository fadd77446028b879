"""nest-brunel on real NEST: the regime measures respond to g and eta as Brunel (2000) says."""

from __future__ import annotations

import numpy as np
import pytest

from l2l import ConfigError, Experiment, build
from l2l.testing import check_optimizee
from l2l_nest.brunel import BrunelNetwork


def test_conformance(tiny_brunel):
    check_optimizee(BrunelNetwork(**tiny_brunel), samples=2)


def test_rate_falls_with_inhibition_and_rises_with_drive(tiny_brunel):
    opt = BrunelNetwork(**tiny_brunel)
    opt.setup()
    rate = {(g, eta): opt.evaluate({"g": g, "eta": eta}, 1).info["rate"]
            for g, eta in [(3.0, 2.0), (6.0, 2.0), (6.0, 1.0), (6.0, 3.0)]}
    assert rate[(3.0, 2.0)] > 2 * rate[(6.0, 2.0)]          # excitation-dominated: fast
    assert rate[(6.0, 1.0)] < rate[(6.0, 2.0)] < rate[(6.0, 3.0)]


def test_inhibition_dominated_network_fires_irregularly(tiny_brunel):
    opt = BrunelNetwork(**tiny_brunel)
    opt.setup()
    regular = opt.evaluate({"g": 3.0, "eta": 2.0}, 1).info["cv"]
    irregular = opt.evaluate({"g": 7.0, "eta": 2.0}, 1).info["cv"]
    assert regular < 0.4 < 0.7 < irregular


def test_objectives_are_distances_to_targets(tiny_brunel):
    opt = BrunelNetwork(**tiny_brunel, target_rate=30.0, target_cv=1.0, target_synchrony=0.2)
    opt.setup()
    ev = opt.evaluate({"g": 6.0, "eta": 2.0}, 3)
    measured = np.array([ev.info["rate"], ev.info["cv"], ev.info["synchrony"]])
    assert np.allclose(ev.fitness, np.abs(measured - [30.0, 1.0, 0.2]))
    assert np.array_equal(ev.observation, measured)
    assert opt.objectives().directions == ("min", "min", "min")


def test_same_seed_same_result(tiny_brunel):
    opt = BrunelNetwork(**tiny_brunel)
    opt.setup()
    a, b = opt.evaluate({"g": 5.0, "eta": 2.0}, 4), opt.evaluate({"g": 5.0, "eta": 2.0}, 4)
    c = opt.evaluate({"g": 5.0, "eta": 2.0}, 5)
    assert a.fitness == b.fitness and a.info == b.info
    assert a.info["n_spikes"] != c.info["n_spikes"]


def test_free_parameters_and_bounds(tiny_brunel):
    opt = BrunelNetwork(**tiny_brunel, free=["g", "eta", "j", "delay"], bounds={"g": [4.0, 6.0]})
    space = opt.space()
    assert space.names == ["g", "eta", "j", "delay"]
    assert (space["g"].low, space["g"].high) == (4.0, 6.0)
    opt.setup()
    assert opt.evaluate({"g": 5.0, "eta": 2.0, "j": 0.5, "delay": 2.0}, 0).ok


def test_ga_moves_towards_the_target_rate(tiny_brunel):
    opt = BrunelNetwork(**tiny_brunel, target_rate=20.0)
    result = Experiment(opt, build("optimizer", "ga", population=8), seed=2, generations=3).run()
    assert result.history[-1] <= result.history[0]
    assert result.best.evaluation.fitness[0] < 8.0  # within 8 Hz of 20 Hz


@pytest.mark.parametrize("bad", [dict(free=["tau"]), dict(free=[]), dict(bounds={"x": [0, 1]}),
                                 dict(n_record=10_000), dict(warmup_ms=600.0),
                                 dict(bounds={"g": [6.0, 2.0]})])
def test_bad_config_raises_config_error(tiny_brunel, bad):
    with pytest.raises(ConfigError):
        BrunelNetwork(**{**tiny_brunel, **bad}).space()
