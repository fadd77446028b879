"""Vectorisable ``exp``, ``sin``, ``cos`` and ``erfc`` for the generated CPU kernels.

numba lowers ``math.exp``/``math.sin``/``math.cos``/``math.erfc`` to calls of the C library, one call per lane:
a lane loop with a call in it stays scalar, and with it the whole fused loop of the model
(numba's vectorised SVML path needs Intel's runtime and an SVML-patched LLVM; the llvmlite of
PyPI is not one). These are written in plain arithmetic, selects and integer bit operations,
which LLVM vectorises across the lanes: Cody–Waite range reduction (``x = k c + r`` with the
constant ``c`` split so that ``k c`` is exact) and Taylor polynomials on the reduced range.
Accuracy (tests/tvb/test_tvb_vmath.py, against numpy): ``exp`` within 2 ulp over its whole range
(overflow to inf above 709.78, 0 below -745.2, NaN in, NaN out); ``sin``/``cos`` within 1e-16
absolute for ``|x| <= 1e8`` (the reduction is exact for ``|x| < 2^26 pi/2``; beyond it, the error
grows with ``|x|``, whose own rounding is 1.5e-8 at 1e8); ``erfc`` within 1e-15 relative of the C
library's over its whole range. The GPU kernels call CUDA's own
functions (within 1-2 ulp as well).
"""

from __future__ import annotations

from numba import njit

from .rng import _bits, _float

#: 1.5 * 2^52: ``(y + _MAGIC) - _MAGIC`` rounds y (|y| < 2^51) to the nearest integer, and the
#: bits of ``y + _MAGIC`` minus those of ``_MAGIC`` are that integer
_MAGIC = 6755399441055744.0
_MAGIC_BITS = 0x4338000000000000
_INV_LN2 = 1.4426950408889634
_LN2_HI = 0.6931471803691238    # ln 2 to 32 significant bits: k * _LN2_HI is exact for |k| < 2^21
_LN2_LO = 1.9082149292705877e-10
_TWO_OVER_PI = 0.6366197723675814
# pi / 2 in four parts of 27 significant bits (the last: the rest): k * part is exact for |k| < 2^26
_PIO2_1 = 1.570796325802803
_PIO2_2 = 9.920935739593517e-10
_PIO2_3 = 5.721188709663575e-18
_PIO2_4 = 1.6446256936324258e-26


@njit(inline="always", cache=True)
def _scale(y: float, kf: float, k: int) -> float:
    """y * 2^k (``kf``: k as a float) for |k| <= 1076, as two factors (2^1024 and 2^-1076 have no
    float64 of their own; no int-to-float conversion, which AVX2 has no vector instruction for)."""
    kh = _bits(0.5 * kf + _MAGIC) - _MAGIC_BITS      # round(k / 2): both halves within [-538, 512]
    s1 = _float((kh + 1023) << 52)
    s2 = _float((k - kh + 1023) << 52)
    return (y * s1) * s2


@njit(inline="always", cache=True)
def exp(x: float) -> float:
    """e^x (within 2 ulp; inf above 709.78, 0 below -745.2, NaN for NaN)."""
    xc = -746.0 if x < -746.0 else x      # NaN passes both clamps and comes out as NaN
    xc = 710.0 if xc > 710.0 else xc
    t = xc * _INV_LN2 + _MAGIC
    k = t - _MAGIC                       # nearest integer to x / ln 2
    r = (xc - k * _LN2_HI) - k * _LN2_LO   # |r| <= ln 2 / 2
    # (e^r - 1) / r by Taylor's series to r^12 (truncation below 1e-17 relative)
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    return _scale(1.0 + r * p, k, _bits(t) - _MAGIC_BITS)


@njit(inline="always", cache=True)
def _reduce(x: float) -> tuple[float, int]:
    """(r, n): x = n pi/2 + r with |r| <= pi/4 (exact reduction for |x| < 2^26 pi/2)."""
    t = x * _TWO_OVER_PI + _MAGIC
    k = t - _MAGIC
    r = x - k * _PIO2_1
    r = r - k * _PIO2_2
    r = r - k * _PIO2_3
    r = r - k * _PIO2_4
    return r, _bits(t) - _MAGIC_BITS


@njit(inline="always", cache=True)
def _sin_poly(r: float) -> float:
    """sin r for |r| <= pi/4 (Taylor's series to r^17: truncation below 1e-19)."""
    r2 = r * r
    p = 1.0 / 355687428096000.0
    p = p * r2 - 1.0 / 1307674368000.0
    p = p * r2 + 1.0 / 6227020800.0
    p = p * r2 - 1.0 / 39916800.0
    p = p * r2 + 1.0 / 362880.0
    p = p * r2 - 1.0 / 5040.0
    p = p * r2 + 1.0 / 120.0
    p = p * r2 - 1.0 / 6.0
    return r + r * r2 * p


@njit(inline="always", cache=True)
def _cos_poly(r: float) -> float:
    """cos r for |r| <= pi/4 (Taylor's series to r^16: truncation below 3e-18)."""
    r2 = r * r
    p = 1.0 / 20922789888000.0
    p = p * r2 - 1.0 / 87178291200.0
    p = p * r2 + 1.0 / 479001600.0
    p = p * r2 - 1.0 / 3628800.0
    p = p * r2 + 1.0 / 40320.0
    p = p * r2 - 1.0 / 720.0
    p = p * r2 + 1.0 / 24.0
    return (1.0 - 0.5 * r2) + r2 * r2 * p


@njit(inline="always", cache=True)
def sin(x: float) -> float:
    """sin x (see the module docstring for the accuracy)."""
    r, n = _reduce(x)
    s = _sin_poly(r)
    c = _cos_poly(r)
    v = c if n & 1 else s
    return -v if n & 2 else v


@njit(inline="always", cache=True)
def cos(x: float) -> float:
    """cos x (see the module docstring for the accuracy)."""
    r, n = _reduce(x)
    s = _sin_poly(r)
    c = _cos_poly(r)
    v = s if n & 1 else c
    return -v if (n + 1) & 2 else v


#: Chebyshev coefficients (in y = 2 t - 1, t = 2 / (2 + |x|)) of ln(erfcx(|x|) / t), where
#: erfcx(z) = e^(z^2) erfc(z): interpolated at 96 Chebyshev nodes from scipy.special.erfcx (sums in
#: long double), the first 28 kept (the rest are below 1e-16)
_ERFC_C = (
    -0.6513268598908547,
    0.6419697923564902,
    0.019476473204185808,
    -0.00956151478680866,
    -0.0009465953444820182,
    0.00036683949785280015,
    4.2523324806911774e-05,
    -2.027857811250945e-05,
    -1.6242900046109753e-06,
    1.303655835592164e-06,
    1.5626441740349424e-08,
    -8.523809591579394e-08,
    6.529054428661213e-09,
    5.059343483484749e-09,
    -9.913641641745552e-10,
    -2.2736506982339844e-10,
    9.646791976618708e-11,
    2.3940610643013657e-12,
    -6.885982976676207e-12,
    8.944693266231193e-13,
    3.130821611078277e-13,
    -1.1269546132513149e-13,
    4.0471460095263073e-16,
    7.098687234095384e-15,
    -1.5815979891494376e-15,
    -1.6270260601765804e-16,
    1.0357744754478186e-16,
    -6.249973773473731e-17,
)


@njit(inline="always", cache=True)
def erfc(x: float) -> float:
    """The complementary error function: erfc(|x|) = t e^(-x^2 + g(t)) with t = 2 / (2 + |x|) and g a
    Chebyshev series (Clenshaw's recurrence), one formula for all |x|; x^2 is split (Veltkamp)
    so that e^(-x^2) keeps its relative accuracy up to the underflow at |x| = 27.2; x < 0:
    2 - erfc(-x). Within 1e-15 relative of the C library's erfc (tests/tvb/test_tvb_vmath.py)."""
    a = abs(x)
    a = 30.0 if a > 30.0 else a    # erfc(30) underflows to 0 already; NaN passes
    t = 2.0 / (2.0 + a)
    y = 2.0 * t - 1.0
    b1 = _ERFC_C[27]
    b2 = 2.0 * y * b1 + _ERFC_C[26]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[25]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[24]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[23]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[22]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[21]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[20]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[19]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[18]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[17]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[16]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[15]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[14]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[13]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[12]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[11]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[10]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[9]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[8]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[7]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[6]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[5]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[4]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[3]
    b2 = 2.0 * y * b1 - b2 + _ERFC_C[2]
    b1 = 2.0 * y * b2 - b1 + _ERFC_C[1]
    g = y * b1 - b2 + _ERFC_C[0]
    ah = a * 134217729.0           # 2^27 + 1: ah = a to 26 significant bits, ah^2 exact
    ah = ah - (ah - a)
    al = a - ah
    v = t * exp(-ah * ah) * exp(g - al * (a + ah))
    return 2.0 - v if x < 0.0 else v
