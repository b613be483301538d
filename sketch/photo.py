"""The photo's own lines inside the hole: the app's "Start from the photo's edges", and the
lines the editor's reshape registers against the user's sketch (`own_strokes`, one function
for both, so lines the user leaves unchanged register to no move at all).

Edges are detected on a crop around the mask (HED's cost grows with the area), scaled so the
photo's long side would be at most `max_side`; the *soft* map is then upsampled bilinearly
and thinned at full resolution, so the lines are 1 px at the photo's size and stay connected
(upsampling thinned lines instead would give staircase lines `1/scale` px thick).
"""
from __future__ import annotations

from dataclasses import dataclass

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
MAX_SIDE = 1024  # the detector sees the photo scaled to at most this long side
FAINT = 0.5  # the fainter lines a reshape may also match: edges at this × the thresholds


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


@dataclass(frozen=True)
class _SoftRegion:
    """The edge detector's soft map around a mask, at the photo's size."""

    soft: np.ndarray  # float H'×W' in [0, 1] over `box`
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) in the photo
    hole: np.ndarray  # bool H×W: the mask at the photo's size
    scale: float  # the scale the detector ran at

    def lines(self, low: float, high: float) -> np.ndarray:
        """Bool H×W: the 1-px lines at these hysteresis thresholds, inside the mask only."""
        x0, y0, x1, y1 = self.box
        out = np.zeros(self.hole.shape, dtype=bool)
        lines = thin_lines(self.soft, low, high, min_size=max(10, round(10 / self.scale)),
                           sigma=max(1.0, 1.0 / self.scale))
        out[y0:y1, x0:x1] = lines & self.hole[y0:y1, x0:x1]
        return out


def _soft_region(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                 detector: EdgeDetector | str | None, max_side: int) -> _SoftRegion | None:
    """The detector run on a crop around the mask (None for an empty mask)."""
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    hole = _mask_at(mask, (w, h))
    if not hole.any():
        return None
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
    return _SoftRegion(soft[ty0 - cy0:ty1 - cy0, tx0 - cx0:tx1 - cx0], (tx0, ty0, tx1, ty1), hole, scale)


def photo_edges(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                detector: EdgeDetector | str | None = None, max_side: int = MAX_SIDE,
                low: float = LOW, high: float = HIGH) -> np.ndarray:
    """Bool H×W map of the photo's 1-px lines, inside the mask only.

    `mask` is a bool H×W map or a layer (`strokes.layer_to_binary` rule); a mask of another
    size is resized with `resize_max`. `detector` as in `edges.get_detector`.
    """
    found = _soft_region(image, mask, detector, max_side)
    if found is None:
        return np.zeros(as_rgb(image).shape[:2], dtype=bool)
    return found.lines(low, high)


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


def own_and_faint_strokes(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                          detector: EdgeDetector | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(`own_strokes`, and the photo's lines at FAINT × the thresholds: those and the fainter
    ones beside them, drawn as wide), from one run of the edge detector. A reshape registers
    the sketch against both: a line the user draws may be one the photo holds just below the
    threshold of "Start from the photo's edges" (a soft nostril crease, a lid's second line)."""
    found = _soft_region(image, mask, detector, MAX_SIDE)
    if found is None:
        empty = np.zeros(as_rgb(image).shape[:2], dtype=bool)
        return empty, empty
    width = line_width(found.hole.shape)
    return thicken(found.lines(LOW, HIGH), width), thicken(found.lines(FAINT * LOW, FAINT * HIGH), width)


def lines_to_layer(lines: np.ndarray, color: tuple[int, int, int] = INK, width: int = 1) -> np.ndarray:
    """RGBA uint8 layer: opaque `color` strokes `width` px wide where `lines`, transparent elsewhere."""
    lines = thicken(lines, width)
    layer = np.zeros(lines.shape + (4,), dtype=np.uint8)
    layer[lines] = (*color, 255)
    return layer


def photo_edges_layer(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                      detector: EdgeDetector | str | None = None, max_side: int = MAX_SIDE,
                      color: tuple[int, int, int] = INK, width: int = 1) -> np.ndarray:
    """`photo_edges` as an RGBA uint8 sketch layer (see `lines_to_layer`)."""
    return lines_to_layer(photo_edges(image, mask, detector, max_side), color, width)


def own_strokes_layer(image: Image.Image | np.ndarray, mask: Image.Image | np.ndarray,
                      detector: EdgeDetector | str | None = None) -> np.ndarray:
    """`own_strokes` as the app's RGBA sketch layer (dark, opaque)."""
    return lines_to_layer(own_strokes(image, mask, detector))
