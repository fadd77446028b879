"""Shared fixtures of the l2l-arbor tests: small cells written on the fly (no shared data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TRUE = {"gnabar": 0.12, "gkbar": 0.036}


def hh_cell_kwargs(**over):
    """Keyword arguments of a ball-and-stick with HH on the soma, two steps, two free
    conductances, target simulated at :data:`TRUE`."""
    kw = dict(
        parameters={"gnabar": {"low": 0.05, "high": 0.25, "sets": "hh.gnabar@soma"},
                    "gkbar": {"low": 0.01, "high": 0.08, "sets": "hh.gkbar@soma"}},
        protocols=[{"name": "weak", "amplitude": 0.3, "start": 10.0, "duration": 60.0},
                   {"name": "strong", "amplitude": 0.6, "start": 10.0, "duration": 60.0}],
        tfinal=80.0,
        features=["Spikecount", "mean_frequency", "time_to_first_spike", "AP_amplitude",
                  "AHP_depth", "voltage_base"],
        target_params=dict(TRUE),
    )
    kw.update(over)
    return kw


@pytest.fixture
def swc_file(tmp_path: Path) -> Path:
    """Soma (tag 1), axon (2), basal dendrite (3) and apical dendrite (4)."""
    rows = [
        "# id type x y z r parent",
        "1 1 0 0 0 8 -1", "2 1 -8 0 0 8 1", "3 1 8 0 0 8 1",
        "4 2 0 -8 0 0.5 1", "5 2 0 -40 0 0.5 4", "6 2 0 -80 0 0.5 5",
        "7 3 -8 0 0 1.0 2", "8 3 -60 0 0 0.8 7", "9 3 -120 0 0 0.6 8",
        "10 4 8 0 0 1.2 3", "11 4 80 0 0 1.0 10", "12 4 160 0 0 0.8 11",
    ]
    path = tmp_path / "cell.swc"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def allen_fit_file(tmp_path: Path) -> Path:
    """A small fit in Allen's published format (genome per region, conditions)."""
    genome = [
        ("soma", "g_pas", 1e-4, ""), ("soma", "e_pas", -75.0, ""),
        ("soma", "cm", 1.0, ""), ("soma", "Ra", 100.0, ""),
        ("soma", "gbar_NaV", 0.06, "NaV"), ("soma", "gbar_Kv3_1", 0.2, "Kv3_1"),
        ("soma", "gbar_K_T", 0.002, "K_T"),
        ("dend", "g_pas", 1e-4, ""), ("dend", "e_pas", -80.0, ""),
        ("dend", "cm", 2.0, ""), ("dend", "Ra", 100.0, ""),
        ("axon", "g_pas", 1e-4, ""), ("axon", "e_pas", -75.0, ""),
        ("apic", "g_pas", 1e-4, ""), ("apic", "e_pas", -80.0, ""),
    ]
    fit = {
        "passive": [{"ra": 100}],
        "fitting": [{"junction_potential": -14.0, "sweeps": [1]}],
        "conditions": [{"celsius": 34, "v_init": -80,
                        "erev": [{"section": "soma", "ena": 53.0, "ek": -107.0}]}],
        "genome": [{"section": s, "name": n, "value": str(v), "mechanism": m} for s, n, v, m in genome],
    }
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fit))
    return path


@pytest.fixture
def hh_kwargs():
    """The factory :func:`hh_cell_kwargs` (test modules cannot import conftest)."""
    return hh_cell_kwargs


@pytest.fixture
def true_params():
    return dict(TRUE)
