"""Running a model's generated GPU kernel (``codegen_gpu``) with cupy.

:func:`heun_batch_gpu` takes the arrays :func:`l2l_tvb.batched.simulate` builds for the CPU
kernel, copies them to the device, runs ``heun_batch`` (one thread per instance) and returns the
final state and the samples. :func:`random_history_gpu` fills a device history with the same
numbers as ``batched_cpu.random_history`` without building it on the host. Compiled kernels are
kept per (model, precision); cupy caches the compiled binaries on disk itself.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .codegen_gpu import OPTIONS, kernel_source
from .rateml import ModelSpec

THREADS = 128


@lru_cache(maxsize=None)
def _module(spec: ModelSpec, real: str):
    import cupy

    return cupy.RawModule(code=kernel_source(spec, real), options=OPTIONS)


def heun_batch_gpu(spec: ModelSpec, state, history, step0, n_steps, row_ptr, cols, weights, delays, active,
                   coupling_a, coupling_b, params, speed, dt, sigma, keys, voi, istep, skip, out, *,
                   device_history=None):
    """Run the batch on the GPU; same arguments as the CPU kernel (numpy arrays) after ``spec``.
    ``device_history``: (history, state) already on the device (from
    :func:`random_history_gpu`), used instead of ``history``/``state``. Returns the final state
    and the samples as numpy arrays."""
    import cupy

    real = "double" if out.dtype == np.float64 else "float"
    if device_history is not None:
        d_hist, d_state = device_history
    else:
        d_hist, d_state = cupy.asarray(np.ascontiguousarray(history)), cupy.asarray(np.ascontiguousarray(state))
    d_rp, d_cols, d_w, d_del, d_act, d_ca, d_cb, d_p, d_sig, d_keys, d_voi = (
        cupy.asarray(np.ascontiguousarray(a)) for a in (row_ptr, cols, weights, delays, active.astype(np.uint8), coupling_a,
                                  coupling_b, params if params.size else np.zeros((1, state.shape[2])),
                                  sigma, keys, voi))
    d_out = cupy.zeros(out.shape, dtype=out.dtype)
    n_node, n_inst = d_state.shape[1], d_state.shape[2]
    kernel = _module(spec, real).get_function("heun_batch")
    kernel(((n_inst + THREADS - 1) // THREADS,), (THREADS,), (
        d_state, d_hist, np.int64(step0), np.int64(n_steps), d_rp, d_cols, d_w, d_del, d_act, d_ca, d_cb, d_p,
        np.float64(speed), np.float64(dt), d_sig, d_keys, d_voi, np.int64(istep), np.int64(skip), d_out,
        np.int32(n_node), np.int32(d_hist.shape[0]), np.int32(n_inst), np.int32(out.shape[0]),
        np.int32(len(voi))))
    return cupy.asnumpy(d_state), cupy.asnumpy(d_out)


def random_history_gpu(spec: ModelSpec, n_slot: int, n_node: int, keys: np.ndarray, low: np.ndarray,
                       high: np.ndarray, dtype) -> tuple:
    """(history, state) on the device: ``n_slot`` slots, TVB-style random history of every
    instance drawn from its key (the same numbers as ``batched_cpu.random_history``)."""
    import cupy

    n_inst = len(keys)
    real = "double" if np.dtype(dtype) == np.float64 else "float"
    d_hist = cupy.zeros((n_slot, len(spec.cvars), n_node, n_inst), dtype=dtype)
    d_state = cupy.empty((spec.nsv, n_node, n_inst), dtype=dtype)
    args = (cupy.asarray(keys), cupy.asarray(np.array(spec.cvars or (0,), dtype=np.int64)),
            cupy.asarray(np.ascontiguousarray(low, float)), cupy.asarray(np.ascontiguousarray(high, float)),
            cupy.asarray(np.array(spec.lower)), cupy.asarray(np.array(spec.upper)))
    kernel = _module(spec, real).get_function("random_history")
    kernel(((n_inst + THREADS - 1) // THREADS,), (THREADS,),
           (d_hist, d_state, *args, np.int32(n_slot), np.int32(n_node), np.int32(n_inst)))
    return d_hist, d_state
