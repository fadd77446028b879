"""The batched engine itself: noise generator, determinism per instance, float32, errors."""

from __future__ import annotations

import platform

import numpy as np
import pytest
from scipy import stats

from l2l import ConfigError
from l2l_tvb.batched import as_spec, gpu_available, resolve_device, simulate
from l2l_tvb.rng import instance_key, normals


def test_normals_are_standard_gaussian_and_independent():
    x = normals(instance_key(5), 100_000)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1.0) < 0.01
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.01
    assert abs(np.mean(x**4) - 3.0) < 0.1
    other = normals(instance_key(6), 1000)
    assert abs(np.corrcoef(x[:2000], other)[0, 1]) < 0.1


G2D = as_spec("Generic2dOscillator")


def _run(conn, seeds, **kw):
    base = dict(coupling_a=0.05, speed=10.0, dt=0.5, nsig=0.01, istep=4)
    return simulate(G2D, conn, 400, seeds, **{**base, **kw})


def test_instance_results_do_not_depend_on_the_batch(conn68):
    """An instance's run depends on its own seed and parameters only: the same in a batch of
    one and in a batch of 20 (several thread blocks) at another position."""
    alone = _run(conn68, [7], params={"a": -1.0}).samples[..., 0]
    seeds = list(range(100, 120))
    seeds[17] = 7
    a = np.full(20, -2.0)
    a[17] = -1.0
    batch = _run(conn68, seeds, params={"a": a}).samples
    np.testing.assert_array_equal(batch[..., 17], alone)
    assert not np.allclose(batch[..., 16], batch[..., 17])


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="checks x86 SIMD instructions")
def test_the_cpu_kernel_runs_instances_as_simd_vectors(conn68):
    """Instances are the kernel's innermost, contiguous axis, so the per-node lane loop (noise,
    equations, Heun update) is vectorised by LLVM: the stochastic kernel's only square roots
    are Box-Muller's, inside that loop, and they are packed (sqrtpd), not scalar only."""
    import numba

    from l2l_tvb.codegen_cpu import cpu_kernel

    _run(conn68, [1, 2])
    kernel = cpu_kernel(G2D).block_stochastic
    fresh = numba.njit(nogil=True, error_model="numpy")(kernel.py_func)  # numba's disk cache keeps no assembly
    fresh.compile(kernel.signatures[0])
    assert "sqrtpd" in fresh.inspect_asm(kernel.signatures[0])


def test_noise_scales_with_sqrt_nsig(conn68):
    lo = _run(conn68, [1], nsig=1e-4, history=None).samples[50:, 0, :, 0]
    hi = _run(conn68, [1], nsig=4e-4, history=None).samples[50:, 0, :, 0]
    ratio = np.std(np.diff(hi, axis=0)) / np.std(np.diff(lo, axis=0))
    assert 1.8 < ratio < 2.2


def test_float32_follows_float64(conn68):
    r64 = _run(conn68, [3, 4], nsig=0.0)
    r32 = _run(conn68, [3, 4], nsig=0.0, dtype="float32")
    assert r32.samples.dtype == np.float32
    np.testing.assert_allclose(r32.samples, r64.samples, atol=1e-4 * np.abs(r64.samples).max())


def test_gpu_request_without_gpu_is_a_config_error():
    if gpu_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("gpu")
    assert resolve_device("auto") == "cpu"


def test_bad_inputs_are_config_errors(conn68):
    with pytest.raises(ConfigError, match="not supported"):
        as_spec("Epileptor")
    with pytest.raises(ConfigError, match="unknown parameter"):
        _run(conn68, [1], params={"nope": 1.0})
    with pytest.raises(ConfigError, match="coupling"):
        _run(conn68, [1], coupling="Sigmoidal")
    with pytest.raises(ConfigError, match="too short"):
        _run(conn68, [1], skip_samples=1000)
