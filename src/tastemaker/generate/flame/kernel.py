"""The chaos game and tone mapping, compiled by numba from IEEE basic operations.

One walker per image, single-threaded, driven by an xorshift64* generator seeded
from the genome: the order in which samples land in the histogram, and so every
float32 sum, is the same on every machine. Float-to-int conversions happen only
after a range check that NaN and infinities fail. See
docs/decisions/0060-flame-engine.md.
"""

from __future__ import annotations

import numba
import numpy as np

from tastemaker.generate.cppn.detmath import log, pow_positive
from tastemaker.generate.flame.variations import variation, vary_rows

f32 = np.float32

SELECT_BITS = 10  # the transform is picked by the top bits of one draw
SELECT_SIZE = 1 << SELECT_BITS
FUSE = 20  # iterations thrown away after each (re)start, while the point converges
_BOUND = f32(1e10)
_ONE = f32(1.0)
_ZERO = f32(0.0)
_TWO = f32(2.0)
_QUARTER = f32(0.25)
_HALF = f32(0.5)
_U24 = f32(1.0 / (1 << 24))
_M = np.uint64(0x2545F4914F6CDD1D)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _next(state: np.uint64):  # type: ignore[no-untyped-def]
    """xorshift64*: (new state, 64 random bits)."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state, state * _M


@numba.njit(cache=True, inline="always", error_model="numpy")
def _unit(bits: np.uint64) -> np.float32:
    """The top 24 bits as a float32 in [0, 1), exactly."""
    return f32(np.int32(bits >> np.uint64(40))) * _U24


# The transforms and the splat are written out in chaos() rather than called: an
# array passed to even an inlined function costs atomic reference counting on every
# iteration, which tripled the time per sample.


@numba.njit(cache=True, error_model="numpy")
def chaos(  # type: ignore[no-untyped-def]
    samples,  # how many points to plot
    seed,  # uint64, non-zero
    affine,  # (n + 1, 6) float32: x' = a x + b y + c, y' = d x + e y + f; row n: final
    vidx,  # (n + 1, V) int32 variation codes
    vw,  # (n + 1, V) float32 variation weights
    vcount,  # (n + 1,) int32 variations used per transform
    colors,  # (n,) float32 colour index per transform
    speeds,  # (n,) float32 how far each transform pulls the colour toward its own
    select,  # (SELECT_SIZE,) int32 transform per top-bits value, by weight
    has_final,  # bool
    sym,  # (k, 2) float32 cos, sin of the rotational symmetry's angles
    view,  # (6,) float32 world -> histogram: gx = v0 x + v1 y + v2, gy = v3 x + v4 y + v5
    hist,  # (H, W, 2) float32, accumulated into: colour-index sum, density
    points,  # (m, 2) float32: if m > 0, record the first m points instead of plotting
):
    n = colors.shape[0]
    final = n
    nsym = np.uint64(sym.shape[0])
    height, width = hist.shape[0], hist.shape[1]
    gxmax, gymax = f32(width - 1), f32(height - 1)
    record = points.shape[0]
    target = record if record > 0 else samples
    state = np.uint64(seed)
    state, bits = _next(state)
    x = _unit(bits) * _TWO - _ONE
    state, bits = _next(state)
    y = _unit(bits) * _TWO - _ONE
    state, bits = _next(state)
    c = _unit(bits)
    age = -FUSE
    plotted = 0
    budget = 4 * target + 100 * FUSE  # gives up on genomes whose points all fly off
    for _ in range(budget):
        if plotted >= target:
            break
        state, bits = _next(state)
        k = select[np.int64(bits >> np.uint64(64 - SELECT_BITS))]
        flip = np.int64((bits >> np.uint64(32)) & np.uint64(1))
        tx = affine[k, 0] * x + affine[k, 1] * y + affine[k, 2]
        ty = affine[k, 3] * x + affine[k, 4] * y + affine[k, 5]
        nx = _ZERO
        ny = _ZERO
        for j in range(vcount[k]):
            dx, dy = variation(vidx[k, j], vw[k, j], tx, ty, flip)
            nx += dx
            ny += dy
        if not (abs(nx) < _BOUND and abs(ny) < _BOUND):  # NaN fails too: restart
            state, bits = _next(state)
            x = _unit(bits) * _TWO - _ONE
            state, bits = _next(state)
            y = _unit(bits) * _TWO - _ONE
            age = -FUSE
            continue
        x, y = nx, ny
        c = c + (colors[k] - c) * speeds[k]
        age += 1
        if age <= 0:
            continue
        px, py = x, y
        if has_final:
            tx = affine[final, 0] * x + affine[final, 1] * y + affine[final, 2]
            ty = affine[final, 3] * x + affine[final, 4] * y + affine[final, 5]
            px = _ZERO
            py = _ZERO
            for j in range(vcount[final]):
                dx, dy = variation(vidx[final, j], vw[final, j], tx, ty, flip)
                px += dx
                py += dy
            if not (abs(px) < _BOUND and abs(py) < _BOUND):
                continue
        # symmetry copy: 16 random bits times k, over 2**16 (no division)
        s = np.int64((((bits >> np.uint64(16)) & np.uint64(0xFFFF)) * nsym) >> np.uint64(16))
        qx = sym[s, 0] * px - sym[s, 1] * py
        qy = sym[s, 1] * px + sym[s, 0] * py
        if record > 0:
            points[plotted, 0] = qx
            points[plotted, 1] = qy
            plotted += 1
            continue
        plotted += 1
        gx = view[0] * qx + view[1] * qy + view[2]
        gy = view[3] * qx + view[4] * qy + view[5]
        if not (gx >= _ZERO and gx < gxmax and gy >= _ZERO and gy < gymax):  # NaN fails
            continue
        ix = np.int64(gx + _HALF)
        iy = np.int64(gy + _HALF)
        hist[iy, ix, 0] += min(max(c, _ZERO), _ONE)
        hist[iy, ix, 1] += _ONE
    return plotted


@numba.njit(cache=True, error_model="numpy")
def tone_map(hist, palette, k1, k2, gamma, vibrancy, threshold, out):  # type: ignore[no-untyped-def]
    """flam3's log-density tone mapping of a histogram with a one-cell border.

    The histogram is first smoothed by a [1 2 1] / 4 filter each way (the
    reconstruction filter: a sample lands in its nearest cell). A cell of density a
    then gets alpha = k1 log(1 + k2 a); its mean colour index picks a palette colour,
    scaled by alpha ** (1 / gamma) (vibrancy) blended with the gamma curve of each
    channel, on black. Below ``threshold`` the gamma curve becomes a straight line
    (flam3's gamma threshold), so stray samples stay dim instead of dusting the black.
    """
    size = out.shape[0]
    height = hist.shape[0]
    top = palette.shape[0] - 1
    ptop = f32(top)
    rows = np.empty((height, size, 2), dtype=np.float32)
    for y in range(height):
        for x in range(size):
            for ch in range(2):
                rows[y, x, ch] = (
                    hist[y, x, ch] + _TWO * hist[y, x + 1, ch] + hist[y, x + 2, ch]
                ) * _QUARTER
    inv_gamma = _ONE / gamma
    rest = _ONE - vibrancy
    slope = pow_positive(threshold, inv_gamma) / threshold
    # (colour * alpha) ** (1 / gamma) = colour ** (1 / gamma) * alpha ** (1 / gamma):
    # the palette's side is worked out once per render, not per pixel.
    curved = np.empty_like(palette)
    for i in range(palette.shape[0]):
        for ch in range(3):
            curved[i, ch] = pow_positive(palette[i, ch], inv_gamma)
    alphas = np.empty(size, np.float32)
    glows = np.empty(size, np.float32)
    index = np.empty(size, np.int64)
    for y in range(size):
        # First, per row, what needs no table lookup: branch-free, so LLVM vectorises
        # it (the same expressions as one pixel at a time, so the same bits).
        for x in range(size):
            a = (rows[y, x, 1] + _TWO * rows[y + 1, x, 1] + rows[y + 2, x, 1]) * _QUARTER
            lit = a > _ZERO
            alpha = k1 * log(_ONE + k2 * a)
            alpha = alpha if lit else _ZERO
            cs = (rows[y, x, 0] + _TWO * rows[y + 1, x, 0] + rows[y + 2, x, 0]) * _QUARTER
            ratio = cs / (a if lit else _ONE)
            ratio = min(max(ratio, _ZERO), _ONE) if lit else _ZERO
            index[x] = np.int64(ratio * ptop + _HALF)
            power = pow_positive(alpha, inv_gamma)
            glows[x] = power if alpha >= threshold else alpha * slope
            alphas[x] = alpha
        # Then the palette lookups.
        for x in range(size):
            alpha = alphas[x]
            if not alpha > _ZERO:
                out[y, x, 0] = 0
                out[y, x, 1] = 0
                out[y, x, 2] = 0
                continue
            ci = index[x]
            glow = glows[x]
            for ch in range(3):
                v = palette[ci, ch] * alpha
                own = curved[ci, ch] * glow if v >= threshold else v * slope
                value = vibrancy * palette[ci, ch] * glow + rest * own
                value = min(max(value, _ZERO), _ONE) * f32(255.0) + _HALF
                out[y, x, ch] = np.uint8(np.int32(value))


WALKERS = 256  # at most; fewer for small renders, so each walker's fuse stays a small share
WALKER_SAMPLES = 1024  # at least this many samples per walker


def walker_count(samples: int) -> int:
    return int(min(WALKERS, max(1, samples // WALKER_SAMPLES)))


@numba.njit(cache=True, error_model="numpy")
def chaos_walkers(  # type: ignore[no-untyped-def]
    samples,  # how many points to plot (each symmetry copy counts)
    seed,  # uint64, non-zero
    affine,  # as chaos()
    vidx,
    vw,
    vcount,
    colors,
    speeds,
    select,
    has_final,
    sym,
    view,
    hist,  # (H, W, 2) float32, accumulated into: colour-index sum, density
    walkers,  # independent walkers played in lockstep
):
    """Flame 1.1's chaos game: ``walkers`` walkers take one step each in turn.

    Each step draws every walker's transform, then runs each transform over the
    walkers that drew it: the variation branch is the same for a run of walkers (a
    single walker's random transform choice mispredicts it nearly every time), and
    the walkers' work is independent, so the CPU overlaps it. Every symmetry copy of
    each point is plotted. Points are splatted in walker order, so every float32 sum
    in the histogram is made in one order on every machine.
    """
    n = colors.shape[0]
    final = n
    nsym = sym.shape[0]
    height, width = hist.shape[0], hist.shape[1]
    gxmax, gymax = f32(width - 1), f32(height - 1)
    w_count = walkers
    states = np.empty(w_count, np.uint64)
    xs = np.empty(w_count, np.float32)
    ys = np.empty(w_count, np.float32)
    cs = np.empty(w_count, np.float32)
    ages = np.empty(w_count, np.int64)
    ks = np.empty(w_count, np.int64)
    flips = np.empty(w_count, np.int64)
    order = np.empty(w_count, np.int64)  # walkers grouped by transform
    starts = np.zeros(n + 1, np.int64)
    nxs = np.empty(w_count, np.float32)
    nys = np.empty(w_count, np.float32)
    gtx = np.empty(w_count, np.float32)  # one transform's group, contiguous
    gty = np.empty(w_count, np.float32)
    gnx = np.empty(w_count, np.float32)
    gny = np.empty(w_count, np.float32)
    gfl = np.empty(w_count, np.int64)
    state = np.uint64(seed)
    for w in range(w_count):
        state, bits = _next(state)
        s = bits | np.uint64(1)
        s, bits = _next(s)
        xs[w] = _unit(bits) * _TWO - _ONE
        s, bits = _next(s)
        ys[w] = _unit(bits) * _TWO - _ONE
        s, bits = _next(s)
        cs[w] = _unit(bits)
        states[w] = s
        ages[w] = -FUSE
    plotted = 0
    steps = (4 * samples) // (w_count * nsym) + 100 * FUSE  # gives up on flying-off genomes
    for _ in range(steps):
        if plotted >= samples:
            break
        for i in range(n + 1):
            starts[i] = 0
        for w in range(w_count):
            s, bits = _next(states[w])
            states[w] = s
            k = np.int64(select[np.int64(bits >> np.uint64(64 - SELECT_BITS))])
            ks[w] = k
            flips[w] = np.int64((bits >> np.uint64(32)) & np.uint64(1))
            starts[k + 1] += 1
        for k in range(n):
            starts[k + 1] += starts[k]
        for w in range(w_count):  # a stable counting sort: walkers in order within a group
            k = ks[w]
            order[starts[k]] = w
            starts[k] += 1
        first = 0
        for k in range(n):
            last = starts[k]  # after the sort, starts[k] is where group k ends
            a0, a1, a2 = affine[k, 0], affine[k, 1], affine[k, 2]
            a3, a4, a5 = affine[k, 3], affine[k, 4], affine[k, 5]
            m = last - first
            for i in range(m):  # gather the group into contiguous rows
                w = order[first + i]
                x, y = xs[w], ys[w]
                gtx[i] = a0 * x + a1 * y + a2
                gty[i] = a3 * x + a4 * y + a5
                gfl[i] = flips[w]
                gnx[i] = _ZERO
                gny[i] = _ZERO
            for j in range(vcount[k]):
                vary_rows(vidx[k, j], vw[k, j], gtx, gty, gfl, gnx, gny, m)
            for i in range(m):
                w = order[first + i]
                nxs[w] = gnx[i]
                nys[w] = gny[i]
            first = last
        ready = 0  # walkers that plot this step, in walker order
        for w in range(w_count):
            nx, ny = nxs[w], nys[w]
            if not (abs(nx) < _BOUND and abs(ny) < _BOUND):  # NaN fails too: restart
                s, bits = _next(states[w])
                xs[w] = _unit(bits) * _TWO - _ONE
                s, bits = _next(s)
                ys[w] = _unit(bits) * _TWO - _ONE
                states[w] = s
                ages[w] = -FUSE
                continue
            k = ks[w]
            xs[w] = nx
            ys[w] = ny
            cs[w] = cs[w] + (colors[k] - cs[w]) * speeds[k]
            ages[w] += 1
            if ages[w] <= 0:
                continue
            order[ready] = w
            gfl[ready] = flips[w]
            if has_final:
                gtx[ready] = affine[final, 0] * nx + affine[final, 1] * ny + affine[final, 2]
                gty[ready] = affine[final, 3] * nx + affine[final, 4] * ny + affine[final, 5]
                gnx[ready] = _ZERO
                gny[ready] = _ZERO
            else:
                gnx[ready] = nx
                gny[ready] = ny
            ready += 1
        if has_final:
            for j in range(vcount[final]):
                vary_rows(vidx[final, j], vw[final, j], gtx, gty, gfl, gnx, gny, ready)
        for i in range(ready):
            if plotted >= samples:
                break
            px, py = gnx[i], gny[i]
            if not (abs(px) < _BOUND and abs(py) < _BOUND):
                continue
            colour = min(max(cs[order[i]], _ZERO), _ONE)
            for s_ in range(nsym):
                qx = sym[s_, 0] * px - sym[s_, 1] * py
                qy = sym[s_, 1] * px + sym[s_, 0] * py
                plotted += 1
                gx = view[0] * qx + view[1] * qy + view[2]
                gy = view[3] * qx + view[4] * qy + view[5]
                if not (gx >= _ZERO and gx < gxmax and gy >= _ZERO and gy < gymax):
                    continue
                ix = np.int64(gx + _HALF)
                iy = np.int64(gy + _HALF)
                hist[iy, ix, 0] += colour
                hist[iy, ix, 1] += _ONE
    return plotted
