"""The machine a bench ran on, measured, for the header of every results table.

    from machine import Machine
    m = Machine.measure(["numpy", "l2l-core", "nevergrad"])   # at the start of the bench
    ...                                                         # the bench itself
    lines = m.finish().markdown()                               # load after, as markdown

CPU model, cores, clock, SIMD width, a FLOP peak estimate (cores x GHz x FMA lanes x 2) beside
the measured float64 matrix-multiply rate, memory bandwidth of a numpy triad, load average
before and after, how much of the cores other jobs left free (one busy process per core for
half a second: the CPU seconds they got per wall second), and the versions of the packages
involved (absent ones are named as such).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import re
import time
from dataclasses import dataclass, field

import numpy as np


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def cpu_model() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def clock_ghz() -> float:
    """Nominal clock: from the model name (``@ 2.60GHz``), else ``cpu MHz``, else BogoMIPS/2."""
    info = _cpuinfo()
    m = re.search(r"@\s*([\d.]+)\s*GHz", info.get("model name", ""))
    if m:
        return float(m.group(1))
    for key, scale in (("cpu MHz", 1e-3), ("bogomips", 0.5e-3)):
        try:
            return float(info[key]) * scale
        except (KeyError, ValueError):
            continue
    return 0.0


def simd() -> tuple[str, int]:
    """The widest vector extension and its float64 FMA flops per cycle per core (two FMA pipes
    of that width, two flops each)."""
    flags = _cpuinfo().get("flags", "").split()
    if "avx512f" in flags:
        return "AVX-512", 32
    if "avx2" in flags and "fma" in flags:
        return "AVX2+FMA", 16
    return "SSE2", 4


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def triad_bandwidth(n: int = 16_000_000, repeats: int = 5) -> float:
    """Best GB/s of ``c = a + 1.5 * b`` over arrays of ``n`` float64 (3 x 128 MB: far beyond
    cache). numpy does it in two passes (``c = 1.5 * b``: one read, one write; ``c += a``: two
    reads, one write), so 5 x 8 bytes move per element."""
    a, b, c = np.ones(n), np.ones(n), np.empty(n)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        np.multiply(b, 1.5, out=c)
        np.add(c, a, out=c)
        wall = time.perf_counter() - t
        best = max(best, 5 * 8 * n / wall / 1e9)
    return best


def matmul_gflops(n: int = 1024, repeats: int = 3) -> float:
    """Best float64 GFLOP/s of an ``n x n`` matrix product (numpy's BLAS, all its threads)."""
    a = np.random.default_rng(0).random((n, n))
    a @ a
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        a @ a
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def _spin(seconds: float) -> float:
    end = time.perf_counter() + seconds
    cpu = time.process_time()
    while time.perf_counter() < end:
        pass
    return time.process_time() - cpu


def free_cores(seconds: float = 0.5) -> float:
    """Cores this machine gives a job now: one busy process per core for ``seconds``, their CPU
    seconds summed per wall second (``cores()`` on an idle machine, less under load). Measured
    in the caller's session: with Linux's autogroup scheduling, the share of that session."""
    import multiprocessing as mp

    n = cores()
    with mp.get_context("fork").Pool(n) as pool:
        return sum(pool.map(_spin, [seconds] * n)) / seconds


def versions(packages: list[str]) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class Machine:
    """What :meth:`measure` found; :meth:`finish` adds the load after the bench."""

    cpu: str
    cores: int
    ghz: float
    simd: str
    peak_gflops: float
    matmul_gflops: float
    bandwidth_gbs: float
    load_before: tuple[float, float, float]
    versions: dict[str, str] = field(default_factory=dict)
    load_after: tuple[float, float, float] | None = None
    free_before: float | None = None
    free_after: float | None = None

    @classmethod
    def measure(cls, packages: list[str] = ()) -> Machine:  # type: ignore[assignment]
        load = os.getloadavg()
        ext, per_cycle = simd()
        n, ghz = cores(), clock_ghz()
        return cls(cpu_model(), n, ghz, ext, n * ghz * per_cycle, matmul_gflops(),
                   triad_bandwidth(), load, versions(["numpy", *packages]),
                   free_before=free_cores())

    def finish(self) -> Machine:
        self.load_after = os.getloadavg()
        self.free_after = free_cores()
        return self

    def busy(self, needed: float | None = None) -> bool:
        """Whether other jobs took CPU a bench needed: the free cores (before or after) fell
        short of ``needed`` (default: all cores) by more than a tenth of a core."""
        need = float(self.cores if needed is None else needed)
        free = [f for f in (self.free_before, self.free_after) if f is not None]
        return bool(free) and min(free) < need - 0.1

    def to_json(self) -> dict:
        return {k: v for k, v in vars(self).items()}

    def markdown(self) -> list[str]:
        after = "?" if self.load_after is None else f"{self.load_after[0]:.1f}"
        free = ""
        if self.free_before is not None:
            later = "?" if self.free_after is None else f"{self.free_after:.2f}"
            free = (f"; free cores (busy probe) {self.free_before:.2f} before, {later} after"
                    + (" — shared machine: figures are load-bound" if self.busy() else ""))
        return [
            f"Machine: {self.cpu}, {self.cores} cores at {self.ghz:.2f} GHz ({self.simd}); "
            f"float64 peak estimate {self.peak_gflops:.0f} GFLOP/s (cores x GHz x FMA lanes x 2), "
            f"measured matrix product {self.matmul_gflops:.0f} GFLOP/s; memory bandwidth "
            f"(numpy triad) {self.bandwidth_gbs:.1f} GB/s; load average {self.load_before[0]:.1f} "
            f"before, {after} after (1-minute, {self.cores} cores){free}.",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in self.versions.items()) + ".",
        ]


if __name__ == "__main__":
    print("\n".join(Machine.measure(["l2l-core"]).finish().markdown()))
