"""Engine 2.0's renderer: coordinates, network and palette in one compiled pass per row.

The formulas are engine 1.0's (coords.py, network.py, engine.colourise), with two
changes: the elementary functions come from ``detmath`` (the same bits on every
CPU), and each image row is computed start to finish while it sits in cache,
instead of one numpy pass over the whole image per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from tastemaker.generate.cppn import detmath
from tastemaker.generate.cppn.coords import SYMMETRIES
from tastemaker.generate.cppn.network import INPUTS, OUTPUTS, CompiledNode

f32 = np.float32
# Activation codes, in the order of network.ACTIVATIONS.
ACTIVATION_CODES = {"sin": 0, "cos": 1, "gauss": 2, "tanh": 3, "sigmoid": 4, "abs": 5, "linear": 6}
SYMMETRY_CODES = {name: i for i, name in enumerate(SYMMETRIES)}

_HALF = f32(0.5)
_ONE = f32(1.0)
_TWO = f32(2.0)
_ZERO = f32(0.0)


@dataclass(frozen=True)
class FlatNetwork:
    """A compiled network as flat arrays: slots 0-3 are the inputs x, y, r, b."""

    acts: np.ndarray  # int64 (nodes,)
    biases: np.ndarray  # float32 (nodes,)
    starts: np.ndarray  # int64 (nodes + 1,): node i's inputs are srcs[starts[i]:starts[i+1]]
    srcs: np.ndarray  # int64 slot of each input
    weights: np.ndarray  # float32
    tone: int
    shade: int


def flatten(network: list[CompiledNode], act_names: dict[int, str]) -> FlatNetwork:
    """``act_names`` maps id(activation function) to its name (from network.ACTIVATIONS)."""
    slot = {name: i for i, name in enumerate(INPUTS)}
    for offset, node in enumerate(network):
        slot[node.id] = len(INPUTS) + offset
    starts, srcs, weights = [0], [], []
    for node in network:
        for src, weight in node.inputs:
            srcs.append(slot[src])
            weights.append(weight)
        starts.append(len(srcs))
    return FlatNetwork(
        acts=np.array([ACTIVATION_CODES[act_names[id(n.act)]] for n in network], np.int64),
        biases=np.array([n.bias for n in network], np.float32),
        starts=np.array(starts, np.int64),
        srcs=np.array(srcs, np.int64),
        weights=np.array(weights, np.float32),
        tone=slot[OUTPUTS[0]],
        shade=slot[OUTPUTS[1]],
    )


def frame(coords: dict[str, Any]) -> np.ndarray:
    """The framing numbers as float32: rotation, zoom, dx, dy, folds."""
    return np.array(
        [coords["rotation"], coords["zoom"], *coords["offset"], coords["folds"]], np.float32
    )


@numba.njit(cache=True, error_model="numpy")
def shaded_table(ramp: np.ndarray, strength: float, levels: int) -> np.ndarray:
    """(levels * len(ramp), 3) uint8: the palette ramp (float64, 0-255) darkened by up
    to ``strength`` over ``levels`` steps, rounded half to even."""
    n = ramp.shape[0]
    table = np.empty((levels * n, 3), np.uint8)
    for level in range(levels):
        light = 1.0 - strength * (level / (levels - 1))
        for i in range(n):
            for channel in range(3):
                table[level * n + i, channel] = np.uint8(np.rint(light * ramp[i, channel]))
    return table


@numba.njit(cache=True, inline="always", error_model="numpy")
def _activate(code: int, row: np.ndarray) -> None:
    n = row.size
    if code == 0:
        for c in range(n):
            row[c] = detmath.sin(row[c])
    elif code == 1:
        for c in range(n):
            row[c] = detmath.cos(row[c])
    elif code == 2:
        for c in range(n):
            row[c] = detmath.exp_nonpositive(-(row[c] * row[c]))
    elif code == 3:
        for c in range(n):
            row[c] = detmath.tanh(row[c])
    elif code == 4:
        for c in range(n):
            row[c] = detmath.tanh(row[c] * _HALF) * _HALF + _HALF
    elif code == 5:
        for c in range(n):
            row[c] = abs(row[c])
    # 6, linear: nothing to do


@numba.njit(cache=True, error_model="numpy")
def render_rows(
    size: int,
    symmetry: int,
    framing: np.ndarray,
    acts: np.ndarray,
    biases: np.ndarray,
    starts: np.ndarray,
    srcs: np.ndarray,
    weights: np.ndarray,
    tone: int,
    shade: int,
    cycles_half: np.float32,
    table: np.ndarray,
    levels: int,
    lut_size: int,
    out: np.ndarray,
) -> None:
    n_inputs = 4
    values = np.empty((n_inputs + acts.size, size), np.float32)
    axis = np.empty(size, np.float32)
    entries = np.empty(size, np.int32)
    for i in range(size):
        axis[i] = ((f32(i) + _HALF) / f32(size)) * _TWO - _ONE
    angle, zoom, dx, dy = framing[0], framing[1], framing[2], framing[3]
    cos_a, sin_a = detmath.cos(angle), detmath.sin(angle)
    sector = f32(2 * np.pi) / framing[4]
    half_sector = sector * _HALF
    lut_top = f32(lut_size - 1)
    shade_top = f32(levels - 1)
    lut_end, shade_end = f32(lut_size), f32(levels)
    lut_size = np.int32(lut_size)

    for row in range(size):
        gy = axis[row]
        xs, ys, rs, bs = values[0], values[1], values[2], values[3]
        for c in range(size):
            gx = axis[c]
            x = gx * cos_a - gy * sin_a
            y = gx * sin_a + gy * cos_a
            if symmetry == 1 or symmetry == 2:
                x = abs(x)
            if symmetry == 2:
                y = abs(y)
            if symmetry == 3:
                radius = np.sqrt(x * x + y * y)
                theta = detmath.atan2(y, x)
                theta = theta - np.floor(theta / sector) * sector
                theta = abs(theta - half_sector)
                x = radius * detmath.cos(theta)
                y = radius * detmath.sin(theta)
            x = x * zoom + dx
            y = y * zoom + dy
            xs[c] = x
            ys[c] = y
            rs[c] = np.sqrt((x * x + y * y) * _HALF)
            bs[c] = _ONE

        for node in range(acts.size):
            acc = values[n_inputs + node]
            bias = biases[node]
            first, last = starts[node], starts[node + 1]
            if first == last:
                for c in range(size):
                    acc[c] = bias
            else:
                src, w = values[srcs[first]], weights[first]
                for c in range(size):
                    acc[c] = src[c] * w + bias
                for k in range(first + 1, last):
                    src, w = values[srcs[k]], weights[k]
                    for c in range(size):
                        acc[c] += src[c] * w
            _activate(acts[node], acc)

        tones, shades = values[tone], values[shade]
        for c in range(size):  # arithmetic only, so LLVM vectorises this loop
            # Position along the palette: a triangle wave over tanh(tone), as in 1.0.
            p = (detmath.tanh(tones[c]) + _ONE) * cycles_half + _ONE
            p = abs(p - np.floor(p * _HALF) * _TWO - _ONE) * lut_top + _HALF
            d = (_HALF - detmath.tanh(shades[c]) * _HALF) * shade_top + _HALF
            # Clamp before converting: a NaN or inf must pick the same entry everywhere.
            p = p if p >= _ZERO and p < lut_end else _ZERO
            d = d if d >= _ZERO and d < shade_end else _ZERO
            entries[c] = np.int32(d) * lut_size + np.int32(p)
        for c in range(size):
            entry = entries[c]
            out[row, c, 0] = table[entry, 0]
            out[row, c, 1] = table[entry, 1]
            out[row, c, 2] = table[entry, 2]
