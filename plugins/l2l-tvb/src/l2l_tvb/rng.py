"""Counter-based Gaussian noise shared by the batched kernels.

Every normal variate is a pure function of (instance key, counter): SplitMix64 of
``key + GAMMA * (counter + 1)`` gives two 53-bit uniforms, Box–Muller turns them into two
normals. The logarithm and cosine are evaluated with short polynomials (not libm), so the lane
loops vectorise and the GPU kernel can reproduce the same numbers. Results therefore depend on
the instance's seed only, not on the batch it runs in or the number of threads.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LN2 = 0.6931471805599453
_TWO_PI = 6.283185307179586


@intrinsic
def _bits(typingctx, x):
    """Reinterpret a float64 as int64 (an LLVM bitcast, vectorisable)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, x):
    """Reinterpret an int64 as float64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always", cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's output function."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(inline="always", cache=True)
def log_unit(u: float) -> float:
    """Natural logarithm of u in (0, 1] (relative error below 1e-12)."""
    bits = _bits(u)
    e = (bits >> 52) - 1023
    m = _float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # mantissa in [1, 2)
    big = m > 1.4142135623730951
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = 1.0 / 15.0
    p = p * s2 + 1.0 / 13.0
    p = p * s2 + 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    p = p * s2 + 1.0
    return 2.0 * s * p + e * _LN2


@njit(inline="always", cache=True)
def cos_pm_pi(x: float) -> float:
    """cos(x) for x in [-pi, pi] (absolute error below 1e-12)."""
    h = 0.5 * x          # cos x = 2 cos^2(x/2) - 1, with |x/2| <= pi/2
    h2 = h * h
    p = 1.0 / 20922789888000.0
    p = p * h2 - 1.0 / 87178291200.0
    p = p * h2 + 1.0 / 479001600.0
    p = p * h2 - 1.0 / 3628800.0
    p = p * h2 + 1.0 / 40320.0
    p = p * h2 - 1.0 / 720.0
    p = p * h2 + 1.0 / 24.0
    p = p * h2 - 0.5
    c = p * h2 + 1.0
    return 2.0 * c * c - 1.0


@njit(inline="always", cache=True)
def uniform(key: np.uint64, counter: np.uint64) -> float:
    """A uniform variate in [0, 1) for (key, counter)."""
    return np.float64(mix64(np.uint64(key) + GAMMA * np.uint64(counter)) >> np.uint64(11)) * 1.1102230246251565e-16


@njit(inline="always", cache=True)
def normal_pair(key: np.uint64, counter: np.uint64) -> tuple[float, float]:
    """Two independent standard normal variates for (key, counter)."""
    z = np.uint64(key) + GAMMA * (np.uint64(2) * np.uint64(counter) + np.uint64(1))
    a = mix64(z)
    b = mix64(z + GAMMA)
    u1 = (np.float64(a >> np.uint64(11)) + 0.5) * 1.1102230246251565e-16   # (0, 1)
    u2 = np.float64(b >> np.uint64(11)) * 1.1102230246251565e-16           # [0, 1)
    r = np.sqrt(-2.0 * log_unit(u1))
    x = _TWO_PI * u2 - np.pi
    c = cos_pm_pi(x)
    s = np.sqrt(max(0.0, 1.0 - c * c))
    s = -s if x < 0.0 else s
    return r * c, r * s


@njit(cache=True)
def instance_key(seed: int) -> np.uint64:
    """The noise key of an instance with this seed."""
    return mix64(np.uint64(seed) * GAMMA + GAMMA)


@njit(cache=True)
def normals(key: np.uint64, n: int) -> np.ndarray:
    """``2 n`` normals of one key (counters 0..n-1); for tests of the distribution."""
    out = np.empty(2 * n)
    for i in range(n):
        a, b = normal_pair(key, np.uint64(i))
        out[2 * i] = a
        out[2 * i + 1] = b
    return out
