"""The photo's own lines inside the hole: the app's "Start from the photo's edges", and the
lines the editor's reshape registers against the user's sketch (`own_strokes`, one function
for both, so lines the user leaves unchanged register to no move at all).

Edges are detected on a crop around the mask (HED's cost grows with the area), scaled so the
photo's long side would be at most `max_side`; the *soft* map is then upsampled bilinearly
and thinned at full resolution, so the lines are 1 px at the photo's size and stay connected
(upsampling thinned lines instead would give staircase lines `1/scale` px thick).
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from .edges import EdgeDetector, as_rgb, soft_edges
from .lines import HIGH, LOW, thin_lines
from .strokes import layer_to_binary, resize_max

INK = (24, 24, 24)
CONTEXT = 0.15  # the crop HED sees: the mask's box and this × its longer side around it
MIN_CONTEXT = 32  # ... and at least this many pixels at HED's scale (beyond them its lines do not change)
THIN_MARGIN = 8  # px at HED's scale: lines are thinned this far around the mask's box


def _mask_at(mask: Image.Image | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    binary = mask if isinstance(mask, np.ndarray) and mask.dtype == bool else layer_to_binary(mask)
    if binary.shape[::-1] != size:
        binary = resize_max(binary, size)
    return binary


def _box(hole: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the marked pixels grown by `pad`, inside the image."""
    rows, cols = np.flatnonzero(hole.any(1)), np.flatnonzero(hole.any(0))
    h, w = hole.shape
    return max(0, cols[0] - pad), max(0, rows[0] - pad), min(w, cols[-1] + 1 + pad), min(h, rows[-1] + 1 + pad)


def photo_edges(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                detector: EdgeDetector | str | None = None, max_side: int = 1024,
                low: float = LOW, high: float = HIGH) -> np.ndarray:
    """Bool H×W map of the photo's 1-px lines, inside the mask only.

    `mask` is a bool H×W map or a layer (`strokes.layer_to_binary` rule); a mask of another
    size is resized with `resize_max`. `detector` as in `edges.get_detector`.
    """
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    hole = _mask_at(mask, (w, h))
    out = np.zeros((h, w), dtype=bool)
    if not hole.any():
        return out
    scale = min(1.0, max_side / max(h, w))
    x0, y0, x1, y1 = _box(hole, 0)
    context = int(np.ceil(max(MIN_CONTEXT / scale, CONTEXT * max(x1 - x0, y1 - y0))))
    cx0, cy0, cx1, cy1 = _box(hole, context)
    crop = rgb[cy0:cy1, cx0:cx1]
    size = (max(1, round((cx1 - cx0) * scale)), max(1, round((cy1 - cy0) * scale)))
    small = crop if scale == 1.0 else cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    soft = soft_edges(small, detector)
    if scale < 1.0:
        soft = cv2.resize(soft, (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_LINEAR)
    tx0, ty0, tx1, ty1 = _box(hole, int(np.ceil(THIN_MARGIN / scale)))
    region = soft[ty0 - cy0:ty1 - cy0, tx0 - cx0:tx1 - cx0]
    lines = thin_lines(region, low, high, min_size=max(10, round(10 / scale)), sigma=max(1.0, 1.0 / scale))
    out[ty0:ty1, tx0:tx1] = lines & hole[ty0:ty1, tx0:tx1]
    return out


def line_width(shape: tuple[int, ...]) -> int:
    """The width of the photo's own lines on the Sketch layer: about 1 px on screen when the
    photo is fitted to the canvas."""
    return max(1, round(max(shape[:2]) / 1024))


def thicken(lines: np.ndarray, width: int) -> np.ndarray:
    """1-px lines drawn `width` px wide (bool)."""
    if width <= 1:
        return lines
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    return cv2.dilate(lines.astype(np.uint8), kernel) > 0


def own_strokes(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                detector: EdgeDetector | str | None = None) -> np.ndarray:
    """The photo's own lines inside the mask exactly as "Start from the photo's edges" puts
    them on the Sketch layer (bool H×W, `line_width` wide)."""
    lines = photo_edges(image, mask, detector)
    return thicken(lines, line_width(lines.shape))


def lines_to_layer(lines: np.ndarray, color: tuple[int, int, int] = INK, width: int = 1) -> np.ndarray:
    """RGBA uint8 layer: opaque `color` strokes `width` px wide where `lines`, transparent elsewhere."""
    lines = thicken(lines, width)
    layer = np.zeros(lines.shape + (4,), dtype=np.uint8)
    layer[lines] = (*color, 255)
    return layer


def photo_edges_layer(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                      detector: EdgeDetector | str | None = None, max_side: int = 1024,
                      color: tuple[int, int, int] = INK, width: int = 1) -> np.ndarray:
    """`photo_edges` as an RGBA uint8 sketch layer (see `lines_to_layer`)."""
    return lines_to_layer(photo_edges(image, mask, detector, max_side), color, width)


def own_strokes_layer(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                      detector: EdgeDetector | str | None = None) -> np.ndarray:
    """`own_strokes` as the app's RGBA sketch layer (dark, opaque)."""
    return lines_to_layer(own_strokes(image, mask, detector))
