"""The flame engine: Draves' fractal flames (flam3's algorithm) on the CPU.

A genome is an iterated function system of affine transforms with nonlinear
variations. The chaos game plays a point through randomly chosen transforms and
accumulates where it lands, coloured by a per-transform colour index, in a
histogram; log-density tone mapping with gamma and vibrancy turns that into a
glowing image on black. Every step is deterministic numba code (kernel.py), so a
genome renders to the same bytes on every CPU.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np

from tastemaker.errors import GenomeError, UsageError
from tastemaker.generate.cppn import detmath
from tastemaker.generate.cppn.palette import hex_to_srgb
from tastemaker.generate.engine import MAX_SIZE, MIN_SIZE
from tastemaker.generate.flame import genome as schema
from tastemaker.generate.flame import operators
from tastemaker.generate.flame.palette import palette_table
from tastemaker.generate.flame.screen import passes_screen
from tastemaker.generate.flame.variations import CODES, VARIATIONS
from tastemaker.generate.genome import Genome
from tastemaker.generate.image import ImageEngine
from tastemaker.store.media import encode_png

SAMPLES_PER_PIXEL = 4  # chaos-game points per output pixel
MIN_SAMPLES = 20_000
FRAME_POINTS = 4096  # points that frame the view, whatever the size
FRAME_QUANTILE = 0.02  # the view spans the 2nd to 98th percentile of them
FRAME_MARGIN = 1.15
DENSITY_SCALE = 0.35  # k2 = DENSITY_SCALE / (samples per pixel)
GAMMA_THRESHOLD = 0.06


@dataclass(frozen=True)
class Compiled:
    """A genome as the kernel's arrays, plus its framing (size-independent)."""

    affine: np.ndarray
    vidx: np.ndarray
    vw: np.ndarray
    vcount: np.ndarray
    colors: np.ndarray
    speeds: np.ndarray
    select: np.ndarray
    has_final: bool
    sym: np.ndarray
    palette: np.ndarray
    centre: tuple[float, float]
    extent: float
    rotation: tuple[float, float]  # cos, sin
    seed: int


def _seed(genome_id: str, salt: str) -> int:
    digest = hashlib.sha256(f"{genome_id}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") | 1  # xorshift needs a non-zero state


def _select_table(weights: list[float]) -> np.ndarray:
    """Transform index per top-bits value, each transform in proportion to its weight
    (float64 basic operations and a floor: the same table everywhere)."""
    from tastemaker.generate.flame.kernel import SELECT_SIZE

    w = np.asarray(weights, dtype=np.float64)
    edges = np.cumsum(w) / w.sum() * SELECT_SIZE  # cumsum adds left to right
    slots = np.arange(SELECT_SIZE, dtype=np.float64) + 0.5
    return np.minimum(np.searchsorted(edges, slots, side="right"), len(w) - 1).astype(np.int32)


def compile_genome(genome: Genome) -> Compiled:
    from tastemaker.generate.flame import kernel

    data = genome.data
    transforms = list(data["xforms"]) + ([data["final"]] if data["final"] is not None else [])
    n = len(data["xforms"])
    rows = n + 1
    affine = np.zeros((rows, 6), np.float32)
    vidx = np.zeros((rows, schema.MAX_VARIATIONS), np.int32)
    vw = np.zeros((rows, schema.MAX_VARIATIONS), np.float32)
    vcount = np.zeros(rows, np.int32)
    for i, xf in enumerate(transforms):
        affine[i] = xf["affine"]
        names = sorted(xf["variations"], key=VARIATIONS.index)
        vcount[i] = len(names)
        for j, name in enumerate(names):
            vidx[i, j] = CODES[name]
            vw[i, j] = xf["variations"][name]
    colors = np.array([xf["color"] for xf in data["xforms"]], np.float32)
    speeds = np.array([xf["speed"] for xf in data["xforms"]], np.float32)
    k = data["symmetry"]
    angles = (np.arange(k, dtype=np.float32) * np.float32(2 * np.pi / k)).astype(np.float32)
    sym = np.stack([detmath.apply("cos", angles), detmath.apply("sin", angles)], axis=1)
    sym = np.ascontiguousarray(sym, dtype=np.float32)
    rot = np.array([data["view"]["rotation"]], np.float32)
    cr, sr = float(detmath.apply("cos", rot)[0]), float(detmath.apply("sin", rot)[0])
    compiled = Compiled(
        affine, vidx, vw, vcount, colors, speeds,
        _select_table([xf["weight"] for xf in data["xforms"]]),
        data["final"] is not None, sym, palette_table(tuple(data["palette"]["colors"])),
        (0.0, 0.0), 1.0, (cr, sr), _seed(genome.id, "frame"),
    )  # fmt: skip
    points = np.zeros((FRAME_POINTS, 2), np.float32)
    got = _play(compiled, 0, compiled.seed, np.zeros((1, 1, 2), np.float32), points, kernel)
    centre, extent = _frame(points[:got], cr, sr, data["view"]["zoom"])
    return Compiled(**{**compiled.__dict__, "centre": centre, "extent": extent})


def _play(c: Compiled, samples: int, seed: int, hist, points, kernel) -> int:  # type: ignore[no-untyped-def]
    view = np.zeros(6, np.float32)
    return int(
        kernel.chaos(
            samples, np.uint64(seed), c.affine, c.vidx, c.vw, c.vcount, c.colors, c.speeds,
            c.select, c.has_final, c.sym, view if hist.shape[0] == 1 else hist_view(c, hist),
            hist, points,
        )
    )  # fmt: skip


def _play_walkers(c: Compiled, samples: int, seed: int, hist, kernel) -> int:  # type: ignore[no-untyped-def]
    """Flame 1.1's chaos game: many walkers in lockstep, every symmetry copy plotted."""
    return int(
        kernel.chaos_walkers(
            samples, np.uint64(seed), c.affine, c.vidx, c.vw, c.vcount, c.colors, c.speeds,
            c.select, c.has_final, c.sym, hist_view(c, hist), hist,
            kernel.walker_count(samples),
        )
    )  # fmt: skip


def _frame(
    points: np.ndarray, cr: float, sr: float, zoom: float
) -> tuple[tuple[float, float], float]:
    """Centre and side of the square that frames the attractor's bulk, after the
    view's rotation: float64 basic operations and sorting only."""
    if len(points) < 64:
        return (0.0, 0.0), 2.0
    p = points.astype(np.float64)
    u = np.sort(cr * p[:, 0] - sr * p[:, 1])
    v = np.sort(sr * p[:, 0] + cr * p[:, 1])
    lo, hi = int(FRAME_QUANTILE * len(u)), int((1 - FRAME_QUANTILE) * len(u)) - 1
    extent = max(u[hi] - u[lo], v[hi] - v[lo]) * FRAME_MARGIN / zoom
    if not np.isfinite(extent) or extent <= 1e-6:
        return (0.0, 0.0), 2.0
    return (float((u[lo] + u[hi]) / 2), float((v[lo] + v[hi]) / 2)), float(extent)


def hist_view(c: Compiled, hist: np.ndarray) -> np.ndarray:
    """World -> histogram coordinates (pixel centres, one cell of border)."""
    size = hist.shape[0] - 2
    scale = size / c.extent
    cr, sr = c.rotation
    (uc, vc), half = c.centre, size / 2 + 0.5  # cell i + 1 holds pixel i's centre
    return np.array(
        [cr * scale, -sr * scale, half - uc * scale, sr * scale, cr * scale, half - vc * scale],
        dtype=np.float32,
    )


class FlameEngine(ImageEngine):
    """Fractal flames: iterated function systems with nonlinear variations."""

    name = "flame"
    # Bump on any change to the pixels a genome renders to, and keep the old version
    # rendering (a work is re-rendered by the version that made it). 1.1 plays many
    # walkers in lockstep, plots every symmetry copy of each point and encodes PNGs
    # with zlib's RLE strategy (docs/decisions/0026-flame-1-1.md).
    versions = ("1.0", "1.1")
    version = "1.1"
    _KEPT = 64

    def __init__(self, version: str | None = None) -> None:
        if version is not None:
            if version not in self.versions:
                known = ", ".join(self.versions)
                raise UsageError(f"flame has no version {version!r}; it renders {known}")
            self.version = version
        self._compiled: dict[str, Compiled] = {}

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
        schema.validate(genome.data)

    def _compile(self, genome: Genome) -> Compiled:
        compiled = self._compiled.get(genome.id)
        if compiled is None:
            self.validate(genome)
            compiled = compile_genome(genome)
            if len(self._compiled) >= self._KEPT:
                del self._compiled[next(iter(self._compiled))]
            self._compiled[genome.id] = compiled
        return compiled

    def render(self, genome: Genome, size: int) -> np.ndarray:
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise UsageError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
        from tastemaker.generate.flame import kernel

        c = self._compile(genome)
        samples = max(SAMPLES_PER_PIXEL * size * size, MIN_SAMPLES)
        hist = np.zeros((size + 2, size + 2, 2), np.float32)
        seed = _seed(genome.id, str(size))
        if self.version == "1.0":
            _play(c, samples, seed, hist, np.zeros((0, 2), np.float32), kernel)
        else:
            _play_walkers(c, samples, seed, hist, kernel)
        tone = genome.data["tone"]
        out = np.empty((size, size, 3), np.uint8)
        spp = samples / (size * size)
        kernel.tone_map(
            hist, c.palette, np.float32(tone["brightness"]), np.float32(DENSITY_SCALE / spp),
            np.float32(tone["gamma"]), np.float32(tone["vibrancy"]),
            np.float32(GAMMA_THRESHOLD), out,
        )  # fmt: skip
        return out

    def encode(self, image: np.ndarray) -> bytes:
        # Flames are mostly black: zlib's RLE strategy encodes them in about half the
        # time at the same size (1.1; 1.0 used the default strategy).
        return encode_png(image, zlib.Z_RLE if self.version != "1.0" else zlib.Z_DEFAULT_STRATEGY)

    def screen(self, image: np.ndarray) -> bool:
        return passes_screen(image)

    def genome_features(self, genome: Genome) -> np.ndarray:
        """Structure, variation mix, tone and palette as a fixed-length vector."""
        data = genome.data
        mix = np.zeros(len(VARIATIONS))
        for xf in data["xforms"]:
            for name, w in xf["variations"].items():
                mix[CODES[name]] += abs(w) * xf["weight"]
        mix /= max(mix.sum(), 1e-9)
        colors = hex_to_srgb(data["palette"]["colors"])
        tone = data["tone"]
        return np.array(
            [
                len(data["xforms"]),
                data["final"] is not None,
                data["symmetry"],
                *mix,
                tone["gamma"],
                tone["vibrancy"],
                tone["brightness"],
                data["view"]["zoom"],
                *colors.mean(axis=0),
                *colors.std(axis=0),
            ],
            dtype=np.float32,
        )
