"""The nonlinear variations of Draves' fractal flames, as deterministic numba code.

Each takes the affinely transformed point (x, y) and returns a displacement scaled by
its weight; a transform sums its variations. Formulas follow flam3's (with
``theta = atan2(x, y)`` and ``phi = atan2(y, x)`` as flam3 defines them). Only IEEE
basic operations and detmath's functions are used, so every CPU gives the same bits.
"""

from __future__ import annotations

import numba
import numpy as np

from tastemaker.generate.cppn.detmath import atan2, cos, sin

f32 = np.float32

# The order is part of the engine version: genomes store names, kernels get codes.
VARIATIONS = (
    "linear",
    "sinusoidal",
    "spherical",
    "swirl",
    "horseshoe",
    "polar",
    "handkerchief",
    "heart",
    "disc",
    "spiral",
    "hyperbolic",
    "diamond",
    "julia",
    "bubble",
    "fisheye",
    "cylinder",
)
CODES = {name: code for code, name in enumerate(VARIATIONS)}

_EPS = f32(1e-10)
_ONE = f32(1.0)
_TWO = f32(2.0)
_FOUR = f32(4.0)
_HALF = f32(0.5)
_ZERO = f32(0.0)
_PI = f32(np.pi)
_INV_PI = f32(1 / np.pi)


# Compiled as its own function, not inlined: numba's IR-level inlining of this
# many-branched function into the chaos loop made every sample about 7x slower.
@numba.njit(cache=True, error_model="numpy")
def variation(code: int, w: np.float32, x: np.float32, y: np.float32, flip: int):  # type: ignore[no-untyped-def]
    """(dx, dy): variation ``code`` at (x, y), times weight ``w``; ``flip`` is a
    random bit (julia picks one of its two roots with it)."""
    if code == 0:  # linear
        return w * x, w * y
    if code == 1:  # sinusoidal
        return w * sin(x), w * sin(y)
    r2 = x * x + y * y + _EPS
    if code == 2:  # spherical
        s = w / r2
        return s * x, s * y
    if code == 3:  # swirl
        sr, cr = sin(r2), cos(r2)
        return w * (x * sr - y * cr), w * (x * cr + y * sr)
    if code == 13:  # bubble
        s = w * _FOUR / (r2 + _FOUR)
        return s * x, s * y
    if code == 15:  # cylinder
        return w * sin(x), w * y
    r = np.sqrt(r2)
    if code == 4:  # horseshoe
        s = w / r
        return s * (x - y) * (x + y), s * _TWO * x * y
    if code == 14:  # fisheye
        s = w * _TWO / (r + _ONE)
        return s * y, s * x
    theta = atan2(x, y)
    if code == 5:  # polar
        return w * theta * _INV_PI, w * (r - _ONE)
    if code == 6:  # handkerchief
        return w * r * sin(theta + r), w * r * cos(theta - r)
    if code == 7:  # heart
        a = theta * r
        return w * r * sin(a), -w * r * cos(a)
    if code == 8:  # disc
        a = theta * _INV_PI
        pr = _PI * r
        return w * a * sin(pr), w * a * cos(pr)
    if code == 9:  # spiral
        s = w / r
        return s * (cos(theta) + sin(r)), s * (sin(theta) - cos(r))
    if code == 10:  # hyperbolic
        return w * sin(theta) / r, w * r * cos(theta)
    if code == 11:  # diamond
        return w * sin(theta) * cos(r), w * cos(theta) * sin(r)
    # julia (code 12)
    a = atan2(y, x) * _HALF + (_PI if flip else _ZERO)
    s = w * np.sqrt(r)
    return s * cos(a), s * sin(a)


@numba.njit(cache=True, error_model="numpy")
def vary_rows(code, w, xs, ys, flips, nx, ny, count):  # type: ignore[no-untyped-def]
    """``variation`` over the first ``count`` points of ``xs``, ``ys``, added into
    ``nx``, ``ny``: the same expressions, so the same bits, one branch per run of
    points instead of one per point, and loops that LLVM can vectorise."""
    if code == 0:  # linear
        for i in range(count):
            nx[i] += w * xs[i]
            ny[i] += w * ys[i]
    elif code == 1:  # sinusoidal
        for i in range(count):
            nx[i] += w * sin(xs[i])
            ny[i] += w * sin(ys[i])
    elif code == 2:  # spherical
        for i in range(count):
            x, y = xs[i], ys[i]
            s = w / (x * x + y * y + _EPS)
            nx[i] += s * x
            ny[i] += s * y
    elif code == 3:  # swirl
        for i in range(count):
            x, y = xs[i], ys[i]
            r2 = x * x + y * y + _EPS
            sr, cr = sin(r2), cos(r2)
            nx[i] += w * (x * sr - y * cr)
            ny[i] += w * (x * cr + y * sr)
    elif code == 13:  # bubble
        for i in range(count):
            x, y = xs[i], ys[i]
            s = w * _FOUR / ((x * x + y * y + _EPS) + _FOUR)
            nx[i] += s * x
            ny[i] += s * y
    elif code == 15:  # cylinder
        for i in range(count):
            nx[i] += w * sin(xs[i])
            ny[i] += w * ys[i]
    elif code == 4:  # horseshoe
        for i in range(count):
            x, y = xs[i], ys[i]
            s = w / np.sqrt(x * x + y * y + _EPS)
            nx[i] += s * (x - y) * (x + y)
            ny[i] += s * _TWO * x * y
    elif code == 14:  # fisheye
        for i in range(count):
            x, y = xs[i], ys[i]
            s = w * _TWO / (np.sqrt(x * x + y * y + _EPS) + _ONE)
            nx[i] += s * y
            ny[i] += s * x
    elif code == 5:  # polar
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            nx[i] += w * atan2(x, y) * _INV_PI
            ny[i] += w * (r - _ONE)
    elif code == 6:  # handkerchief
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            theta = atan2(x, y)
            nx[i] += w * r * sin(theta + r)
            ny[i] += w * r * cos(theta - r)
    elif code == 7:  # heart
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            a = atan2(x, y) * r
            nx[i] += w * r * sin(a)
            ny[i] += -w * r * cos(a)
    elif code == 8:  # disc
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            a = atan2(x, y) * _INV_PI
            pr = _PI * r
            nx[i] += w * a * sin(pr)
            ny[i] += w * a * cos(pr)
    elif code == 9:  # spiral
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            theta = atan2(x, y)
            s = w / r
            nx[i] += s * (cos(theta) + sin(r))
            ny[i] += s * (sin(theta) - cos(r))
    elif code == 10:  # hyperbolic
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            theta = atan2(x, y)
            nx[i] += w * sin(theta) / r
            ny[i] += w * r * cos(theta)
    elif code == 11:  # diamond
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            theta = atan2(x, y)
            nx[i] += w * sin(theta) * cos(r)
            ny[i] += w * cos(theta) * sin(r)
    else:  # julia (code 12)
        for i in range(count):
            x, y = xs[i], ys[i]
            r = np.sqrt(x * x + y * y + _EPS)
            a = atan2(y, x) * _HALF + (_PI if flips[i] else _ZERO)
            s = w * np.sqrt(r)
            nx[i] += s * cos(a)
            ny[i] += s * sin(a)
