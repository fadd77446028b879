"""l2l_tvb.vmath (the vectorisable exp, sin, cos and erfc of the generated CPU kernels) against numpy
over their whole input range, and the stack buffer that lets the fused loop vectorise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from l2l_tvb import vmath


@njit(cache=True)
def _apply(which, x):
    out = np.empty_like(x)
    for i in range(x.size):
        if which == 0:
            out[i] = vmath.exp(x[i])
        elif which == 1:
            out[i] = vmath.sin(x[i])
        elif which == 2:
            out[i] = vmath.cos(x[i])
        else:
            out[i] = vmath.erfc(x[i])
    return out


def test_exp_is_within_one_ulp_of_numpy_over_its_range():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-745.0, 709.7, 200_000), rng.uniform(-1.0, 1.0, 100_000),
                        rng.normal(0.0, 1e-8, 10_000), np.linspace(-708.0, 709.78, 10_001)])
    ours, ref = _apply(0, x), np.exp(x)
    normal = ref > 2.3e-308            # below: subnormal results, rounded twice
    assert np.max(np.abs(ours[normal] - ref[normal]) / np.spacing(ref[normal])) <= 1.0
    assert np.max(np.abs(ours[~normal] - ref[~normal])) <= 1e-323


def test_exp_limits_and_nan():
    x = np.array([-np.inf, -1000.0, -745.2, 709.78, 709.8, 1000.0, np.inf, np.nan, 0.0, -0.0])
    with np.errstate(over="ignore"):
        ref = np.exp(x)
    np.testing.assert_array_equal(_apply(0, x), ref)


@pytest.mark.parametrize("which,ref", [(1, np.sin), (2, np.cos)])
@pytest.mark.parametrize("limit", [np.pi, 100.0, 1e4, 1e6, 1e8])
def test_sin_cos_are_within_2e_16_of_numpy(which, ref, limit):
    x = np.random.default_rng(int(limit) % 97).uniform(-limit, limit, 200_000)
    assert np.max(np.abs(_apply(which, x) - ref(x))) <= 2.3e-16


@pytest.mark.parametrize("which,ref", [(1, np.sin), (2, np.cos)])
def test_sin_cos_at_quadrant_edges_and_non_finite(which, ref):
    k = np.arange(-64, 65)
    x = np.concatenate([k * np.pi / 4, np.nextafter(k * np.pi / 2, np.inf), [0.0, -0.0, 1e-300]])
    assert np.max(np.abs(_apply(which, x) - ref(x))) <= 2.3e-16
    assert np.isnan(_apply(which, np.array([np.inf, -np.inf, np.nan]))).all()


def test_erfc_is_within_1e_15_relative_of_libm_over_its_range():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-6.0, 27.0, 100_000), rng.uniform(-1.0, 1.0, 50_000),
                        np.linspace(-6.0, 27.2, 20_001)])
    ref = np.array([math.erfc(v) for v in x])
    ok = ref > 2.3e-308
    assert np.max(np.abs(_apply(3, x[ok]) - ref[ok]) / ref[ok]) <= 1e-15
    special = np.array([-np.inf, np.inf, 30.0, 1e300, -1e300, 0.0])
    np.testing.assert_array_equal(_apply(3, special), [2.0, 0.0, 0.0, 0.0, 2.0, 1.0])
    assert np.isnan(_apply(3, np.array([np.nan]))).all()


def test_generated_fused_loop_writes_a_stack_buffer_and_calls_no_libm():
    """The CPU kernel's fused loop writes its new states to a stack buffer (no runtime alias
    checks: it vectorises for any number of state variables) and calls vmath, not libm."""
    from l2l_tvb.batched import as_spec
    from l2l_tvb.codegen_cpu import model_source

    src = model_source(as_spec("rateml:epileptor"))
    assert "xnew = carray(stack_buffer(" in src
    assert "vmath.exp(" in src and "math.exp(" not in src.replace("vmath.exp(", "")
