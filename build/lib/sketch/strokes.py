"""User layers (mask, sketch, colour hints) to binary maps, and resizing that keeps thin lines.

Editor layers arrive as RGBA images at canvas size with anti-aliased strokes; files
from disk are often grey-scale or fully opaque RGBA. The rule everywhere:

* a layer with a meaningful alpha channel: alpha > 127 marks a stroke;
* a layer with no alpha, or an alpha that is opaque everywhere: luminance > 127 marks it.

Masks and lines are never resized bilinearly: a bilinear hole mask leaves a grey rim that
the network sees as half-known pixels (the known cause of hole outlines), and a bilinear
1-px line fades below any threshold. Downsampling here is "any coverage" (max-pool for
integer factors, area coverage > 0 otherwise); upsampling is nearest.
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

THRESHOLD = 127


def _as_array(layer: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(layer, Image.Image):
        if layer.mode in ("RGBA", "LA"):
            return np.asarray(layer)
        if layer.mode in ("P", "PA") or "transparency" in layer.info:
            return np.asarray(layer.convert("RGBA"))
        if layer.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            arr = np.asarray(layer, dtype=np.float64)
            top = 65535.0 if layer.mode.startswith("I;16") or arr.max() > 255 else 255.0
            return np.clip(arr * 255.0 / top, 0, 255).astype(np.uint8)
        return np.asarray(layer.convert("L"))
    arr = np.asarray(layer)
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if arr.dtype == np.uint16:
        return (arr >> 8).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):  # refused, not clipped: NaN would read as "empty"
        if not np.isfinite(arr).all():
            raise ValueError("the layer array holds NaN or infinite values")
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError(f"a float layer array must hold values in [0, 1], but it spans {arr.min():g} to "
                             f"{arr.max():g}; pass uint8 for 0–255 values")
        return (arr * 255.0 + 0.5).astype(np.uint8)
    if arr.dtype != np.uint8:
        raise ValueError(f"layer arrays must be bool, uint8, uint16 or float in [0, 1], not {arr.dtype}")
    return arr


def layer_to_binary(layer: Image.Image | np.ndarray) -> np.ndarray:
    """Marked pixels of a layer as a bool H×W array (see the module docstring for the rule)."""
    arr = _as_array(layer)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        return arr > THRESHOLD
    if arr.ndim != 3 or arr.shape[2] not in (2, 3, 4):
        raise ValueError(f"a layer must be H×W, H×W×1, H×W×2, H×W×3 or H×W×4, not {arr.shape}")
    if arr.shape[2] in (2, 4):
        alpha = arr[..., -1]
        if alpha.min() < 255:
            return alpha > THRESHOLD
        arr = arr[..., :-1]
    if arr.shape[2] == 1:
        return arr[..., 0] > THRESHOLD
    luminance = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY)
    return luminance > THRESHOLD


def color_hints(layer: Image.Image | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour hints of an RGBA layer: (RGB uint8 H×W×3 with zeros where no hint, bool H×W hint mask)."""
    if isinstance(layer, Image.Image):
        if layer.mode not in ("RGBA", "LA", "PA", "P") and "transparency" not in layer.info:
            raise ValueError(f"colour hints need an alpha channel (RGBA); got a {layer.mode} image")
        arr = np.asarray(layer.convert("RGBA"))
    else:
        arr = _as_array(layer)
        if arr.ndim != 3 or arr.shape[2] != 4:
            raise ValueError(f"colour hints need an alpha channel (an H×W×4 RGBA array); got shape {arr.shape}")
    hint = arr[..., 3] > THRESHOLD
    rgb = np.where(hint[..., None], arr[..., :3], 0).astype(np.uint8)
    return rgb, hint


def resize_max(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a bool H×W map to (width, height) so that any marked pixel stays marked.

    Downsampling marks an output pixel when any input pixel it covers is marked (a 1-px
    diagonal line survives any reduction); upsampling is nearest-neighbour.
    """
    width, height = size
    h, w = mask.shape
    if (w, h) == (width, height):
        return mask.copy()
    src = mask.astype(np.float32)
    if width < w or height < h:
        coverage = cv2.resize(src, (min(width, w), min(height, h)), interpolation=cv2.INTER_AREA)
        src = (coverage > 1e-6).astype(np.float32)
    if src.shape[1] != width or src.shape[0] != height:
        src = cv2.resize(src, (width, height), interpolation=cv2.INTER_NEAREST)
    return src > 0.5


def resize_hints(rgb: np.ndarray, hint: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Resize colour hints: the mask with `resize_max`, the colour as the mean over hinted pixels only."""
    width, height = size
    weight = hint.astype(np.float32)
    interpolation = cv2.INTER_AREA if width < hint.shape[1] else cv2.INTER_NEAREST
    summed = cv2.resize(rgb.astype(np.float32) * weight[..., None], (width, height), interpolation=interpolation)
    count = cv2.resize(weight, (width, height), interpolation=interpolation)
    out_hint = resize_max(hint, size)
    mean = summed / np.maximum(count, 1e-6)[..., None]
    out_rgb = np.where(out_hint[..., None], np.clip(mean + 0.5, 0, 255), 0).astype(np.uint8)
    return out_rgb, out_hint
