"""The CPPN itself: a feed-forward network of nodes evaluated over pixel coordinates.

A genome's ``data`` is plain JSON:

    {"coords":  {"symmetry", "folds", "zoom", "rotation", "offset": [dx, dy]},
     "nodes":   [{"id", "act", "bias", "depth"}],       # hidden and output nodes
     "conns":   [{"src", "dst", "w", "on"}],
     "palette": {"colors": ["#rrggbb", ...], "cycles", "shade"}}

Inputs are the fixed nodes x, y, r, b at depth 0; the outputs ``tone`` and
``shade`` sit at depth 1. A connection must go from a lower to a higher depth,
which keeps every network acyclic without a global innovation registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tastemaker.errors import GenomeError
from tastemaker.generate.cppn.coords import SYMMETRIES

INPUTS = ("x", "y", "r", "b")
OUTPUTS = ("tone", "shade")
MAX_NODES = 48
MAX_CONNS = 160


# Activations work in place on the node's own sum (a fresh 256 KiB array per node
# and pixel plane was a measurable share of rendering); the arithmetic is unchanged.
def _gauss(v: np.ndarray) -> np.ndarray:
    np.multiply(v, v, out=v)
    np.negative(v, out=v)
    return np.exp(v, out=v)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    np.multiply(v, np.float32(0.5), out=v)
    np.tanh(v, out=v)
    np.multiply(v, np.float32(0.5), out=v)
    return np.add(v, np.float32(0.5), out=v)


def _in_place(ufunc: np.ufunc) -> Callable[[np.ndarray], np.ndarray]:
    return lambda v: ufunc(v, out=v)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": _in_place(np.sin),
    "cos": _in_place(np.cos),
    "gauss": _gauss,
    "tanh": _in_place(np.tanh),
    "sigmoid": _sigmoid,
    "abs": _in_place(np.abs),
    "linear": lambda v: v,
}


@dataclass(frozen=True)
class CompiledNode:
    id: str
    act: Callable[[np.ndarray], np.ndarray]
    bias: np.float32
    inputs: tuple[tuple[str, np.float32], ...]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise GenomeError(message)


def _number(value: Any, what: str) -> float:
    _require(
        isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value),
        f"{what} must be a finite number",
    )
    return float(value)


def validate(data: dict[str, Any]) -> None:
    """Raise ``GenomeError`` with a precise message if ``data`` is not a valid CPPN."""
    for key in ("coords", "nodes", "conns", "palette"):
        _require(key in data, f"cppn genome is missing '{key}'")
    coords, palette = data["coords"], data["palette"]
    _require(isinstance(coords, dict), "'coords' must be an object")
    _require(coords.get("symmetry") in SYMMETRIES, f"'symmetry' must be one of {SYMMETRIES}")
    folds = coords.get("folds")
    _require(isinstance(folds, int) and 2 <= folds <= 16, "'folds' must be an integer 2-16")
    _require(0 < _number(coords.get("zoom"), "'zoom'") <= 64, "'zoom' must be in (0, 64]")
    _number(coords.get("rotation"), "'rotation'")
    offset = coords.get("offset")
    _require(isinstance(offset, list) and len(offset) == 2, "'offset' must be [dx, dy]")
    for v in offset:
        _number(v, "'offset'")

    _require(isinstance(palette, dict), "'palette' must be an object")
    colors = palette.get("colors")
    _require(
        isinstance(colors, list) and 2 <= len(colors) <= 16,
        "'palette.colors' must list 2-16 colours",
    )
    for c in colors:
        ok = isinstance(c, str) and len(c) == 7 and c[0] == "#"
        _require(ok and all(ch in "0123456789abcdefABCDEF" for ch in c[1:]), f"bad colour {c!r}")
    _require(0.25 <= _number(palette.get("cycles"), "'cycles'") <= 8, "'cycles' must be 0.25-8")
    _require(0 <= _number(palette.get("shade"), "'shade'") <= 1, "'shade' must be 0-1")

    nodes, conns = data["nodes"], data["conns"]
    _require(isinstance(nodes, list) and len(nodes) <= MAX_NODES, f"at most {MAX_NODES} nodes")
    _require(isinstance(conns, list) and len(conns) <= MAX_CONNS, f"at most {MAX_CONNS} conns")
    depth = {name: 0.0 for name in INPUTS}
    for node in nodes:
        _require(isinstance(node, dict), "each node must be an object")
        node_id = node.get("id")
        _require(isinstance(node_id, str) and node_id not in depth, f"bad node id {node_id!r}")
        _require(node.get("act") in ACTIVATIONS, f"unknown activation {node.get('act')!r}")
        _number(node.get("bias"), "node 'bias'")
        d = _number(node.get("depth"), "node 'depth'")
        _require(0 < d <= 1, f"node {node_id} depth must be in (0, 1]")
        _require((node_id in OUTPUTS) == (d == 1.0), "only the outputs sit at depth 1")
        depth[node_id] = d
    for out in OUTPUTS:
        _require(out in depth, f"cppn genome has no output node '{out}'")
    for conn in conns:
        _require(isinstance(conn, dict), "each connection must be an object")
        src, dst = conn.get("src"), conn.get("dst")
        _require(src in depth and dst in depth, f"connection {src}->{dst} names unknown nodes")
        _require(depth[src] < depth[dst], f"connection {src}->{dst} must go forward")
        _number(conn.get("w"), "connection weight")
        _require(isinstance(conn.get("on"), bool), "connection 'on' must be true or false")


def compile_network(data: dict[str, Any]) -> list[CompiledNode]:
    """Nodes in evaluation order (by depth, then id) with their enabled inputs."""
    incoming: dict[str, list[tuple[str, np.float32]]] = {}
    for conn in data["conns"]:
        if conn["on"]:
            incoming.setdefault(conn["dst"], []).append((conn["src"], np.float32(conn["w"])))
    # Only nodes with a path to an output affect the picture: skip the rest.
    needed, frontier = set(OUTPUTS), list(OUTPUTS)
    while frontier:
        for src, _ in incoming.get(frontier.pop(), []):
            if src not in needed:
                needed.add(src)
                frontier.append(src)
    ordered = sorted(
        (n for n in data["nodes"] if n["id"] in needed), key=lambda n: (n["depth"], n["id"])
    )
    return [
        CompiledNode(
            id=n["id"],
            act=ACTIVATIONS[n["act"]],
            bias=np.float32(n["bias"]),
            inputs=tuple(sorted(incoming.get(n["id"], []))),
        )
        for n in ordered
    ]


def evaluate(network: list[CompiledNode], inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the network over every pixel; returns the raw output planes."""
    values = dict(inputs)
    shape = inputs["x"].shape
    scratch = np.empty(shape, dtype=np.float32)
    for node in network:
        # (bias + w1*v1) + w2*v2 + ..., in this order: one rounding per step as before,
        # and addition commutes exactly, so w1*v1 + bias is the same float.
        if not node.inputs:
            values[node.id] = node.act(np.full(shape, node.bias, dtype=np.float32))
            continue
        (first, first_weight), *rest = node.inputs
        total = np.multiply(values[first], first_weight)
        total += node.bias
        for src, weight in rest:
            np.multiply(values[src], weight, out=scratch)
            total += scratch
        values[node.id] = node.act(total)
    return {name: values[name] for name in OUTPUTS}
