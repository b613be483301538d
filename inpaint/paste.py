"""Paste-back: the frame's result (and a reshape's moved pixels) written into the full photo.

The network works in a small frame; the photo keeps its full resolution. Only the mask
plus a narrow feather band is written: every pixel farther than the band from the mask is
returned byte-identical.
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from .detail import context_margin, refine
from .engines import FrameInputs
from .frame import Frame, from_frame, mask_box, mask_from_frame
from .reshape import Reshape, remap_frame, warp_photo

BLEND_ROWS = 256  # rows blended at a time at paste-back


def feather_width(frame: Frame) -> int:
    """A band of about 1.5 frame pixels, in image pixels (2–16): wide enough to hide the
    seam of an upsampled prediction, narrow enough to keep the edit local."""
    return int(np.clip(round(1.5 / frame.scale), 2, 16))


def blend_back(
    rgb: np.ndarray, hole: np.ndarray, filled: np.ndarray, frame: Frame, feather: int, detail: bool = True
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """The frame result blended over `rgb` inside box = (x0, y0, x1, y1): weight 1 on the
    hole, falling linearly to 0 at `feather` px outside it. Returns (the blended box, uint8;
    the pixels to write, bool; box): pixels with weight 0 are not written at all. With
    `detail`, the fill's colour step at the edge is removed and, where the frame was scaled
    up, the photo's own fine detail is synthesised into it (inpaint/detail.py); that step
    reads the photo around the hole but writes only where the blend does."""
    height, width = hole.shape
    hx0, hy0, hx1, hy1 = mask_box(hole)
    x0, y0 = max(0, hx0 - feather - 1), max(0, hy0 - feather - 1)
    x1, y1 = min(width, hx1 + feather + 1), min(height, hy1 + feather + 1)
    box = (x0, y0, x1, y1)
    upscale = 1.0 / frame.scale
    margin = context_margin(upscale) if detail else 0
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(width, x1 + margin), min(height, y1 + margin)
    context_hole = hole[cy0:cy1, cx0:cx1]
    region_hole = context_hole[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    distance = cv2.distanceTransform((~region_hole).astype(np.uint8), cv2.DIST_L2, 5)
    if detail and not context_hole.all():  # the detail step reads the whole box at once
        back = refine(from_frame(filled, frame, (cx0, cy0, cx1, cy1)), rgb[cy0:cy1, cx0:cx1], context_hole, upscale)
        back = back[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        band = lambda r0, r1: back[r0:r1]  # noqa: E731
    else:  # nothing around the hole to read (or no detail step): the fill is sampled band by band
        band = lambda r0, r1: from_frame(filled, frame, (x0, y0 + r0, x1, y0 + r1))  # noqa: E731
    blended = np.empty(region_hole.shape + (3,), np.uint8)
    touched = np.empty(region_hole.shape, bool)
    for r0 in range(0, distance.shape[0], BLEND_ROWS):  # per band: a 4096² blend in float32 would take 1 GB
        r1 = min(r0 + BLEND_ROWS, distance.shape[0])
        weight = np.clip(1.0 - distance[r0:r1] / (feather + 1.0), 0.0, 1.0)
        original = rgb[y0 + r0:y0 + r1, x0:x1].astype(np.float32)
        mixed = weight[..., None] * band(r0, r1) + (1.0 - weight[..., None]) * original
        blended[r0:r1] = np.clip(np.rint(mixed), 0, 255)
        touched[r0:r1] = weight > 0
    return blended, touched, box


def reshaped_inputs(framed: FrameInputs, reshaped: Reshape) -> FrameInputs:
    """The network's inputs after the move: the moved frame as context, and only the pixels
    the move cannot supply as its hole (with the sketch and colour hints there)."""
    hole = reshaped.hole
    return FrameInputs(remap_frame(framed.image, reshaped.field), hole,
                       None if framed.sketch is None else framed.sketch & hole, framed.color,
                       None if framed.color_mask is None else framed.color_mask & hole, framed.level)


def blend_reshaped(
    rgb: np.ndarray, hole: np.ndarray, reshaped: Reshape, filled: np.ndarray, frame: Frame, feather: int,
    detail: bool = True, network: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """As `blend_back`, for a reshape: the full-resolution photo's own pixels moved by the
    field inside the mask (plus the feather band, where the field is all but zero), and the
    network's fill blended over the pixels the move cannot supply (the field's hole, and
    `network`, full-size, when given), its detail step reading the moved photo around them.
    Returns (the box, uint8; the pixels that changed; box)."""
    height, width = hole.shape
    hx0, hy0, hx1, hy1 = mask_box(hole)
    margin = feather + 1 + (context_margin(1.0 / frame.scale) if detail else 0)
    box = (max(0, hx0 - margin), max(0, hy0 - margin), min(width, hx1 + margin), min(height, hy1 + margin))
    x0, y0, x1, y1 = box
    near = cv2.distanceTransform((~hole[y0:y1, x0:x1]).astype(np.uint8), cv2.DIST_L2, 5) <= feather
    moved = warp_photo(rgb, reshaped.field, frame, box, near)
    filling = mask_from_frame(reshaped.hole, frame, box) & hole[y0:y1, x0:x1]
    if network is not None:
        filling |= network[y0:y1, x0:x1]
    if filling.any():
        region, touched, (nx0, ny0, nx1, ny1) = blend_back(moved, filling, filled, frame.offset(x0, y0), feather, detail)
        moved[ny0:ny1, nx0:nx1][touched] = region[touched]
    return moved, (moved != rgb[y0:y1, x0:x1]).any(2), box


def paste_back(
    rgb: np.ndarray, hole: np.ndarray, filled: np.ndarray, frame: Frame, feather: int, detail: bool = True
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """`blend_back` written into a copy of `rgb`: (the whole edited image, box)."""
    region, touched, box = blend_back(rgb, hole, filled, frame, feather, detail)
    x0, y0, x1, y1 = box
    out = rgb.copy()
    out[y0:y1, x0:x1][touched] = region[touched]
    return out, box


def result_image(rgb: np.ndarray, region: np.ndarray, touched: np.ndarray, box: tuple[int, int, int, int]) -> Image.Image:
    """The edited photo as a PIL image: the box written into a copy of `rgb` through the
    `touched` mask in place (no temporaries of the box's size), then handed to PIL."""
    x0, y0, x1, y1 = box
    out = rgb.copy()
    np.copyto(out[y0:y1, x0:x1], region, where=touched[..., None])
    return Image.fromarray(out)
