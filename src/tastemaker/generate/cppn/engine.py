"""The default engine: Picbreeder-style CPPN art, CPU only, no weights, no network."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tastemaker.core.media import IMAGE_PNG, Media
from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.cppn import network, operators
from tastemaker.generate.cppn.coords import SYMMETRIES, coordinate_inputs
from tastemaker.generate.cppn.palette import LUT_SIZE, hex_to_srgb, palette_lut, palette_ramp
from tastemaker.generate.cppn.screen import passes_screen
from tastemaker.generate.engine import MAX_SIZE, MIN_SIZE
from tastemaker.generate.genome import Genome
from tastemaker.generate.image import ImageEngine

SHADE_LEVELS = 48
# Screen a 64 px thumbnail first only above this size. At 256 px the full render
# and screen take ~0.9 CPU ms against ~0.6 ms for the thumbnail, so prescreening
# cost more than it saved: 6.65 against 7.14 ms per kept work, the same 600 works.
PRESCREEN_ABOVE = 320


@lru_cache(maxsize=64)
def shaded_table(colors: tuple[str, ...], strength: float) -> np.ndarray:
    """(SHADE_LEVELS * LUT_SIZE, 3) uint8: the palette ramp at each level of shade.

    Cached: the prescreen and the full render of a candidate share one palette, and
    building the table costs as much as colouring a 64 px thumbnail.
    """
    light = (1 - strength * np.linspace(0.0, 1.0, SHADE_LEVELS)).astype(np.float32)
    # (levels, 1) x (1, LUT_SIZE * 3): broadcasting over a trailing axis of 3 would run
    # numpy's inner loop 3 elements at a time, several times slower for the same products.
    table = light[:, None] * palette_lut(list(colors)).reshape(1, -1)
    table = np.rint(table, out=table).astype(np.uint8).reshape(-1, 3)
    table.flags.writeable = False
    return table


@lru_cache(maxsize=64)
def shaded_table_v2(colors: tuple[str, ...], strength: float) -> np.ndarray:
    """Engine 2.0's table: as ``shaded_table``, built from IEEE basic operations only."""
    from tastemaker.generate.cppn import kernel

    table = kernel.shaded_table(palette_ramp(list(colors)), strength, SHADE_LEVELS)
    table.flags.writeable = False
    return table


_ACT_NAMES = {id(fn): name for name, fn in network.ACTIVATIONS.items()}


def render_v2(compiled: list[network.CompiledNode], data: dict, size: int) -> np.ndarray:
    """Engine 2.0: the same picture as 1.0 to within float32 rounding, and the same
    bytes on every CPU (kernel.py, detmath.py)."""
    from tastemaker.generate.cppn import kernel  # numba loads in 0.4 s: only when rendering

    flat = kernel.flatten(compiled, _ACT_NAMES)
    palette, coords = data["palette"], data["coords"]
    out = np.empty((size, size, 3), dtype=np.uint8)
    kernel.render_rows(
        size,
        kernel.SYMMETRY_CODES[coords["symmetry"]],
        kernel.frame(coords),
        flat.acts,
        flat.biases,
        flat.starts,
        flat.srcs,
        flat.weights,
        flat.tone,
        flat.shade,
        np.float32(palette["cycles"] / 2),
        shaded_table_v2(tuple(palette["colors"]), float(palette["shade"])),
        SHADE_LEVELS,
        LUT_SIZE,
        out,
    )
    return out


def colourise(tone: np.ndarray, shade: np.ndarray, palette: dict) -> np.ndarray:
    """Map the network's raw output planes to RGB through the genome's palette.

    ``tone`` picks a position along the palette, bouncing back and forth
    ``cycles`` times; ``shade`` darkens by up to the palette's ``shade`` share.
    Both are quantised and looked up in one table of shaded palette colours,
    which is cheaper than per-pixel arithmetic and exactly reproducible. The
    arithmetic runs in place, in one scratch array per plane.
    """
    position = np.tanh(tone)
    position += 1
    position *= np.float32(palette["cycles"] / 2)
    position += 1  # triangle wave with period 2; floor is much cheaper than np.mod
    folded = np.multiply(position, np.float32(0.5))
    np.floor(folded, out=folded)
    folded *= 2
    position -= folded
    position -= 1
    np.abs(position, out=position)
    position *= np.float32(LUT_SIZE - 1)
    position += np.float32(0.5)
    index = position.astype(np.intp)
    darkness = np.tanh(shade)  # becomes 0 (lit) .. 1 (dark): 0.5 - 0.5 * tanh(shade)
    darkness *= np.float32(0.5)
    np.subtract(np.float32(0.5), darkness, out=darkness)
    darkness *= np.float32(SHADE_LEVELS - 1)
    darkness += np.float32(0.5)
    index += darkness.astype(np.intp) * LUT_SIZE
    table = shaded_table(tuple(palette["colors"]), float(palette["shade"]))
    return np.take(table, index, axis=0)


class CPPNEngine(ImageEngine):
    """Compositional pattern-producing networks coloured through harmonious palettes.

    The network maps each pixel's (x, y, r, b) to two planes: ``tone`` picks a
    colour along the palette and ``shade`` darkens it, which adds depth.
    """

    name = "cppn"
    # Bump on any change that alters the pixels a genome renders to, and keep the old
    # version rendering: a work is re-rendered by the version that made it. 1.0 used
    # numpy's SIMD functions, whose last bits depend on the CPU; 2.0 gives the same
    # bytes on every CPU (docs/decisions/0025-cross-cpu-rendering.md).
    versions = ("1.0", "2.0")
    version = "2.0"  # what new works are made with
    _NETWORKS_KEPT = 64

    def __init__(self, version: str | None = None) -> None:
        if version is not None:
            if version not in self.versions:
                known = ", ".join(self.versions)
                raise UsageError(f"cppn has no version {version!r}; it renders {known}")
            self.version = version
        # genome id -> compiled network: a candidate is rendered twice (prescreen, then
        # full size), and validating and compiling it each time is wasted work.
        self._networks: dict[str, list[network.CompiledNode]] = {}

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
        data = genome.data
        if self.version == "2.0":
            return render_v2(self._network(genome), data, size)
        planes = network.evaluate(self._network(genome), coordinate_inputs(data["coords"], size))
        return colourise(planes["tone"], planes["shade"], data["palette"])

    def _network(self, genome: Genome) -> list[network.CompiledNode]:
        compiled = self._networks.get(genome.id)
        if compiled is None:
            self.validate(genome)
            compiled = network.compile_network(genome.data)
            if len(self._networks) >= self._NETWORKS_KEPT:
                del self._networks[next(iter(self._networks))]  # the oldest
            self._networks[genome.id] = compiled
        return compiled

    def make_screened(self, genome: Genome, size: int) -> Media | None:
        if size > PRESCREEN_ABOVE:
            return super().make_screened(genome, size)
        # Up to here a full render and screen cost less than a 64 px thumbnail saves
        # (the thumbnail is rendered for every candidate, and ~1/3 fail it).
        image = self.render(genome, size)
        return Media(self.encode(image), IMAGE_PNG) if self.screen(image) else None

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
