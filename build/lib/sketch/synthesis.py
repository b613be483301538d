"""Training inputs: synthetic sketches (Deep Plastic Surgery's recipe) and colour hints (SC-FEGAN's).

Sketch: thinned edge lines of the true image (precomputed bool H×W, e.g. `lines.thin_lines` of
HED) → a random smooth warp (a coarse random displacement grid, upsampled bicubically, applied
with `cv2.remap`) → dilation to radius `level × radius_max` → a few erased patches → kept only
inside the hole plus a thin band around it. `level` l ∈ [0, 1] is the faithfulness level:
l = 0 gives precise 1–2 px lines, l = 1 rough, thick, more displaced ones (the warp amplitude
also grows with l, from `warp_min` to `warp_max`).

Colour hints: an (iterated) median-filtered copy of the true image, sampled along a few random
strokes (smooth random walks drawn with `cv2.polylines`) that start inside the hole, hole
pixels only.

All lengths in the parameter classes are pixels *at 256 px*; they scale with min(H, W) / 256.
Everything takes a `numpy.random.Generator`, so a seed reproduces a sample exactly.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SketchParams:
    warp_min: float = 0.5        # std of the random displacement (px) at l = 0
    warp_max: float = 3.0        # … at l = 1
    warp_grid: int = 5           # the displacement field is warp_grid × warp_grid before upsampling
    radius_max: float = 3.0      # dilation radius at l = 1 (l = 0: no dilation)
    erase_max: int = 4           # 0..erase_max patches erased
    erase_size: tuple[float, float] = (6.0, 32.0)  # side range of an erased patch
    band: float = 4.0            # strokes kept up to this far outside the hole


@dataclass(frozen=True)
class HintParams:
    median_ksize: int = 5        # median filter aperture; OpenCV is ~15× faster at ≤ 5 than at 7+ …
    median_passes: int = 2       # … so it is iterated instead (passes scale with the image size)
    strokes: tuple[int, int] = (1, 4)      # number of strokes, inclusive range
    vertices: tuple[int, int] = (2, 6)     # polyline vertices per stroke
    step: tuple[float, float] = (6.0, 24.0)  # length of a polyline segment
    width: tuple[int, int] = (2, 5)        # stroke width
    turn: float = 0.7            # std of the turn between segments (radians)


@functools.lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


@functools.lru_cache(maxsize=32)
def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _check(hole: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if hole.dtype != bool or hole.shape != shape[:2]:
        raise ValueError(f"hole must be bool {shape[:2]} like the {what}, not {hole.dtype} {hole.shape}")


def random_warp(image: np.ndarray, amplitude: float, rng: np.random.Generator, grid: int = 5,
                interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """`image` warped by a smooth random displacement field of std `amplitude` px."""
    h, w = image.shape[:2]
    field = rng.normal(0.0, amplitude, size=(2, grid, grid)).astype(np.float32)
    dx = cv2.resize(field[0], (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(field[1], (w, h), interpolation=cv2.INTER_CUBIC)
    xs, ys = _grid(h, w)
    return cv2.remap(image, xs + dx, ys + dy, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def hole_band(hole: np.ndarray, band: float) -> np.ndarray:
    """The hole grown by `band` px."""
    radius = int(round(band))
    if radius <= 0:
        return hole.copy()
    return cv2.dilate(hole.astype(np.uint8), _disk(radius)) > 0


def synthesize_sketch(lines: np.ndarray, hole: np.ndarray, level: float, rng: np.random.Generator,
                      params: SketchParams = SketchParams()) -> np.ndarray:
    """A synthetic user sketch (bool H×W) from the true image's thin lines, at faithfulness `level`."""
    _check(hole, lines.shape, "lines")
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"level must be in [0, 1], not {level}")
    h, w = lines.shape
    scale = min(h, w) / 256.0
    amplitude = (params.warp_min + level * (params.warp_max - params.warp_min)) * scale
    # Bilinear warp of the 0/1 map: a 1-px line sampled between pixels reads ≥ 0.25, never 0.
    warped = random_warp(lines.astype(np.float32), amplitude, rng, params.warp_grid) > 0.2
    radius = level * params.radius_max * scale
    if radius >= 0.5:
        distance = cv2.distanceTransform((~warped).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        warped = distance <= radius
    count = int(rng.integers(0, params.erase_max + 1))
    sizes = rng.uniform(*params.erase_size, size=(count, 2)) * scale
    corners = rng.uniform(0.0, 1.0, size=(count, 2)) * (h, w)
    for (y, x), (sy, sx) in zip(corners.astype(int), np.ceil(sizes).astype(int)):
        warped[max(0, y - sy // 2):y + (sy + 1) // 2, max(0, x - sx // 2):x + (sx + 1) // 2] = False
    return warped & hole_band(hole, params.band * scale)


def median_image(image: np.ndarray, params: HintParams = HintParams()) -> np.ndarray:
    """The median-filtered copy of an RGB uint8 image that colour hints are sampled from."""
    scale = min(image.shape[:2]) / 256.0
    out = np.ascontiguousarray(image)
    for _ in range(max(1, int(round(params.median_passes * scale)))):
        out = cv2.medianBlur(out, params.median_ksize)
    return out


def synthesize_color_hints(image: np.ndarray, hole: np.ndarray, rng: np.random.Generator,
                           params: HintParams = HintParams(),
                           median: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Colour hints inside the hole: (RGB uint8 H×W×3, zero where no hint; bool H×W hint mask).

    `median` may pass a precomputed `median_image(image, params)` (it is most of the cost).
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be H×W×3 uint8, not {image.dtype} {image.shape}")
    _check(hole, image.shape, "image")
    h, w = hole.shape
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    candidates = np.flatnonzero(hole)
    if candidates.size == 0:
        return rgb, hole.copy()
    scale = min(h, w) / 256.0
    canvas = np.zeros((h, w), dtype=np.uint8)
    for _ in range(int(rng.integers(params.strokes[0], params.strokes[1] + 1))):
        start = candidates[rng.integers(candidates.size)]
        n = int(rng.integers(params.vertices[0], params.vertices[1] + 1))
        angles = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0.0, params.turn, size=n - 1))
        steps = rng.uniform(*params.step, size=n - 1) * scale
        offsets = np.cumsum(np.stack([np.cos(angles), np.sin(angles)], axis=1) * steps[:, None], axis=0)
        points = np.vstack([[0.0, 0.0], offsets]) + (start % w, start // w)
        thickness = max(1, int(round(rng.integers(params.width[0], params.width[1] + 1) * scale)))
        cv2.polylines(canvas, [np.round(points).astype(np.int32)], False, 1, thickness, cv2.LINE_8)
    hint = (canvas > 0) & hole
    source = median if median is not None else median_image(image, params)
    rgb[hint] = source[hint]
    return rgb, hint


def recolour_hole(image: np.ndarray, hole: np.ndarray, rng: np.random.Generator,
                  ramp: float = 6.0) -> np.ndarray:
    """A copy of `image` whose hole took on a random colour: the hole's mean CIELAB colour is
    moved part or all of the way (its own variation kept) to a random one, ramping in over
    `ramp` px from the hole's edge so the truth has no seam. Pixels outside the hole are
    untouched. Trained with hints drawn from it, a model learns that the dabs, not the
    face around the hole, say what colour the hole is (a lipstick, a dyed lock)."""
    if not hole.any():
        return image.copy()
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    inside = cv2.distanceTransform(np.pad(hole, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    weight = np.clip((inside - 1.5) / ramp, 0.0, 1.0) * float(rng.uniform(0.5, 1.0))  # 0 on the edge ring
    mean = lab[hole].mean(0)
    target = np.array([rng.uniform(20, 90) * 2.55, rng.uniform(-70, 70) + 128, rng.uniform(-70, 70) + 128],
                      np.float32)
    target[0] = mean[0] + 0.5 * (target[0] - mean[0])  # lightness moves less than the hue
    lab += weight[..., None] * (target - mean)
    out = cv2.cvtColor(np.clip(np.rint(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return np.where((weight > 0)[..., None], out, image)  # elsewhere not even through the Lab round trip
