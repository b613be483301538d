"""Soft edges without network weights: the first half of Canny, kept soft.

Why this and not XDoG: XDoG is a stylisation filter; its output mixes edges with tone (flat
dark regions come out as solid "ink"), and its DoG lines sit on the dark side of an edge
rather than on it. The gradient magnitude of a Gaussian-blurred image peaks on the edge
itself, is 0 on flat regions whatever their brightness, and is a soft map like HED's, so the
same `lines.thin_lines` (non-maximum suppression + hysteresis, i.e. the rest of Canny) turns
either map into a line drawing. Gradients are taken in CIE Lab so that colour-only edges
(lips, eyes) count, and the magnitude is squashed to [0, 1] relative to the image's own
strong-edge level so that HED's thresholds fit it too.
"""
from __future__ import annotations

import cv2
import numpy as np


def gradient_soft_edges(image_rgb: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Soft edge map of an RGB uint8 image: float32 H×W in [0, 1], 1 = edge."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(f"need an H×W×3 uint8 RGB image, not {image_rgb.dtype} {image_rgb.shape}")
    h, w = image_rgb.shape[:2]
    if sigma is None:
        sigma = max(1.0, min(h, w) / 256.0)  # ≈ the detail level HED sees
    lab = cv2.cvtColor(image_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab = cv2.GaussianBlur(lab, (0, 0), sigma)
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.sqrt((gx * gx + gy * gy).sum(axis=2))  # Lab is roughly perceptually uniform
    magnitude = cv2.GaussianBlur(magnitude, (0, 0), sigma)  # HED-like width, smoother ridges
    # Squash: the 97th percentile of edge strength maps to ~0.76, weak texture stays low.
    scale = max(float(np.percentile(magnitude, 97)), 1e-3)
    return np.tanh(magnitude / scale).astype(np.float32)
