"""NEAT-style variation for CPPN genomes: random networks, mutation and crossover.

Node ids come from the structure that made them (a split of connection a->b is
always node ``n<hash(a>b)>``), so the same innovation in two lineages gets the
same id and crossover can align genes without a global innovation counter.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import numpy as np

from tastemaker.generate.cppn.coords import SYMMETRIES
from tastemaker.generate.cppn.network import INPUTS, MAX_CONNS, MAX_NODES, OUTPUTS
from tastemaker.generate.cppn.palette import random_palette

HIDDEN_ACTIVATIONS = ("sin", "cos", "gauss", "tanh", "sigmoid", "abs", "linear")
# Periodic and bell-shaped functions give Picbreeder's repetition and symmetry.
HIDDEN_WEIGHTS = (0.22, 0.1, 0.26, 0.16, 0.08, 0.1, 0.08)
_HIDDEN_CUMULATIVE = np.cumsum(HIDDEN_WEIGHTS)


def _r(value: float) -> float:
    """Round stored numbers so genomes stay short and readable."""
    return round(float(value), 4)


def _act(rng: np.random.Generator) -> str:
    # searchsorted on one uniform draw: rng.choice with p= is ~20x slower per call.
    index = int(np.searchsorted(_HIDDEN_CUMULATIVE, rng.random() * _HIDDEN_CUMULATIVE[-1]))
    return HIDDEN_ACTIVATIONS[min(index, len(HIDDEN_ACTIVATIONS) - 1)]


def _node_id(*parts: str) -> str:
    return "n" + hashlib.sha256(">".join(parts).encode()).hexdigest()[:8]


def random_coords(rng: np.random.Generator) -> dict[str, Any]:
    symmetry = str(rng.choice(SYMMETRIES, p=(0.35, 0.25, 0.15, 0.25)))
    return {
        "symmetry": symmetry,
        "folds": int(rng.integers(3, 9)),
        "zoom": _r(np.exp(rng.uniform(np.log(0.7), np.log(3.5)))),
        "rotation": _r(rng.uniform(-np.pi, np.pi)),
        "offset": [_r(rng.normal(0, 0.3)), _r(rng.normal(0, 0.3))],
    }


def random_palette_genes(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "colors": random_palette(rng),
        "cycles": _r(rng.choice([1.0, 1.0, 1.5, 2.0, 3.0])),
        "shade": _r(rng.uniform(0.0, 0.6)),
    }


def random_data(rng: np.random.Generator) -> dict[str, Any]:
    """A small random network: a few hidden nodes fed by the inputs and each other."""
    n_hidden = int(rng.integers(3, 9))
    hidden = sorted(rng.uniform(0.1, 0.9, n_hidden))
    nodes = [
        {
            "id": "h" + format(int(rng.integers(0, 2**32)), "08x"),
            "act": _act(rng),
            "bias": _r(rng.normal(0, 0.5)),
            "depth": _r(d),
        }
        for d in hidden
    ]
    nodes += [{"id": out, "act": "linear", "bias": 0.0, "depth": 1.0} for out in OUTPUTS]
    depth = {name: 0.0 for name in INPUTS} | {n["id"]: n["depth"] for n in nodes}
    conns: dict[tuple[str, str], dict[str, Any]] = {}
    for node in nodes:
        is_output = node["id"] in OUTPUTS
        # Outputs read hidden nodes only, so every picture passes through some structure.
        # Nodes have their own bias, so the constant input b would only flatten them.
        earlier = [
            k
            for k, d in depth.items()
            if d < node["depth"] and k != "b" and not (is_output and d == 0.0)
        ]
        k = int(rng.integers(1, 4))
        for src in (earlier[i] for i in rng.permutation(len(earlier))[:k]):
            scale = 2.2 if src in INPUTS else 1.4
            conns[(str(src), node["id"])] = {
                "src": str(src),
                "dst": node["id"],
                "w": _r(rng.normal(0, scale)),
                "on": True,
            }
    return {
        "coords": random_coords(rng),
        "nodes": nodes,
        "conns": list(conns.values()),
        "palette": random_palette_genes(rng),
    }


def _depths(data: dict[str, Any]) -> dict[str, float]:
    return {name: 0.0 for name in INPUTS} | {n["id"]: n["depth"] for n in data["nodes"]}


def _perturb_weights(data: dict[str, Any], rng: np.random.Generator) -> None:
    for conn in data["conns"]:
        if rng.random() < 0.35:
            conn["w"] = _r(conn["w"] + rng.normal(0, 0.45))
    for node in data["nodes"]:
        if node["id"] not in OUTPUTS and rng.random() < 0.2:
            node["bias"] = _r(node["bias"] + rng.normal(0, 0.3))


def _add_node(data: dict[str, Any], rng: np.random.Generator) -> None:
    enabled = [c for c in data["conns"] if c["on"]]
    if not enabled or len(data["nodes"]) >= MAX_NODES or len(data["conns"]) + 2 > MAX_CONNS:
        return
    conn = enabled[int(rng.integers(len(enabled)))]
    depth = _depths(data)
    new_id = _node_id(conn["src"], conn["dst"])
    while new_id in depth:  # the same split again after a re-enable: derive a fresh id
        new_id = _node_id(new_id, "again")
    conn["on"] = False
    data["nodes"].append(
        {
            "id": new_id,
            "act": _act(rng),
            "bias": 0.0,
            "depth": _r((depth[conn["src"]] + depth[conn["dst"]]) / 2),
        }
    )
    data["conns"].append({"src": conn["src"], "dst": new_id, "w": 1.0, "on": True})
    data["conns"].append({"src": new_id, "dst": conn["dst"], "w": conn["w"], "on": True})


def _add_connection(data: dict[str, Any], rng: np.random.Generator) -> None:
    if len(data["conns"]) >= MAX_CONNS:
        return
    depth = _depths(data)
    existing = {(c["src"], c["dst"]) for c in data["conns"]}
    names = sorted(depth)
    for _ in range(20):
        src, dst = (names[int(i)] for i in rng.integers(len(names), size=2))
        if depth[src] < depth[dst] and (src, dst) not in existing:
            data["conns"].append({"src": src, "dst": dst, "w": _r(rng.normal(0, 1.2)), "on": True})
            return


def _change_activation(data: dict[str, Any], rng: np.random.Generator) -> None:
    hidden = [n for n in data["nodes"] if n["id"] not in OUTPUTS]
    if hidden:
        hidden[int(rng.integers(len(hidden)))]["act"] = _act(rng)


def _toggle_connection(data: dict[str, Any], rng: np.random.Generator) -> None:
    if data["conns"]:
        conn = data["conns"][int(rng.integers(len(data["conns"])))]
        conn["on"] = not conn["on"]


def _mutate_palette(data: dict[str, Any], rng: np.random.Generator) -> None:
    palette = data["palette"]
    choice = rng.random()
    if choice < 0.35:
        palette["colors"] = random_palette(rng)
    elif choice < 0.6:
        palette["colors"] = palette["colors"][::-1]
    elif choice < 0.8:
        palette["cycles"] = _r(np.clip(palette["cycles"] * np.exp(rng.normal(0, 0.3)), 0.25, 8))
    else:
        palette["shade"] = _r(np.clip(palette["shade"] + rng.normal(0, 0.15), 0, 1))


def _mutate_coords(data: dict[str, Any], rng: np.random.Generator) -> None:
    coords = data["coords"]
    coords["zoom"] = _r(np.clip(coords["zoom"] * np.exp(rng.normal(0, 0.15)), 0.2, 16))
    coords["rotation"] = _r(coords["rotation"] + rng.normal(0, 0.15))
    if rng.random() < 0.15:
        coords["symmetry"] = str(rng.choice(SYMMETRIES))
    if rng.random() < 0.15:
        coords["folds"] = int(np.clip(coords["folds"] + rng.choice([-1, 1]), 2, 16))


_MUTATIONS = (
    (_perturb_weights, 0.45),
    (_add_node, 0.14),
    (_add_connection, 0.14),
    (_change_activation, 0.1),
    (_toggle_connection, 0.03),
    (_mutate_palette, 0.08),
    (_mutate_coords, 0.06),
)


def mutate_data(data: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A changed copy: one to three mutation operators drawn by weight."""
    child = copy.deepcopy(data)
    ops, weights = zip(*_MUTATIONS, strict=True)
    for index in rng.choice(len(ops), size=int(rng.integers(1, 4)), p=weights):
        ops[int(index)](child, rng)
    return child


def crossover_data(
    a: dict[str, Any], b: dict[str, Any], rng: np.random.Generator
) -> dict[str, Any]:
    """NEAT crossover: a's structure; genes both parents share take either parent's value."""
    child = copy.deepcopy(a)
    b_nodes = {n["id"]: n for n in b["nodes"]}
    for node in child["nodes"]:
        twin = b_nodes.get(node["id"])
        if twin is not None and node["id"] not in OUTPUTS and rng.random() < 0.5:
            node["act"], node["bias"] = twin["act"], twin["bias"]
    b_conns = {(c["src"], c["dst"]): c for c in b["conns"]}
    for conn in child["conns"]:
        twin = b_conns.get((conn["src"], conn["dst"]))
        if twin is not None and rng.random() < 0.5:
            conn["w"] = twin["w"]
            if conn["on"] != twin["on"] and rng.random() < 0.25:
                conn["on"] = twin["on"]
    if rng.random() < 0.5:
        child["palette"] = copy.deepcopy(b["palette"])
    for key in ("symmetry", "folds", "zoom", "rotation", "offset"):
        if rng.random() < 0.5:
            child["coords"][key] = copy.deepcopy(b["coords"][key])
    return child
