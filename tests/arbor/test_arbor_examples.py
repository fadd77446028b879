"""The example configs of l2l-arbor build (and the quick one runs) through the config path."""

from __future__ import annotations

from pathlib import Path

import pytest
from l2l import ConfigError, experiment_from_config, load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "plugins" / "l2l-arbor" / "examples"


def test_allen_example_config_builds():
    """Only parsed and validated: the Allen data is not needed for that."""
    exp = experiment_from_config(load_config(EXAMPLES / "allen.toml"))
    assert exp.optimizee.space().names == ["nav_soma", "kv31_soma", "sk_soma", "nav_axon"]
    assert len(exp.optimizee.objectives()) == 8


def test_hh_example_runs_from_its_config():
    config = load_config(EXAMPLES / "hh_ball_and_stick.toml")
    config["experiment"]["generations"] = 3
    config["executor"] = {"name": "serial"}
    result = experiment_from_config(config).run()
    assert result.status == "finished" and result.evaluations == 96
    assert result.history[-1] <= result.history[0]


def test_config_with_an_unknown_key_is_rejected():
    config = load_config(EXAMPLES / "hh_ball_and_stick.toml")
    config["optimizee"]["stimulus"] = 0.3
    with pytest.raises(ConfigError, match="stimulus"):
        experiment_from_config(config)
