"""Training holes shaped like the gaps a reshape leaves to the network (`inpaint.reshape`).

A reshape moves the photo's own part onto the user's lines; the network fills only what the
move cannot supply: a thin band along a line that moved off its old place, the crescent a
lip or lid swept when it grew, and a mouth's inside when the lips part. `gap_mask` draws
such holes from a face's landmarks: one part's outline (lips, an eye, a brow, the nose) under
a random move of its own (scale about the part's centre, a shift, the mouth's corners or a
brow's arch), with ranges of its own, wider than the evaluation's (`evaluation.deform`,
which it does not import). The photo itself stays the truth: the network learns to draw a
part's edge across a thin gap, from the lines, where the photo has it.
"""
from __future__ import annotations

import cv2
import numpy as np

from inpaint.frame import eye_distance
from inpaint.landmarks import BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, INNER_LIPS, NOSE, OUTER_LIPS

# part → (its outlines as landmark slices, closed?), and how often each is moved
OUTLINES: dict[str, tuple[tuple[slice, ...], bool]] = {
    "mouth": ((OUTER_LIPS, INNER_LIPS), True),
    "eye": ((EYE_LEFT,), True),
    "eye_right": ((EYE_RIGHT,), True),
    "brow": ((BROW_LEFT,), False),
    "brow_right": ((BROW_RIGHT,), False),
    "nose": ((NOSE,), False),
}
WEIGHTS = {"mouth": 0.4, "eye": 0.12, "eye_right": 0.12, "brow": 0.1, "brow_right": 0.1, "nose": 0.16}
SCALE = (0.8, 1.4)  # per axis
SHIFT = 0.06  # eye distances
BEND = 0.1  # eye distances: mouth corners up or down, a brow's middle raised
MIN_GAP = 1.5  # px at 256: a line moved less than this from its place is supplied by the move
BAND = (1.0, 3.0)  # px at 256: half-width of the band along a moved line
SWEPT_PROB = 0.5  # chance that the area an outline sweeps as it grows is a gap too
PARTED_PROB = 0.4  # chance that a moved mouth's inside (the lips parting) is a gap


def moved_outline(points: np.ndarray, rng: np.random.Generator, gap: float, part: str) -> np.ndarray:
    """`points` under a random move of their own about their centre."""
    centre = points.mean(0)
    scaled = centre + (points - centre) * rng.uniform(*SCALE, size=2)
    scaled += rng.uniform(-SHIFT, SHIFT, size=2) * gap
    spread = float(np.ptp(points[:, 0])) or 1.0
    along = (points[:, 0] - centre[0]) / spread  # −0.5 … 0.5 across the part
    bend = rng.uniform(-BEND, BEND) * gap
    if part == "mouth":
        scaled[:, 1] -= bend * (2 * along) ** 2  # the corners up (a smile) or down
    elif part.startswith("brow"):
        scaled[:, 1] -= bend * (1 - (2 * along) ** 2)  # the arch raised or flattened
    return scaled


def _draw(points: np.ndarray, closed: bool, shape: tuple[int, int], thickness: int) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.polylines(canvas, [np.rint(points * 16).astype(np.int32)], closed, 1, thickness, cv2.LINE_AA, shift=4)
    return canvas > 0


def _fill(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [np.rint(points * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    return canvas > 0


def gap_mask(rng: np.random.Generator, landmarks: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """bool H×W: the gaps one random reshape of one part of the face (68×2 landmarks) leaves."""
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    lm = np.asarray(landmarks, np.float64)
    scale = min(h, w) / 256.0
    names = list(WEIGHTS)
    part = names[int(rng.choice(len(names), p=np.array([WEIGHTS[n] for n in names]) / sum(WEIGHTS.values())))]
    outlines, closed = OUTLINES[part]
    gap = eye_distance(lm)
    hole = np.zeros((h, w), bool)
    half = rng.uniform(*BAND) * scale
    for k, points in enumerate(outlines):
        old, new = lm[points], moved_outline(lm[points], rng, gap, part)
        away = cv2.distanceTransform((~_draw(old, closed, (h, w), 1)).astype(np.uint8), cv2.DIST_L2, 5)
        line = _draw(new, closed, (h, w), 1)
        band = cv2.distanceTransform((~(line & (away > MIN_GAP * scale))).astype(np.uint8), cv2.DIST_L2, 5) <= half
        hole |= band
        if closed and rng.random() < SWEPT_PROB:
            hole |= _fill(new, (h, w)) & ~_fill(old, (h, w))
        if part == "mouth" and k == 1 and rng.random() < PARTED_PROB:
            hole |= _fill(new, (h, w))
    if not hole.any():  # a move too small to leave a gap: the band along the moved outline
        hole = cv2.dilate(_draw(moved_outline(lm[outlines[0]], rng, gap, part), closed, (h, w), 1).astype(np.uint8),
                          np.ones((3, 3), np.uint8)) > 0
    return hole
