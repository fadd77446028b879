"""The GPU kernel's CUDA source compiles with NVRTC for a current GPU architecture.

No GPU is needed to compile; running the kernel needs one (``device = "gpu"``), which the CPU
test machines lack: this checks what can be checked without it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from l2l_tvb.batched_gpu import OPTIONS, kernel_source

nvrtc_pkg = pytest.importorskip("nvidia.cuda_nvrtc", reason="nvidia-cuda-nvrtc-cu12 is not installed")


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


@pytest.mark.parametrize("real", ["double", "float"])
@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
def test_gpu_kernel_compiles_without_warnings(real, arch):
    status, log, ptx = nvrtc_compile(kernel_source(real), arch)
    assert status == 0, log
    assert "warning" not in log.lower(), log
    assert ptx > 10_000   # a whole kernel, not an empty module
