"""Elementary functions that give the same float32 bits on every CPU.

numpy's ``sin``, ``exp``, ``tanh`` and ``arctan2`` pick a SIMD kernel for the CPU
they run on (SSE, AVX2, AVX-512, NEON), and those kernels differ in the last bits.
A work's content hash is its identity on chain, so engine 2.0 renders with these
instead: range reduction and polynomials built only from IEEE-754 ``+ - * /``,
``sqrt`` and ``floor``, which every conforming CPU rounds identically. Numba
compiles them without ``fastmath``, so LLVM neither reorders nor fuses them into
FMAs (docs/decisions/0025-cross-cpu-rendering.md).

Every constant is a float32 and every operation is float32 on float32, so the
code means one thing whatever SIMD width LLVM vectorises it to. Accuracy is a few
float32 ulps on the ranges a CPPN sees (tests compare with float64 numpy), which
is far below what a 512-entry palette can show.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

f32 = np.float32

# Cody-Waite split of 2*pi: the high part has 12 significant bits, so k * HI is
# exact for |k| < 2**12 and the reduction loses nothing for |x| < ~25,000.
_TWO_PI_HI = f32(6.28125)
_TWO_PI_LO = f32(2 * np.pi - 6.28125)
_INV_TWO_PI = f32(1 / (2 * np.pi))
_PI = f32(np.pi)
_HALF_PI = f32(np.pi / 2)
_QUARTER_PI = f32(np.pi / 4)
_HALF = f32(0.5)
_ONE = f32(1.0)
_ZERO = f32(0.0)

# Taylor coefficients of sin on [-pi/2, pi/2]; the first term left out is
# (pi/2)**13 / 13! < 6e-8.
_S3 = f32(-1 / 6)
_S5 = f32(1 / 120)
_S7 = f32(-1 / 5040)
_S9 = f32(1 / 362880)
_S11 = f32(-1 / 39916800)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _reduce(x: np.float32) -> np.float32:
    """x minus the nearest multiple of 2*pi: a value in [-pi, pi]."""
    k = np.floor(x * _INV_TWO_PI + _HALF)
    return (x - k * _TWO_PI_HI) - k * _TWO_PI_LO


@numba.njit(cache=True, inline="always", error_model="numpy")
def _sin_poly(s: np.float32) -> np.float32:
    """sin(s) for s in [-pi/2, pi/2]."""
    z = s * s
    return s + s * z * (_S3 + z * (_S5 + z * (_S7 + z * (_S9 + z * _S11))))


@numba.njit(cache=True, inline="always", error_model="numpy")
def sin(x: np.float32) -> np.float32:
    r = _reduce(x)
    a = abs(r)
    folded = min(a, _PI - a)  # sin(r) = sin(pi - r): bring r into [-pi/2, pi/2]
    return _sin_poly(folded if r >= _ZERO else -folded)


@numba.njit(cache=True, inline="always", error_model="numpy")
def cos(x: np.float32) -> np.float32:
    return _sin_poly(_HALF_PI - abs(_reduce(x)))  # cos(r) = sin(pi/2 - |r|)


# tanh as a rational function, clamped where float32 tanh is already +-1 to within
# an ulp: the coefficients of Eigen's float tanh (MathFunctionsImpl.h).
_TANH_CLAMP = f32(7.90531110763549805)
_TANH_CLAMP_NEG = -_TANH_CLAMP
_TANH_TINY = f32(0.0004)
_A1 = f32(4.89352455891786e-03)
_A3 = f32(6.37261928875436e-04)
_A5 = f32(1.48572235717979e-05)
_A7 = f32(5.12229709037114e-08)
_A9 = f32(-8.60467152213735e-11)
_A11 = f32(2.00018790482477e-13)
_A13 = f32(-2.76076847742355e-16)
_B0 = f32(4.89352518554385e-03)
_B2 = f32(2.26843463243900e-03)
_B4 = f32(1.18534705686654e-04)
_B6 = f32(1.19825839466702e-06)


@numba.njit(cache=True, inline="always", error_model="numpy")
def tanh(x: np.float32) -> np.float32:
    # Branch-free (selects only), so LLVM can vectorise a loop of it.
    c = min(max(x, _TANH_CLAMP_NEG), _TANH_CLAMP)
    z = c * c
    p = c * (_A1 + z * (_A3 + z * (_A5 + z * (_A7 + z * (_A9 + z * (_A11 + z * _A13))))))
    q = _B0 + z * (_B2 + z * (_B4 + z * _B6))
    t = p / q
    return t


# exp for x <= 0 (all a gauss activation needs): x = k*ln2 + r with |r| <= ln2/2,
# e**r by its Taylor series (first term left out: 0.347**7 / 7! < 2e-7), times 2**k
# built exactly from its exponent bits. Below -87 the result is under float32's
# normal range, and it is 0 here.
_LOG2E = f32(1 / np.log(2))
_LN2_HI = f32(0.693145751953125)  # 16 significant bits: k * HI is exact
_LN2_LO = f32(np.log(2) - 0.693145751953125)
_EXP_FLOOR = f32(-87.0)
_E2 = f32(1 / 2)
_E3 = f32(1 / 6)
_E4 = f32(1 / 24)
_E5 = f32(1 / 120)
_E6 = f32(1 / 720)


@intrinsic
def _float32_from_bits(typingctx, bits):  # type: ignore[no-untyped-def]
    """Reinterpret an int32's bits as a float32 (a bitcast, as C's memcpy would)."""
    signature = types.float32(types.int32)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.FloatType())

    return signature, codegen


@numba.njit(cache=True, inline="always", error_model="numpy")
def exp_nonpositive(x: np.float32) -> np.float32:
    """e**x for x <= 0 (x above 0 is treated as 0, x below -87 gives 0)."""
    c = min(max(x, _EXP_FLOOR), _ZERO)
    k = np.floor(c * _LOG2E + _HALF)  # in [-126, 0]
    r = (c - k * _LN2_HI) - k * _LN2_LO
    p = _ONE + r * (_ONE + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * _E6)))))
    scale = _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))  # 2**k
    return p * scale if x >= _EXP_FLOOR else _ZERO


# atan on [0, tan(pi/8)] by cephes' atanf polynomial; atan2 reduces to it.
_TAN_PI_8 = f32(0.4142135623730950)
_T1 = f32(8.05374449538e-2)
_T2 = f32(-1.38776856032e-1)
_T3 = f32(1.99777106478e-1)
_T4 = f32(-3.33329491539e-1)


@numba.njit(cache=True, inline="always", error_model="numpy")
def atan2(y: np.float32, x: np.float32) -> np.float32:
    ax, ay = abs(x), abs(y)
    big, small = max(ax, ay), min(ax, ay)
    t = small / big if big > _ZERO else _ZERO  # in [0, 1]
    base = _ZERO
    if t > _TAN_PI_8:  # atan(t) = pi/4 + atan((t - 1) / (t + 1))
        t = (t - _ONE) / (t + _ONE)
        base = _QUARTER_PI
    z = t * t
    angle = base + (t + t * z * (_T4 + z * (_T3 + z * (_T2 + z * _T1))))
    if ay > ax:
        angle = _HALF_PI - angle
    if x < _ZERO:
        angle = _PI - angle
    return -angle if y < _ZERO else angle


@intrinsic
def _bits_from_float32(typingctx, value):  # type: ignore[no-untyped-def]
    """Reinterpret a float32's bits as an int32."""
    signature = types.int32(types.float32)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(32))

    return signature, codegen


# General exp (the flame engine's tone mapping): as exp_nonpositive, for x in
# [-87, 88]; the result saturates at the ends of that range.
_EXP_CEIL = f32(88.0)


@numba.njit(cache=True, inline="always", error_model="numpy")
def exp(x: np.float32) -> np.float32:
    """e**x for x in [-87, 88]; x is clamped into that range first."""
    c = min(max(x, _EXP_FLOOR), _EXP_CEIL)
    k = np.floor(c * _LOG2E + _HALF)  # in [-126, 127]
    r = (c - k * _LN2_HI) - k * _LN2_LO
    p = _ONE + r * (_ONE + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * _E6)))))
    return p * _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))


# log: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), both read from the bits; then
# log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its odd series (first
# term left out: 2 * 0.172**11 / 11 < 7e-10).
_MIN_NORMAL = f32(1.1754943508222875e-38)
_MAX_FLOAT = f32(3.4028234663852886e38)
_SQRT_HALF_BITS = np.int32(0x3F3504F3)  # the bits of sqrt(1/2)
_MANTISSA = np.int32(0x007FFFFF)
_LN2_F = f32(np.log(2))
_L3 = f32(1 / 3)
_L5 = f32(1 / 5)
_L7 = f32(1 / 7)
_L9 = f32(1 / 9)
_TWO = f32(2.0)


@numba.njit(cache=True, inline="always", error_model="numpy")
def log(x: np.float32) -> np.float32:
    """Natural log for x > 0; x is clamped into float32's normal range first (so 0
    gives log of the smallest normal, about -87.3)."""
    c = min(max(x, _MIN_NORMAL), _MAX_FLOAT)
    bits = _bits_from_float32(c)
    # Shift the split point to sqrt(1/2): the exponent of c / sqrt(1/2), and m = c / 2**e.
    shifted = bits - _SQRT_HALF_BITS
    e = shifted >> np.int32(23)
    m = _float32_from_bits((shifted & _MANTISSA) + _SQRT_HALF_BITS)
    s = (m - _ONE) / (m + _ONE)
    z = s * s
    log_m = _TWO * s + _TWO * s * z * (_L3 + z * (_L5 + z * (_L7 + z * _L9)))
    return f32(e) * _LN2_HI + (f32(e) * _LN2_LO + log_m)


@numba.njit(cache=True, inline="always", error_model="numpy")
def pow_positive(x: np.float32, y: np.float32) -> np.float32:
    """x**y for x > 0 as exp(y log x); 0 for x <= 0."""
    return exp(y * log(x)) if x > _ZERO else _ZERO


@numba.njit(cache=True, error_model="numpy")
def _map1(code: int, values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    for i in range(values.size):
        v = values.flat[i]
        if code == 0:
            out.flat[i] = sin(v)
        elif code == 1:
            out.flat[i] = cos(v)
        elif code == 2:
            out.flat[i] = tanh(v)
        elif code == 3:
            out.flat[i] = exp_nonpositive(v)
        elif code == 4:
            out.flat[i] = exp(v)
        else:
            out.flat[i] = log(v)
    return out


@numba.njit(cache=True, error_model="numpy")
def _map2(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(y)
    for i in range(y.size):
        out.flat[i] = atan2(y.flat[i], x.flat[i])
    return out


_CODES = {"sin": 0, "cos": 1, "tanh": 2, "exp_nonpositive": 3, "exp": 4, "log": 5}


def apply(name: str, values: np.ndarray) -> np.ndarray:
    """Elementwise ``name`` over a float32 array (for tests, tools and plots)."""
    return _map1(_CODES[name], np.ascontiguousarray(values, dtype=np.float32))


def apply_atan2(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    y32, x32 = np.broadcast_arrays(np.asarray(y, np.float32), np.asarray(x, np.float32))
    return _map2(np.ascontiguousarray(y32), np.ascontiguousarray(x32))
