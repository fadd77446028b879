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
