"""The photo's own edges inside the hole, for the app's "start from the photo's edges".

Edges are detected on a copy whose long side is at most `max_side` (HED's cost grows with
the area); the *soft* map is then upsampled bilinearly and thinned at full resolution, so the
lines are 1 px at the photo's size and stay connected (upsampling thinned lines instead would
give staircase lines `1/scale` px thick).
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from .edges import EdgeDetector, as_rgb, soft_edges
from .lines import HIGH, LOW, thin_lines
from .strokes import layer_to_binary, resize_max

INK = (24, 24, 24)


def _mask_at(mask: Image.Image | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    binary = mask if isinstance(mask, np.ndarray) and mask.dtype == bool else layer_to_binary(mask)
    if binary.shape[::-1] != size:
        binary = resize_max(binary, size)
    return binary


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
    small = rgb if scale == 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                  interpolation=cv2.INTER_AREA)
    soft = soft_edges(small, detector)
    ys, xs = np.nonzero(hole)
    margin = int(np.ceil(8 / scale))
    y0, y1 = max(0, ys.min() - margin), min(h, ys.max() + 1 + margin)
    x0, x1 = max(0, xs.min() - margin), min(w, xs.max() + 1 + margin)
    if scale < 1.0:
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
    crop = soft[y0:y1, x0:x1]
    lines = thin_lines(crop, low, high, min_size=max(10, round(10 / scale)), sigma=max(1.0, 1.0 / scale))
    out[y0:y1, x0:x1] = lines & hole[y0:y1, x0:x1]
    return out


def lines_to_layer(lines: np.ndarray, color: tuple[int, int, int] = INK, width: int = 1) -> np.ndarray:
    """RGBA uint8 layer: opaque `color` strokes `width` px wide where `lines`, transparent elsewhere."""
    if width > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
        lines = cv2.dilate(lines.astype(np.uint8), kernel) > 0
    layer = np.zeros(lines.shape + (4,), dtype=np.uint8)
    layer[lines] = (*color, 255)
    return layer


def photo_edges_layer(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                      detector: EdgeDetector | str | None = None, max_side: int = 1024,
                      color: tuple[int, int, int] = INK, width: int = 1) -> np.ndarray:
    """`photo_edges` as an RGBA uint8 sketch layer for the app (see `lines_to_layer`)."""
    return lines_to_layer(photo_edges(image, mask, detector, max_side), color, width)
