"""Small NEST configurations shared by the l2l-nest tests."""

from __future__ import annotations

import pytest

#: A reservoir small enough for one simulation to take a fraction of a second.
TINY_RESERVOIR = dict(n_excitatory=40, n_inhibitory=10, n_readout_sources=20, n_train=60,
                      n_validation=30, n_test=30, presentation_ms=50.0, rest_ms=10.0)
#: A Brunel network of 250 neurons simulated for half a second.
TINY_BRUNEL = dict(n_excitatory=200, sim_ms=500.0, warmup_ms=100.0, n_record=100)


@pytest.fixture
def tiny_reservoir() -> dict:
    return dict(TINY_RESERVOIR)


@pytest.fixture
def tiny_brunel() -> dict:
    return dict(TINY_BRUNEL)
