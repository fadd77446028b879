from __future__ import annotations

import logging
import warnings

import pytest

warnings.filterwarnings("ignore", message="Geodesic distance module")
logging.getLogger("tvb").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def conn76():
    from l2l_tvb.connectome import load_connectome

    return load_connectome(76)


@pytest.fixture(scope="session")
def conn68():
    from l2l_tvb.connectome import load_connectome

    return load_connectome(68)


@pytest.fixture
def tvb_float64_history():
    """tvb-library keeps its delay history and the coupling weights in float32 (its
    ``NDArray(..., 'f')`` descriptors); promote them to float64 for the duration of a test so
    that TVB and the batched engine do the same float64 arithmetic."""
    from tvb.simulator import history

    changed = []
    for cls in (history.BaseHistory, history.DenseHistory, history.SparseHistory):
        for attr in vars(cls).values():
            if isinstance(attr, history.NDArray) and attr.dtype == "f":
                attr.dtype = "d"
                changed.append(attr)
    yield
    for attr in changed:
        attr.dtype = "f"
