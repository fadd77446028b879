"""Multi-start gradient descent on the batched engine (examples/multistart_gd.toml, smaller)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l import experiment_from_config, load_config
from l2l_tvb import TvbFc
from l2l_tvb.fc import square, upper

EXAMPLES = Path(__file__).resolve().parents[2] / "plugins" / "l2l-tvb" / "examples"
TRUE = {"coupling": 0.08, "a": -2.0}


def test_multistart_gd_recovers_known_parameters_from_their_fc(tmp_path, monkeypatch):
    """The example's problem with 12 generations: every generation's points (8 descents x
    (centre + 2 probes)) go to the optimizee as one batch, i.e. one batched simulation, and
    the best point recovers the parameters that produced the target FC."""
    config = load_config(EXAMPLES / "multistart_gd.toml")
    assert config["optimizer"] == {"name": "gd", "starts": 8, "probes": 2}
    optimizee = {k: v for k, v in config["optimizee"].items() if k not in ("name", "target")}
    target = TvbFc(**optimizee).evaluate(TRUE, 0).observation
    np.testing.assert_array_equal(upper(square(target)), target)
    np.save(tmp_path / "target.npy", square(target))
    config["optimizee"]["target"] = str(tmp_path / "target.npy")
    config["experiment"]["generations"] = 12

    batches = []
    original = TvbFc.evaluate_batch

    def counted(self, params, seeds):
        batches.append(len(params))
        return original(self, params, seeds)

    monkeypatch.setattr(TvbFc, "evaluate_batch", counted)
    result = experiment_from_config(config).run()
    assert batches == [24] * 12
    found = result.best.params
    assert abs(found["coupling"] - TRUE["coupling"]) < 0.008     # 4 % of the range
    assert abs(found["a"] - TRUE["a"]) < 0.25                    # 12 % of the range
    assert result.best_fitness[0] > 0.98
    # the start (uniform scouts) was far from it: the descents did the work
    assert result.history[0] > -0.95
