"""Choosing the frame an edit runs in (the geometry is in frame.py).

* `align=False`: the whole image, letterboxed into a square, resized to the model's resolution.
* `align=True`: the face the mask is on, aligned to the canonical frame; when that is not
  possible, a crop around the mask, and the note says why: dlib missing, image under 64 px,
  no face found, the mask on no face, or the mask reaching outside the face's aligned frame.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from .face import FaceDetectorUnavailable
from .face.detect import MIN_IMAGE_SIDE, Face, detect_faces, grey_image
from .frame import Frame, apply_affine, crop_frame, face_frame, full_frame, mask_box

log = logging.getLogger("inpaint")

MARGIN = 2.0  # frame pixels the mask must stay clear of the aligned frame's edge
MAX_SAMPLES = 20_000


@dataclass(frozen=True)
class MaskShape:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 (exclusive)
    outline: np.ndarray  # N×2 x, y of the outer boundary pixels: the frame is convex, so
    samples: np.ndarray  # these inside ⇔ the whole mask inside; M×2 spread over the mask


def mask_shape(hole: np.ndarray) -> MaskShape:
    x0, y0, x1, y1 = mask_box(hole)
    region = hole[y0:y1, x0:x1]
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64) + (x0, y0)
    step = max(1, int(np.ceil(np.sqrt(region.sum() / MAX_SAMPLES))))
    ys, xs = np.nonzero(region[::step, ::step])
    samples = np.c_[xs * step + x0, ys * step + y0].astype(np.float64)
    return MaskShape((float(x0), float(y0), float(x1), float(y1)), outline, samples)


def _in_face(face: Face, frame: Frame, points: np.ndarray) -> int:
    """How many points fall inside the hull of the face's jaw and brows."""
    hull = cv2.convexHull(np.rint(apply_affine(frame.matrix, face.landmarks[:27])).astype(np.int32))
    raster = np.zeros((frame.size, frame.size), np.uint8)
    cv2.fillConvexPoly(raster, hull, 1)
    uv = np.rint(apply_affine(frame.matrix, points)).astype(np.int64)
    ok = np.all((uv >= 0) & (uv < frame.size), axis=1)
    return int(raster[uv[ok, 1], uv[ok, 0]].sum())


def _where(face: Face) -> str:
    x0, y0, x1, y1 = face.box
    return f"{x1 - x0:.0f} px wide at ({(x0 + x1) / 2:.0f}, {(y0 + y1) / 2:.0f})"


def plan_aligned(rgb: np.ndarray, hole: np.ndarray, size: int) -> tuple[Frame | None, str]:
    """The aligned frame of the face the mask is on, or None and the reason to crop.

    The face is the one whose landmark hull holds most of the mask (then: whose aligned
    frame does); the mask must lie inside that face's frame. Raises
    FaceDetectorUnavailable without dlib."""
    if min(hole.shape) < MIN_IMAGE_SIDE:
        return None, f"image under {MIN_IMAGE_SIDE} px: no face detection"
    shape = mask_shape(hole)
    frames: dict[int, Frame] = {}

    def frame_of(face: Face) -> Frame:
        if id(face) not in frames:
            frames[id(face)] = face_frame(face.landmarks, size)
        return frames[id(face)]

    def holds(face: Face) -> bool:
        return bool(frame_of(face).contains(shape.outline, MARGIN).all())

    def settled(faces: list[Face]) -> bool:  # a face that holds the mask, and the mask is on it
        return any(holds(f) and _in_face(f, frame_of(f), shape.samples) > 0 for f in faces)

    faces = detect_faces(grey_image(rgb), shape.box, settled)
    if not faces:
        return None, "no face found"
    scores = [
        (_in_face(f, frame_of(f), shape.samples), int(frame_of(f).contains(shape.samples).sum())) for f in faces
    ]
    best = max(range(len(faces)), key=lambda i: scores[i])
    face, many = faces[best], f" (of {len(faces)} faces)" if len(faces) > 1 else ""
    if scores[best][1] == 0:
        return None, f"the mask is not on a face ({len(faces)} found)"
    if not holds(face):
        return None, f"the mask reaches outside the aligned frame of the face {_where(face)}"
    return frame_of(face), f"aligned to the face {_where(face)}{many}"


def plan_frame(rgb: np.ndarray, hole: np.ndarray, size: int, align: bool) -> tuple[Frame, str]:
    """(frame, a note saying which path was taken and why)."""
    height, width = hole.shape
    if not align:
        return full_frame(width, height, size), "whole image (align=False)"
    try:
        frame, why = plan_aligned(rgb, hole, size)
    except FaceDetectorUnavailable as exc:
        frame, why = None, f"face detection unavailable: {exc}"
    except RuntimeError as exc:  # dlib refusing an input: an edit must still happen
        log.warning("face detection failed: %s", exc)
        frame, why = None, f"face detection failed: {exc}"
    if frame is not None:
        return frame, why
    return crop_frame(hole, size), f"cropped around the mask: {why}"
