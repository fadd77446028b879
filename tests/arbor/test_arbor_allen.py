"""The Allen cell of examples/allen.toml ships with l2l-arbor (source and licence noted), the
example config points at it, and the real cell simulates and reproduces its published fit."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from l2l import experiment_from_config, load_config

from l2l_arbor.allen import ALLEN_CELL, ALLEN_FIT, read_allen_fit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "plugins" / "l2l-arbor" / "examples" / "allen.toml"


def test_the_cell_is_package_data_with_its_source_and_licence():
    data = files("l2l_arbor") / "data" / "allen"
    assert {e.name for e in data.iterdir()} >= {"cell.swc", "fit.json", "NOTICE.md"}
    assert Path(ALLEN_CELL).stat().st_size > 200_000 and Path(ALLEN_FIT).is_file()
    notice = (data / "NOTICE.md").read_text()
    for must in ("Allen Cell Types Database", "arbor-sim/arbor", "BSD 3-Clause",
                 "Redistribution and use in source and binary forms"):
        assert must in notice


def test_the_example_config_uses_the_packaged_files_and_nothing_outside_the_repository():
    config = load_config(EXAMPLE)
    for key, packaged in (("morphology", ALLEN_CELL), ("allen_fit", ALLEN_FIT)):
        path = (ROOT / config["optimizee"][key]).resolve()
        assert path == Path(packaged).resolve()
    for source in (EXAMPLE, EXAMPLE.parent / "fit_allen.py", EXAMPLE.parent / "fit_allen.md"):
        assert "shared/" not in source.read_text(), f"{source.name} reads data from outside"


def test_the_published_fit_is_read():
    fit = read_allen_fit(ALLEN_FIT)
    assert fit.settings["NaV.gbar@soma"] == pytest.approx(0.04998, rel=1e-3)
    assert fit.settings["Kv3_1.gbar@soma"] == pytest.approx(0.1867, rel=1e-3)
    assert fit.settings["temperature"] == 34.0 and fit.settings["v_init"] == -90.0
    assert fit.junction_potential == -14.0
    assert {region for region, _ in fit.mechanisms} == {"soma", "axon", "apic", "dend"}


@pytest.mark.timeout(300)
def test_the_real_cell_fires_and_reproduces_its_published_fit(monkeypatch):
    monkeypatch.chdir(ROOT)  # the example's paths are relative to the repository root
    config = load_config(EXAMPLE)
    config["optimizee"].update(tfinal=250.0, dt=0.05, threads=1,
                               protocols=[{"name": "step", "amplitude": 0.15, "start": 50.0,
                                           "duration": 150.0}],
                               features=["Spikecount", "AP_amplitude", "voltage_base"])
    cell = experiment_from_config(config).optimizee
    cell.setup()
    published = cell.base_params()
    assert published["nav_soma"] == pytest.approx(0.04998, rel=1e-3)
    features = cell._prepared().target_features
    assert features["step.soma.Spikecount"] >= 2  # the published model spikes under 150 pA
    assert cell.evaluate(published, 0).fitness == (0.0, 0.0, 0.0)
    halved = cell.evaluate({**published, "nav_soma": published["nav_soma"] / 2,
                            "nav_axon": published["nav_axon"] / 2}, 0)
    assert not halved.ok or sum(halved.fitness) > 0.5
