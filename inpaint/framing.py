"""Choosing the frame an edit runs in.

* `align=False`: the whole image, letterboxed into a square (reflected context fills the
  bars), resized to the model's resolution.
* crop (the fallback, as IOPaint's crop strategy): a square around the mask with as much
  context again on each side, kept inside the photo where it fits, never smaller than
  the model's resolution when the photo is that large, so small edits run at native
  resolution.
* `align=True`: the face the mask is on, aligned to the canonical CelebA-HQ frame (see
  inpaint/face); crop when that is not possible, and the note says why: dlib missing,
  image under 64 px, no face found, the mask on no face, or the mask reaching outside the
  face's aligned frame.
"""
from __future__ import annotations

import logging

import numpy as np

from .face import FaceDetectorUnavailable, plan_aligned
from .frame import Frame, square_frame

log = logging.getLogger("inpaint")

CONTEXT = 0.5  # margin on each side of the mask's box, as a fraction of its longer side
MIN_MARGIN = 16


def full_frame(width: int, height: int, size: int) -> Frame:
    side = max(width, height)
    return square_frame((width - side) / 2.0, (height - side) / 2.0, side, size, "full")


def crop_frame(hole: np.ndarray, size: int) -> Frame:
    height, width = hole.shape
    ys, xs = np.nonzero(hole)
    bx0, bx1, by0, by1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    extent = max(bx1 - bx0, by1 - by0)
    side = extent + 2 * max(MIN_MARGIN, CONTEXT * extent)
    side = max(side, min(size, max(width, height)))
    cx, cy = (bx0 + bx1) / 2.0, (by0 + by1) / 2.0

    def place(center: float, length: int) -> float:
        if side > length:  # the window spans the photo: centre it, reflection fills the rest
            return (length - side) / 2.0
        # slide the window inside the photo: real context beats reflected context
        return float(np.clip(center - side / 2.0, 0.0, length - side))

    return square_frame(place(cx, width), place(cy, height), side, size, "crop")


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
