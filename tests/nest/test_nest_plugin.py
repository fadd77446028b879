"""l2l-nest as a plugin: registration, config files, quiet and MPI-launcher-safe NEST import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from l2l import ConfigError, build, experiment_from_config, load_config
from l2l.plugins import get_plugins

EXAMPLES = Path(__file__).resolve().parents[2] / "plugins" / "l2l-nest" / "examples"


def test_optimizees_are_registered():
    names = get_plugins().names("optimizees")
    assert "nest-reservoir" in names and "nest-brunel" in names
    assert build("optimizee", "nest-brunel", g=4.0).g == 4.0


def test_unknown_keyword_is_a_config_error():
    with pytest.raises(ConfigError, match="n_neurons"):
        build("optimizee", "nest-reservoir", n_neurons=10)


@pytest.mark.parametrize("name", ["enkf-digits.toml", "l2l-enkf.toml", "brunel-ga.toml"])
def test_example_configs_build(name):
    config = load_config(EXAMPLES / name)
    experiment = experiment_from_config(config)
    assert experiment.optimizee.space().dim > 0


SCRIPT = textwrap.dedent("""
    import numpy as np
    from l2l_nest.brunel import BrunelNetwork
    opt = BrunelNetwork(n_excitatory=100, sim_ms=200.0, warmup_ms=50.0, n_record=50)
    opt.setup()
    ev = opt.evaluate({"g": 5.0, "eta": 2.0}, 1)
    print("RATE", ev.info["rate"])
""")


@pytest.mark.parametrize("launcher", [{"PMI_RANK": "1", "PMI_SIZE": "2", "MPI_LOCALNRANKS": "2"},
                                      {"PMIX_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"}])
def test_evaluation_works_under_mpi_launcher_environment(launcher):
    env = {k: v for k, v in os.environ.items() if k != "PYNEST_QUIET"}
    env.update(launcher)
    # without the clean-up NEST's wheel exits, as this control shows
    control = subprocess.run([sys.executable, "-c", "import nest"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert control.returncode != 0 and "MPI launcher" in control.stdout + control.stderr
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split("RATE")[1]) > 0
    # nothing of NEST's banner or kernel messages reaches the terminal
    assert "N E S T" not in done.stdout + done.stderr
    assert "[INFO]" not in done.stdout + done.stderr
    assert done.stderr.strip() == ""
