"""Random smooth moves of one face part: the self-supervised targets of the flow network
(`inpaint.flownet`, trained by `train.flow_fit`).

A move is a backward field B: the moved face at x is the face at x + B(x). On the part, B
is an affine map of its own (a scale per axis, a turn, a shift) with a bend (a mouth's
corners, a brow's arch) and a few small smooth bumps; from there it falls smoothly to
exactly zero at the edge of the hole, which covers the part before and after the move
grown by a random margin. One eye or one brow may move alone, or both together, each with
its own draw. The ranges are this generator's own, wider than any evaluation's; it imports
nothing from `evaluation/`.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inpaint.face.parts import draw_parts, grow_mask
from inpaint.frame import eye_distance
from inpaint.landmarks import BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, MOUTH, NOSE
from inpaint.part_maps import stretch_weights
from inpaint.reshape import determinant

# part → (its landmark groups, the one-click part it is masked as), and how often each moves
MOVABLE = {"mouth": ((MOUTH,), "mouth"), "eye": ((EYE_LEFT,), "eyes"), "eye_right": ((EYE_RIGHT,), "eyes"),
           "eyes": ((EYE_LEFT, EYE_RIGHT), "eyes"), "brow": ((BROW_LEFT,), "eyebrows"),
           "brow_right": ((BROW_RIGHT,), "eyebrows"), "brows": ((BROW_LEFT, BROW_RIGHT), "eyebrows"),
           "nose": ((NOSE,), "nose")}
WEIGHTS = {"mouth": 0.3, "eye": 0.08, "eye_right": 0.08, "eyes": 0.14, "brow": 0.06, "brow_right": 0.06,
           "brows": 0.12, "nose": 0.16}
SCALE = (0.75, 1.4)  # per axis
ASPECT = 0.15  # eyes and brows: the second axis's scale within this of the first's
TURN = 0.12  # radians
SHIFT = 0.08  # eye distances
BEND = 0.1  # eye distances: a mouth's corners, a brow's arch
BUMPS, BUMP_SIZE = 3, 0.03  # small smooth moves on top (eye distances)
MARGIN = (0.12, 0.45)  # the hole beyond the part before and after, × the part's size
STILL_PROB = 0.08  # no move at all: the sketch is the face's own lines
MIN_DETERMINANT = 0.3


@dataclass(frozen=True)
class PartMove:
    field: np.ndarray  # H×W×2 float32, backward
    hole: np.ndarray  # bool: the part before and after the move, with the margin B fades over
    part: str


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    return xs, ys


def _affine_field(xs, ys, centre: np.ndarray, rng: np.random.Generator, gap: float, part: str) -> np.ndarray:
    """Backward field of one random forward affine map about `centre` (target = A(source))."""
    sx = rng.uniform(*SCALE)
    sy = sx * rng.uniform(1 - ASPECT, 1 + ASPECT) if part.startswith(("eye", "brow")) else rng.uniform(*SCALE)
    turn = rng.uniform(-TURN, TURN)
    c, s = np.cos(turn), np.sin(turn)
    forward = np.array([[c, -s], [s, c]]) @ np.diag([sx, sy])
    back = np.linalg.inv(forward)
    shift = rng.uniform(-SHIFT, SHIFT, size=2) * gap
    dx, dy = xs - centre[0] - shift[0], ys - centre[1] - shift[1]
    bx = centre[0] + back[0, 0] * dx + back[0, 1] * dy - xs
    by = centre[1] + back[1, 0] * dx + back[1, 1] * dy - ys
    return np.dstack([bx, by]).astype(np.float32)


def _bump(xs, ys, centre, sigma: float) -> np.ndarray:
    return np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2)).astype(np.float32)


def _nearest_group(groups: list[np.ndarray], xs, ys) -> np.ndarray:
    """Which group's centre each pixel is nearest (an eye or brow of two moves on its own)."""
    distances = np.stack([(xs - g.mean(0)[0]) ** 2 + (ys - g.mean(0)[1]) ** 2 for g in groups])
    return distances.argmin(0)


def part_field(landmarks: np.ndarray, shape: tuple[int, int], part: str, rng: np.random.Generator) -> np.ndarray:
    """The part's raw backward field (not yet confined to a hole)."""
    xs, ys = _grid(shape)
    gap = eye_distance(landmarks)
    groups = [landmarks[g] for g in MOVABLE[part][0]]
    nearest = _nearest_group(groups, xs, ys)
    field = np.zeros(shape + (2,), np.float32)
    for k, points in enumerate(groups):
        own = _affine_field(xs, ys, points.mean(0), rng, gap, part)
        size = float(np.ptp(points[:, 0])) or 1.0
        bend = rng.uniform(-BEND, BEND) * gap
        if part == "mouth":
            for corner in (points[np.argmin(points[:, 0])], points[np.argmax(points[:, 0])]):
                own[..., 1] += bend * _bump(xs, ys, corner, 0.3 * size)
        elif part.startswith("brow"):
            own[..., 1] += bend * _bump(xs, ys, points.mean(0), 0.35 * size)
        for _ in range(BUMPS):
            at = points[rng.integers(len(points))] + rng.normal(0, 0.1 * size, 2)
            shift = rng.normal(0, BUMP_SIZE * gap, 2).astype(np.float32)
            own += shift * _bump(xs, ys, at, rng.uniform(0.15, 0.4) * size)[..., None]
        field = np.where((nearest == k)[..., None], own, field) if len(groups) > 1 else own
    return field


def moved_points(points: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Where `points` land under the move: x with x + B(x) = p, by fixed-point steps."""
    out = points.astype(np.float32).copy()
    for _ in range(15):
        sample = cv2.remap(field, np.ascontiguousarray(out[:, :1]), np.ascontiguousarray(out[:, 1:]), cv2.INTER_LINEAR)
        out = (points - sample.reshape(-1, 2)).astype(np.float32)
    return out


def random_move(landmarks: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> PartMove:
    """One random move of one part of the face with these `landmarks` (pixels of `shape`)."""
    names = list(WEIGHTS)
    part = names[rng.choice(len(names), p=np.array([WEIGHTS[n] for n in names]))]
    raw = np.zeros(shape + (2,), np.float32) if rng.random() < STILL_PROB else part_field(landmarks, shape, part, rng)
    mask_part = MOVABLE[part][1]
    before = draw_parts(landmarks, shape, [mask_part])
    after = draw_parts(moved_points(landmarks, raw), shape, [mask_part])
    moved_groups = np.zeros(shape, bool)
    for group in MOVABLE[part][0]:  # only the parts that moved, not their untouched twins
        pts = np.r_[landmarks[group], moved_points(landmarks[group], raw)]
        hull = cv2.convexHull(np.rint(pts).astype(np.int32))
        cv2.fillConvexPoly(moved_groups.view(np.uint8), hull, 1)
    both = (before | after) & grow_mask(moved_groups, max(4, round(0.15 * eye_distance(landmarks))))
    both = both if both.any() else before | after
    size = float(np.sqrt(both.sum()))
    hole = grow_mask(both, max(3, round(rng.uniform(*MARGIN) * size)))
    field = raw * stretch_weights(hole, grow_mask(both, 2))[..., None]
    while np.abs(field).max() > 0 and determinant(field).min() < MIN_DETERMINANT:
        field *= 0.9
    return PartMove(field.astype(np.float32), hole, part)
