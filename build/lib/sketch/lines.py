"""Soft edge map → line drawing of 1-px lines (the post-processing Deep Plastic Surgery does in MATLAB).

Steps: non-maximum suppression across each ridge (along the Hessian's strongest-curvature
direction, as a ridge has no gradient at its crest), hysteresis thresholding with
8-connected components (scikit-image's uses 4-connectivity, which cuts 1-px diagonals),
thinning to one pixel, and removal of fragments smaller than `min_size` pixels.
"""
from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import thin

# Hysteresis thresholds on HED probabilities, chosen on faces: lower ones keep eyes and mouth,
# which HED marks faintly next to the face outline; the fallback is scaled to match.
LOW, HIGH = 0.15, 0.4


def ridge_normals(smooth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin) of the direction across the ridges of a (smoothed) soft edge map, per pixel."""
    dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3)
    # Direction of strongest curvature: the Hessian eigenvector of largest |eigenvalue|. The angle
    # below is that of the largest *signed* eigenvalue; a negative trace means the other one
    # (90° away) is larger in magnitude — always the case on a crest, where curvature is negative.
    angle = 0.5 * np.arctan2(2.0 * dxy, dxx - dyy)
    angle = np.where(dxx + dyy < 0, angle + np.pi / 2, angle)
    return np.cos(angle), np.sin(angle)


def non_max_suppression(soft: np.ndarray, sigma: float = 1.0, radius: float = 1.0) -> np.ndarray:
    """The soft map where a pixel is a maximum across its ridge, 0 elsewhere (float32).

    Maxima are found on a copy smoothed by `sigma` (use ~ the upsampling factor for a map
    that was upsampled: its piecewise-linear crests would otherwise break into fragments);
    the values kept are those of `soft`, so thresholds mean the same at any sigma.
    """
    soft = np.ascontiguousarray(soft, dtype=np.float32)
    smooth = cv2.GaussianBlur(soft, (0, 0), sigma) if sigma > 0 else soft
    h, w = soft.shape
    cos, sin = ridge_normals(smooth)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    keep = smooth > 0
    for sign in (1.0, -1.0):
        map_x = xs + sign * radius * cos
        map_y = ys + sign * radius * sin
        neighbour = cv2.remap(smooth, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        keep &= smooth >= neighbour * (1.0 - 1e-5)  # relative: ties on plateaus survive, faint tails do not
    return np.where(keep, soft, 0.0).astype(np.float32)


def hysteresis(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels > low that are 8-connected (through pixels > low) to a pixel > high."""
    weak = (values > low).astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[labels[values > high]] = True
    keep[0] = False
    return keep[labels]


def remove_small(lines: np.ndarray, min_size: int) -> np.ndarray:
    """Drop 8-connected fragments of fewer than `min_size` pixels."""
    if min_size <= 1:
        return lines.copy()
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_size
    keep[0] = False
    return keep[labels]


def thin_lines(soft: np.ndarray, low: float = LOW, high: float = HIGH, min_size: int = 10,
               sigma: float = 1.0) -> np.ndarray:
    """Bool H×W map of 1-px lines from a soft edge map (float H×W in [0, 1], 1 = edge)."""
    if soft.ndim != 2:
        raise ValueError(f"a soft edge map is H×W, not {soft.shape}")
    suppressed = non_max_suppression(soft, sigma)
    lines = hysteresis(suppressed, low, high)
    lines = thin(lines)  # NMS leaves 2-px runs on plateaus and at junctions
    return remove_small(lines, min_size)
