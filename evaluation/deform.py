"""Known smooth moves of one face part: the truths of the reshape protocol (`reshape_eval`).

A move is a backward field B (image pixels): the deformed photo at x is the photo at
x + B(x). On the part B is the part's own move in full (scaled about its centre, shifted,
its corners or arch bent); from there it falls smoothly to exactly zero at the edge of the
mask, which covers the part before and after the move grown by `SPREAD` × the part's size,
so the photo beyond the mask is unchanged and the editor, given that mask, can reach the
truth.

Ranges (eye distance = between the eyes' centres), drawn per face and part:
mouth width and height ×0.85–1.25, corners ±0.06 eye distances; each eye ×0.85–1.30;
brows raised −0.08 to +0.12 eye distances, arched up to 0.06; nose width ×0.80–1.15.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inpaint.face.parts import draw_parts, grow_mask
from inpaint.frame import eye_distance
from inpaint.landmarks import BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, MOUTH, MOUTH_CORNERS, NOSE
from inpaint.part_maps import stretch_weights
from inpaint.reshape import determinant

PARTS = ("mouth", "eyes", "eyebrows", "nose")
SPREAD = 0.25  # the mask's margin around the part before and after, × the part's size
MIN_DETERMINANT = 0.3  # a drawn move is damped until its Jacobian determinant stays above this


@dataclass(frozen=True)
class Deformation:
    field: np.ndarray  # H×W×2 float32, backward: truth(x) = photo(x + field[x])
    mask: np.ndarray  # bool: the part before and after, with the margin the field fades over
    truth: np.ndarray  # uint8 RGB: the deformed photo
    description: str


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    return xs, ys


def _scaled(xs, ys, centre, sx: float, sy: float, near: np.ndarray) -> np.ndarray:
    """Backward field of a scale (sx, sy) about `centre`, weighted by `near`."""
    bx = (centre[0] + (xs - centre[0]) / sx - xs) * near
    by = (centre[1] + (ys - centre[1]) / sy - ys) * near
    return np.dstack([bx, by]).astype(np.float32)


def _bump(xs, ys, centre, sigma: float) -> np.ndarray:
    return np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2)).astype(np.float32)


def _nearer(points: np.ndarray, other: np.ndarray, xs, ys) -> np.ndarray:
    """1 where the centre of `points` is nearer than that of `other` (one eye or brow of two)."""
    a, b = points.mean(0), other.mean(0)
    return (((xs - a[0]) ** 2 + (ys - a[1]) ** 2) < ((xs - b[0]) ** 2 + (ys - b[1]) ** 2)).astype(np.float32)


def draw_values(part: str, rng: np.random.Generator) -> dict[str, float]:
    """One draw of a part's move from the protocol's ranges (eye distances for shifts)."""
    if part == "mouth":
        return {"wide": rng.uniform(0.85, 1.25), "high": rng.uniform(0.85, 1.25), "corners": rng.uniform(-0.06, 0.06)}
    if part == "eyes":
        return {"left": rng.uniform(0.85, 1.30), "right": rng.uniform(0.85, 1.30)}
    if part == "eyebrows":
        return {"up": rng.uniform(-0.08, 0.12), "arch": rng.uniform(0.0, 0.06)}
    if part == "nose":
        return {"wide": rng.uniform(0.80, 1.15)}
    raise ValueError(f"unknown part {part!r}; choose from {', '.join(PARTS)}")


def move_field(landmarks: np.ndarray, shape: tuple[int, int], part: str, values: dict[str, float]) -> tuple[np.ndarray, str]:
    """The part's raw backward field for these values (not yet confined to a mask), and what it does."""
    xs, ys = _grid(shape)
    gap = eye_distance(landmarks)
    if part == "mouth":
        lips = landmarks[MOUTH]
        sx, sy, lift = values["wide"], values["high"], values["corners"] * gap
        size = float(np.ptp(lips[:, 0]))
        field = _scaled(xs, ys, lips.mean(0), sx, sy, 1.0)
        for corner in MOUTH_CORNERS:  # corners up (lift > 0) or down, as a smile or a frown
            field[..., 1] += lift * _bump(xs, ys, landmarks[corner], 0.3 * size)
        return field, f"mouth ×{sx:.2f} wide ×{sy:.2f} high, corners {lift / gap:+.2f} eye distances up"
    if part == "eyes":
        field = np.zeros(shape + (2,), np.float32)
        for eye, other, key in ((EYE_LEFT, EYE_RIGHT, "left"), (EYE_RIGHT, EYE_LEFT, "right")):
            points, s = landmarks[eye], values[key]
            field += _scaled(xs, ys, points.mean(0), s, s, _nearer(points, landmarks[other], xs, ys))
        return field, f"eyes ×{values['left']:.2f} and ×{values['right']:.2f}"
    if part == "eyebrows":
        raise_by, arch = values["up"] * gap, values["arch"] * gap
        field = np.zeros(shape + (2,), np.float32)
        for brow, other in ((BROW_LEFT, BROW_RIGHT), (BROW_RIGHT, BROW_LEFT)):
            points = landmarks[brow]
            length = float(np.ptp(points[:, 0]))
            near = _nearer(points, landmarks[other], xs, ys)
            field[..., 1] += (raise_by + arch * _bump(xs, ys, points.mean(0), 0.3 * length)) * near
        return field, f"brows {values['up']:+.2f} eye distances up, arched {values['arch']:.2f}"
    if part == "nose":
        points = landmarks[NOSE]
        field = _scaled(xs, ys, points.mean(0), values["wide"], 1.0, 1.0)
        return field, f"nose ×{values['wide']:.2f} wide"
    raise ValueError(f"unknown part {part!r}; choose from {', '.join(PARTS)}")


def moved_landmarks(landmarks: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Where the landmarks land in the truth: x with x + B(x) = p, by fixed-point steps."""
    points = landmarks.astype(np.float32).copy()
    for _ in range(20):
        sample = cv2.remap(field, np.ascontiguousarray(points[:, :1]), np.ascontiguousarray(points[:, 1:]),
                           cv2.INTER_LINEAR)
        points = (landmarks - sample.reshape(-1, 2)).astype(np.float32)
    return points


def deform(photo: np.ndarray, landmarks: np.ndarray, part: str, rng: np.random.Generator | None = None,
           values: dict[str, float] | None = None) -> Deformation:
    """One move of `part` of the face with these landmarks (drawn with `rng`, or the given
    `values`), confined to its mask."""
    shape = photo.shape[:2]
    if values is None:
        if rng is None:
            raise ValueError("give rng or values")
        values = draw_values(part, rng)
    field, description = move_field(landmarks, shape, part, values)
    region = draw_parts(landmarks, shape, [part])
    after = draw_parts(moved_landmarks(landmarks, field), shape, [part])
    both = region | after
    size = float(np.sqrt(both.sum()))
    mask = grow_mask(both, max(3, round(SPREAD * size)))
    field = field * stretch_weights(mask, grow_mask(both, 2))[..., None]  # a smoothstep: flat at both ends
    while determinant(field).min() < MIN_DETERMINANT:
        field *= 0.9
    xs, ys = _grid(shape)
    truth = cv2.remap(photo, xs + field[..., 0], ys + field[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    truth = np.where(mask[..., None], truth, photo)
    return Deformation(field, mask, truth, description)
