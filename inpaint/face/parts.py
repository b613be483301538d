"""One-click masks of face parts, drawn from the 68 landmarks.

Outlines come straight from the landmarks (eyes 36–47, brows 17–26, nose 27–35, lips
48–59, jaw 0–16). The forehead and hair have no landmarks: they are estimated in the
canonical frame (the face's `CANONICAL` alignment, in units of the frame's side), where
"up" and the head's proportions are the same for every face, then mapped to the photo.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..imageio import ImageLike, to_rgb
from ..frame import CANONICAL, apply_affine, eye_distance, fit_similarity, key_points
from ..landmarks import BROWS, BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, JAW, NOSE, OUTER_LIPS
from .detect import MIN_IMAGE_SIDE, detect_faces, grey_image

PARTS = ("eyes", "eyebrows", "nose", "mouth", "jaw", "face", "hair")
EYE_GAP = float(CANONICAL[1, 0] - CANONICAL[0, 0])  # eye distance, in frame sides
FOREHEAD = 0.6 * EYE_GAP  # the brows moved up by this reach the hairline
HEAD_CENTER, HEAD_AXES = (0.5, 0.5), (0.38, 0.45)  # head-and-hair ellipse (hair ~0.05 from the top)
BAND = {"eyebrows": 0.2, "jaw": 0.25}  # line thickness, in eye distances
SHIFT = 4  # sub-pixel bits for cv2's polygon drawing


def _fill(canvas: np.ndarray, points: np.ndarray, convex: bool = False) -> None:
    """Fill the polygon, its outline and the pixels of its corners: a landmark on the
    outline is always inside the mask."""
    poly = np.rint(np.asarray(points) * (1 << SHIFT)).astype(np.int32)
    if convex:
        poly = cv2.convexHull(poly)
    poly = poly.reshape(-1, 1, 2)
    cv2.fillPoly(canvas, [poly], 1, cv2.LINE_8, SHIFT)
    cv2.polylines(canvas, [poly], True, 1, 1, cv2.LINE_8, SHIFT)
    xy = np.rint(np.asarray(points)).astype(np.int64)
    ok = np.all((xy >= 0) & (xy < canvas.shape[1::-1]), axis=1)
    canvas[xy[ok, 1], xy[ok, 0]] = 1


def _line(canvas: np.ndarray, points: np.ndarray, thickness: float) -> None:
    poly = np.rint(np.asarray(points) * (1 << SHIFT)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [poly], False, 1, max(1, round(thickness)), cv2.LINE_8, SHIFT)


def _face_outline(lm: np.ndarray, to_canon: np.ndarray, to_photo: np.ndarray) -> np.ndarray:
    """Jaw, brows, and the brows moved up to the estimated hairline."""
    forehead = apply_affine(to_photo, apply_affine(to_canon, lm[BROWS]) - (0.0, FOREHEAD))
    return np.concatenate([lm[:27], forehead])


def _hair_outline(to_photo: np.ndarray) -> np.ndarray:
    """The head ellipse above the eye line (canonical units), in photo pixels."""
    cx, cy = HEAD_CENTER
    ax, ay = HEAD_AXES
    eye_line = float(CANONICAL[:2, 1].mean())
    t = np.linspace(0.0, 2 * np.pi, 180, endpoint=False)
    arc = np.c_[cx + ax * np.cos(t), cy + ay * np.sin(t)]
    arc = arc[arc[:, 1] <= eye_line]
    arc = arc[np.argsort(np.arctan2(arc[:, 1] - cy, arc[:, 0] - cx))]
    return apply_affine(to_photo, arc)


def draw_parts(landmarks: np.ndarray, shape: tuple[int, int], parts: list[str]) -> np.ndarray:
    """bool H×W: the union of `parts` of one face given by its 68 landmarks (no growing).
    The editor's one-click masks and the training masks (`train.part_masks`) both draw here."""
    lm = np.asarray(landmarks, np.float64)
    to_canon = fit_similarity(key_points(lm), CANONICAL)
    to_photo = cv2.invertAffineTransform(to_canon)
    gap = eye_distance(lm)
    canvas = np.zeros(shape, np.uint8)
    for part in parts:
        if part == "eyes":
            _fill(canvas, lm[EYE_LEFT])
            _fill(canvas, lm[EYE_RIGHT])
        elif part == "eyebrows":
            _line(canvas, lm[BROW_LEFT], BAND["eyebrows"] * gap)
            _line(canvas, lm[BROW_RIGHT], BAND["eyebrows"] * gap)
        elif part == "nose":
            _fill(canvas, lm[NOSE], convex=True)
        elif part == "mouth":
            _fill(canvas, lm[OUTER_LIPS])
        elif part == "jaw":
            _line(canvas, lm[JAW], BAND["jaw"] * gap)
        elif part == "face":
            _fill(canvas, _face_outline(lm, to_canon, to_photo), convex=True)
        elif part == "hair":
            head, face_only = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
            _fill(head, _hair_outline(to_photo))
            _fill(face_only, _face_outline(lm, to_canon, to_photo), convex=True)
            canvas |= head & (1 - face_only)
    return canvas.astype(bool)


GROW_FRACTION = 0.15  # a part's margin: this × √(its area) covers its outline


def part_margin(region: np.ndarray) -> int:
    """The margin a part mask is grown by, relative to its size (at least 2 px)."""
    return max(2, round(GROW_FRACTION * float(np.sqrt(region.sum()))))


def grow_mask(mask: np.ndarray, grow: int) -> np.ndarray:
    """`mask` dilated by `grow` pixels (Euclidean), worked out only around the mask."""
    if grow <= 0 or not mask.any():
        return mask
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    h, w = mask.shape
    y0, y1 = max(0, rows[0] - grow - 1), min(h, rows[-1] + grow + 2)
    x0, x1 = max(0, cols[0] - grow - 1), min(w, cols[-1] + grow + 2)
    region = mask[y0:y1, x0:x1]
    distance = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    out = mask.copy()
    out[y0:y1, x0:x1] = distance <= grow
    return out


def face_part_mask(image: ImageLike, parts: list[str], grow: int = 0) -> np.ndarray:
    """bool H×W mask of the named parts of the largest face in `image`, dilated by `grow`
    px: "eyes", "eyebrows", "nose", "mouth" (lips), "jaw" (a band along the jaw line),
    "face" (jaw and brows up to the forehead), "hair" (an estimate: the head ellipse above
    the eyes, minus the face). Raises ValueError for an unknown part or when no face is
    found, FaceDetectorUnavailable without dlib."""
    names = [parts] if isinstance(parts, str) else list(parts)
    unknown = [p for p in names if p not in PARTS]
    if unknown or not names:
        raise ValueError(f"unknown face part(s) {unknown}; choose from {', '.join(PARTS)}")
    if int(grow) != grow or grow < 0:
        raise ValueError(f"grow must be a whole number of pixels ≥ 0, got {grow}")
    rgb = to_rgb(image)
    faces = detect_faces(grey_image(rgb)) if min(rgb.shape[:2]) >= MIN_IMAGE_SIDE else []
    if not faces:
        raise ValueError("no face found in the image (faces smaller than about 40 px are not detected)")
    return grow_mask(draw_parts(faces[0].landmarks, rgb.shape[:2], names), int(grow))
