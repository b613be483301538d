"""Colour hints honoured after the network: the fill takes the colour a person dabbed.

The network sees the hints (`SketchPConvUNet.make_guide`), but at the shipped size it moves
a fill's mean colour only 0.3–0.5 of the way toward a dabbed lip colour and hardly at all
toward an unusual one (`evaluation.transfer_eval`). A person who dabs red on the lips expects red
lips, so after the network the editor shifts the fill's colour toward the hints with a
smooth offset field, the way colourisation-by-scribbles spreads a few strokes:

* the network draws each dab as a dot of its own; the dots are filled in from the fill
  around them first (OpenCV's Telea);
* at each hint pixel, the offset is the hint's CIELAB colour minus the fill's *local mean*
  colour there (a Gaussian of the fill, so the offset asks for the region's colour and
  leaves its texture alone);
* the offsets are spread by normalised convolution (the Gaussian-weighted mean of the
  offsets of the hints nearby: `inpaint.detail.local_mean`, blurs on a shrunk copy), with
  a strength that is 1 within about one `sigma` of a hint and falls off beyond, so parts
  of the hole with no hint nearby keep the network's colour;
* the field is added to the fill's L, a and b inside the hole only: lightness and chroma
  move, the fill's detail (its deviations from the local mean) is kept.

`sigma` follows the hole's size (0.2 × the square root of its area, at least 3 px): a
dozen dabs over a mouth then cover it. OpenCV does the blurs and colour conversions.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .detail import local_mean, smooth
from .frame import mask_box

SIGMA_PER_SIDE = 0.2  # offset reach, as a share of the hole's size (sqrt of its area)
MIN_SIGMA = 3.0


def follow_colour_hints(fill: np.ndarray, hole: np.ndarray, color: np.ndarray | None,
                        color_mask: np.ndarray | None) -> np.ndarray:
    """`fill` (uint8 RGB) with its hole shifted toward the colour hints inside it (uint8
    RGB where `color_mask`). Pixels outside the hole, and every pixel when there is no hint
    in the hole, are returned unchanged."""
    if color is None or color_mask is None:
        return fill
    hint = color_mask & hole
    if not hint.any():
        return fill
    sigma = max(MIN_SIGMA, SIGMA_PER_SIDE * math.sqrt(float(hole.sum())))
    x0, y0, x1, y1 = mask_box(hole)  # the work is local: the hole's box and 3 sigma around it
    reach, (height, width) = math.ceil(3 * sigma), hole.shape
    box = (slice(max(0, y0 - reach), min(height, y1 + reach)), slice(max(0, x0 - reach), min(width, x1 + reach)))
    hint, region_hole = hint[box], hole[box]

    clean = _without_dabs(fill[box], hint, sigma)
    lab = cv2.cvtColor(clean.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    hint_lab = cv2.cvtColor(color[box].astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    offset, weight = local_mean(hint_lab - smooth(lab, sigma / 2), hint, sigma)
    strength = np.clip(weight / _one_sigma_level(hint, sigma), 0.0, 1.0)
    shifted = cv2.cvtColor(lab + offset * strength[..., None], cv2.COLOR_LAB2RGB)
    out = fill.copy()
    out[box][region_hole] = np.clip(np.rint(shifted[region_hole] * 255.0), 0, 255).astype(np.uint8)
    return out


def _without_dabs(fill: np.ndarray, hint: np.ndarray, sigma: float) -> np.ndarray:
    """The network draws each dab as a dot of its own (a small CPU model's literal answer);
    the dots and a rim around them are filled from the fill around (OpenCV's Telea), so
    the colour the dabs ask for spreads over a clean fill rather than over dots."""
    rim = max(1, round(sigma / 4))
    dots = cv2.dilate(hint.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rim + 1,) * 2))
    return cv2.inpaint(np.ascontiguousarray(fill), dots * 255, rim + 1, cv2.INPAINT_TELEA)


def _one_sigma_level(hint: np.ndarray, sigma: float) -> float:
    """The blurred hint weight one `sigma` away from an average hint blob (its area over the
    Gaussian's volume, times e^-1/2): where the strength reaches 1."""
    count, _ = cv2.connectedComponents(hint.astype(np.uint8), connectivity=8)
    blob_area = hint.sum() / max(1, count - 1)
    return float(blob_area / (2.0 * math.pi * sigma**2) * math.exp(-0.5))
