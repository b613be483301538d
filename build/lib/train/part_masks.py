"""Training holes shaped like the ones people paint: whole face parts, from each face's landmarks.

A user of the app clicks "Mouth" or paints over both eyes; the hole then covers a whole
part plus a margin, with a hand-drawn, uneven edge. `part_mask` draws such a hole: the
parts' outlines come from `inpaint.face.parts.draw_parts` (the app's one-click masks, so
training and the app agree on what a "nose" is), grown by a random margin whose width
wanders along the outline (a smooth random field added to the distance from the part), so
the edge is irregular the way a brush makes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from inpaint.face.parts import draw_parts
from inpaint.landmarks import EYE_LEFT, EYE_RIGHT

# (parts, weight): what people redraw most, one or two parts at a time. "eye" = one eye.
PART_CHOICES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("mouth",), 0.22),
    (("eyes",), 0.14),
    (("eye",), 0.10),
    (("eyebrows",), 0.08),
    (("eyes", "eyebrows"), 0.08),
    (("nose",), 0.14),
    (("mouth", "nose"), 0.12),
    (("jaw",), 0.06),
    (("face",), 0.06),
)


@dataclass(frozen=True)
class PartMaskParams:
    """Lengths in pixels at 256 px; they scale with the side."""

    choices: tuple[tuple[tuple[str, ...], float], ...] = field(default=PART_CHOICES)
    grow: tuple[float, float] = (3.0, 16.0)  # mean margin around the part
    wobble: float = 0.45  # std of the margin's variation along the edge, as a fraction of the margin
    wobble_grid: int = 6  # the variation field is this coarse before upsampling


def has_landmarks(landmarks: np.ndarray | None) -> bool:
    return landmarks is not None and np.asarray(landmarks).shape == (68, 2) and bool(np.isfinite(landmarks).all())


def _one_eye(landmarks: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    side = EYE_LEFT if rng.random() < 0.5 else EYE_RIGHT
    both = draw_parts(landmarks, shape, ["eyes"])
    keep = np.zeros(shape, np.uint8)
    hull = cv2.convexHull(np.rint(landmarks[side]).astype(np.int32))
    cv2.fillConvexPoly(keep, hull, 1)
    keep = cv2.dilate(keep, np.ones((3, 3), np.uint8))
    return both & keep.astype(bool)


def part_mask(rng: np.random.Generator, landmarks: np.ndarray, size: int | tuple[int, int],
              params: PartMaskParams = PartMaskParams()) -> tuple[np.ndarray, tuple[str, ...]]:
    """(bool H×W hole, the parts it covers) for a face with 68×2 (x, y) pixel `landmarks`."""
    if not has_landmarks(landmarks):
        raise ValueError("part_mask needs 68 finite (x, y) landmarks")
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    lm = np.asarray(landmarks, np.float64)
    names = [c for c, _ in params.choices]
    weights = np.array([wt for _, wt in params.choices], np.float64)
    parts = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    core = np.zeros((h, w), bool)
    for part in parts:
        core |= _one_eye(lm, (h, w), rng) if part == "eye" else draw_parts(lm, (h, w), [part])
    if not core.any():  # landmarks off the image: fall back to a blob at the landmarks' centre
        cx, cy = np.clip(lm.mean(0), 0, (w - 1, h - 1))
        core[int(cy), int(cx)] = True
    scale = min(h, w) / 256.0
    margin = rng.uniform(*params.grow) * scale
    g = params.wobble_grid
    wobble = cv2.resize(rng.normal(0.0, params.wobble * margin, (g, g)).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    distance = cv2.distanceTransform((~core).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    hole = (distance <= np.maximum(margin + wobble, 1.0)) | core
    return hole, parts
