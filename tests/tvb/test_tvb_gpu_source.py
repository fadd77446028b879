"""Every generated GPU kernel's CUDA source compiles with NVRTC for current GPU architectures.

No GPU is needed to compile; running the kernels needs one (``device = "gpu"``; bench/gpu.py
checks them against the CPU kernels), which the CPU test machines lack: this checks what can be
checked without it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from l2l_tvb.batched import as_spec
from l2l_tvb.codegen_gpu import OPTIONS, kernel_source
from l2l_tvb.rateml import builtin_models, rateml_models

nvrtc_pkg = pytest.importorskip("nvidia.cuda_nvrtc", reason="nvidia-cuda-nvrtc-cu12 is not installed")

WILSON_COWAN = str(Path(__file__).resolve().parent / "models" / "WilsonCowan.xml")
MODELS = [*builtin_models(), *(f"rateml:{m}" for m in rateml_models() if m != "zerlaut"), WILSON_COWAN]


def nvrtc_compile(source: str, arch: str) -> tuple[int, str, int]:
    """(status, log, PTX size) of compiling ``source`` with NVRTC for ``arch``."""
    lib = ctypes.CDLL(str(Path(list(nvrtc_pkg.__path__)[0]) / "lib" / "libnvrtc.so.12"))
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"heun_batch.cu", 0, None, None) == 0
    opts = [o.encode() for o in (*OPTIONS, f"--gpu-architecture={arch}")]
    status = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    ptx = ctypes.c_size_t()
    lib.nvrtcGetPTXSize(prog, ctypes.byref(ptx))
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return status, log.value.decode(errors="replace"), ptx.value


@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
@pytest.mark.parametrize("model", MODELS, ids=[Path(m).stem for m in MODELS])
def test_every_generated_gpu_kernel_compiles_without_warnings(model, arch):
    status, log, ptx = nvrtc_compile(kernel_source(as_spec(model), "double"), arch)
    assert status == 0, log
    assert "warning" not in log.lower(), log
    assert ptx > 10_000   # whole kernels, not an empty module


@pytest.mark.parametrize("coupling", ["Difference", "Kuramoto"])
def test_tvb_couplings_and_float32_compile(coupling):
    status, log, _ = nvrtc_compile(kernel_source(as_spec("Generic2dOscillator", coupling), "float"), "compute_80")
    assert status == 0 and "warning" not in log.lower(), log


# -- the generated CUDA, run on the CPU ---------------------------------------------------------
_SHIM = r"""
#include <cmath>
#include <cstring>
#include <cstdint>
using std::sqrt; using std::exp; using std::fmin; using std::fmax;
struct dim3_ { long x, y, z; };
static dim3_ blockIdx, threadIdx, blockDim;
#define __global__
#define __device__
#define __forceinline__ inline
static inline long long __double_as_longlong(double d) { long long r; std::memcpy(&r, &d, 8); return r; }
static inline double __longlong_as_double(long long l) { double r; std::memcpy(&r, &l, 8); return r; }
"""

_LAUNCH = r"""
extern "C" void launch_heun(long n, real *state, real *history, long step0, long n_steps, const long *row_ptr,
    const long *cols, const double *weights, const long *delays, const unsigned char *active, const double *ca,
    const double *cb, const double *params, double speed, double dt, const double *sigma, const u64 *keys,
    const long *voi, long istep, long skip, real *out, int n_node, int n_slot, int n_inst, int n_out, int nvoi) {
    blockDim.x = 1; threadIdx.x = 0;
    for (long t = 0; t < n; ++t) { blockIdx.x = t; heun_batch(state, history, step0, n_steps, row_ptr, cols, weights,
        delays, active, ca, cb, params, speed, dt, sigma, keys, voi, istep, skip, out, n_node, n_slot, n_inst, n_out, nvoi); }
}
extern "C" void launch_history(long n, real *history, real *state, const u64 *keys, const long *cvars,
    const double *low, const double *high, const double *lo, const double *hi, int n_slot, int n_node, int n_inst) {
    blockDim.x = 1; threadIdx.x = 0;
    for (long t = 0; t < n; ++t) { blockIdx.x = t; random_history(history, state, keys, cvars, low, high, lo, hi,
        n_slot, n_node, n_inst); }
}
"""


def compile_on_host(source: str, tmp_path) -> ctypes.CDLL:
    """The CUDA source compiled as C++ for the host (each "thread" run in a loop), with the
    same floating-point contract as NVRTC's --fmad=false (no contraction)."""
    import shutil
    import subprocess

    cxx = shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler to run the CUDA source on the host")
    src = tmp_path / "kernel.cpp"
    src.write_text(_SHIM + source.replace('extern "C" __global__', 'extern "C"') + _LAUNCH)
    lib = tmp_path / "kernel.so"
    subprocess.run([cxx, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True,
                   capture_output=True)
    return ctypes.CDLL(str(lib))


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


HOST_CASES = [("Generic2dOscillator", "Linear", {}), ("Generic2dOscillator", "Kuramoto", {}),
              ("MontbrioPazoRoxin", None, {"cv": 0.5}), ("ZerlautAdaptationFirstOrder", None, {}),
              ("rateml:epileptor", None, {"Kvf": 0.05, "Ks": -0.05, "Iext": 5.0}), (WILSON_COWAN, None, {"P": 0.5})]
#: with noise (one and three pairs of normals per step); the others noise-free, whose CPU kernel
#: the cross-validation compiles anyway (each variant of a CPU kernel is one numba compile)
NOISY = {"Generic2dOscillator-Linear", "MontbrioPazoRoxin-None", "rateml:epileptor-None"}
#: initial ranges that keep rateml:epileptor's x1 > 0 (its x1 equation runs away below 0)
RANGES = {"rateml:epileptor": {"x1": (0.5, 1.0), "y1": (-3.0, 0.0), "z": (2.5, 3.5), "x2": (-1.0, 0.0),
                               "y2": (0.0, 1.0), "g": (-0.2, 0.2)}}


@pytest.mark.parametrize("model,coupling,params", HOST_CASES, ids=[Path(c[0]).stem + f"-{c[1]}" for c in HOST_CASES])
def test_gpu_kernel_run_on_the_host_matches_the_cpu_kernel(model, coupling, params, tmp_path, conn68):
    """The generated CUDA source, compiled for the host, integrates like the CPU kernel (noise
    included: the same counter-based normals), and draws the same random initial history."""
    noisy = f"{Path(model).stem}-{coupling}" in NOISY
    import numpy as np

    from l2l_tvb import batched

    spec = as_spec(model, coupling)
    lib = compile_on_host(kernel_source(spec, "double"), tmp_path)
    n_inst, n_steps = 6, 200
    captured = {}
    real_run = batched.run_cpu
    try:   # the arrays simulate() hands the CPU kernel, for the host-compiled GPU kernel too
        batched.run_cpu = lambda spec_, args, lanes, draw: (
            captured.update(args=[a.copy() if hasattr(a, "copy") else a for a in args]),
            real_run(spec_, args, lanes, draw))
        ours = batched.simulate(spec, conn68, n_steps, list(range(n_inst)), params=params, coupling_a=0.05,
                                speed=10.0, dt=0.05, nsig=1e-6 if noisy else 0.0, voi=spec.state_variables, istep=2,
                                state_range=RANGES.get(model))
    finally:
        batched.run_cpu = real_run
    (state, hist, step0, steps, row_ptr, cols, w, delays, active, ca, cb, p, speed, dt, sig, keys, voi, istep, skip,
     out) = captured["args"]
    # the CPU blocks drew their initial history themselves: the same numbers from random_history
    from l2l_tvb.batched_cpu import random_history

    low, high = (np.ascontiguousarray(a) for a in spec.state_range(RANGES.get(model)).T)
    lo, hi = np.array(spec.lower), np.array(spec.upper)
    cvars = np.array(spec.cvars, dtype=np.int64)
    assert hist.shape[3] == 0
    hist = np.zeros(hist.shape[:3] + (n_inst,))
    random_history(hist, state, keys, cvars, low, high, lo, hi)
    cpu_state = state.copy()
    L, c, d, i = ctypes.c_long, ctypes.c_double, ctypes.c_int, lambda v: ctypes.c_long(int(v))
    lib.launch_heun(L(n_inst), _ptr(state), _ptr(hist), i(step0), i(steps), _ptr(row_ptr), _ptr(cols), _ptr(w),
                    _ptr(delays), _ptr(active.astype(np.uint8)), _ptr(ca), _ptr(cb),
                    _ptr(p if p.size else np.zeros((1, n_inst))), c(speed), c(dt), _ptr(sig), _ptr(keys), _ptr(voi),
                    i(istep), i(skip), _ptr(out), d(68), d(hist.shape[0]), d(n_inst), d(out.shape[0]),
                    d(len(voi)))
    assert np.all(np.isfinite(ours.samples))
    for s in range(spec.nsv):
        scale = np.abs(ours.samples[:, s]).max()
        assert np.abs(out[:, s] - ours.samples[:, s]).max() <= 1e-12 * scale, spec.state_variables[s]
    # the device's random initial history is the host's
    cpu_hist = np.zeros_like(hist)
    random_history(cpu_hist, np.empty_like(state), keys, cvars, low, high, lo, hi)
    dev_hist, dev_state = np.zeros_like(hist), np.empty_like(state)
    lib.launch_history(L(n_inst), _ptr(dev_hist), _ptr(dev_state), _ptr(keys), _ptr(cvars), _ptr(low), _ptr(high),
                       _ptr(lo), _ptr(hi), d(hist.shape[0]), d(68), d(n_inst))
    np.testing.assert_array_equal(dev_hist, cpu_hist)
    np.testing.assert_array_equal(dev_state, cpu_state)
