"""The default engine: Picbreeder-style CPPN art, CPU only, no weights, no network."""

from __future__ import annotations

import numpy as np

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.cppn import network, operators
from tastemaker.generate.cppn.coords import SYMMETRIES, coordinate_inputs
from tastemaker.generate.cppn.palette import LUT_SIZE, hex_to_srgb, palette_lut
from tastemaker.generate.cppn.screen import passes_screen
from tastemaker.generate.engine import MAX_SIZE, MIN_SIZE
from tastemaker.generate.genome import Genome


class CPPNEngine:
    """Compositional pattern-producing networks coloured through harmonious palettes.

    The network maps each pixel's (x, y, r, b) to two planes: ``tone`` picks a
    colour along the palette and ``shade`` darkens it, which adds depth.
    """

    name = "cppn"
    # Bump on any change that alters the pixels a genome renders to.
    version = "1.0"

    def random(self, rng: np.random.Generator) -> Genome:
        return Genome(self.name, operators.random_data(rng))

    def mutate(self, genome: Genome, rng: np.random.Generator) -> Genome:
        self.validate(genome)
        return Genome(self.name, operators.mutate_data(genome.data, rng), (genome.id,))

    def crossover(self, a: Genome, b: Genome, rng: np.random.Generator) -> Genome:
        self.validate(a)
        self.validate(b)
        return Genome(self.name, operators.crossover_data(a.data, b.data, rng), (a.id, b.id))

    def validate(self, genome: Genome) -> None:
        if genome.engine != self.name:
            raise GenomeError(f"genome is for engine {genome.engine!r}, not {self.name!r}")
        network.validate(genome.data)

    def render(self, genome: Genome, size: int) -> np.ndarray:
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise UsageError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
        self.validate(genome)
        data = genome.data
        planes = network.evaluate(
            network.compile_network(data), coordinate_inputs(data["coords"], size)
        )
        palette = data["palette"]
        # tone -> position along the palette, bouncing back and forth ``cycles`` times.
        tone = (np.tanh(planes["tone"]) + 1) * np.float32(palette["cycles"] / 2)
        tone = np.abs(np.mod(tone + 1, 2) - 1)
        index = np.minimum((tone * LUT_SIZE).astype(np.int32), LUT_SIZE - 1)
        rgb = palette_lut(palette["colors"])[index]
        shade = np.float32(palette["shade"])
        light = 1 - shade + shade * (np.tanh(planes["shade"]) * np.float32(0.5) + np.float32(0.5))
        rgb *= light[..., None]
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)

    def screen(self, image: np.ndarray) -> bool:
        return passes_screen(image)

    def genome_features(self, genome: Genome) -> np.ndarray:
        """Structure, framing and palette summarised as a fixed-length vector."""
        data = genome.data
        hidden = [n for n in data["nodes"] if n["id"] not in network.OUTPUTS]
        acts = [sum(n["act"] == a for n in hidden) for a in operators.HIDDEN_ACTIVATIONS]
        weights = np.array([c["w"] for c in data["conns"] if c["on"]] or [0.0])
        coords = data["coords"]
        colors = hex_to_srgb(data["palette"]["colors"])
        return np.array(
            [
                len(hidden),
                len(data["conns"]),
                *acts,
                float(np.abs(weights).mean()),
                float(np.abs(weights).max()),
                *(coords["symmetry"] == s for s in SYMMETRIES),
                coords["folds"] if coords["symmetry"] == "radial" else 0,
                np.log(coords["zoom"]),
                data["palette"]["cycles"],
                data["palette"]["shade"],
                *colors.mean(axis=0),
                *colors.std(axis=0),
            ],
            dtype=np.float32,
        )
