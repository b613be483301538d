"""Training sketches that look like the app's pen: smooth, simplified, broken strokes.

HED lines traced from a photo are dense and jagged; a person with a pen draws a few
smooth strokes, skips the faint lines, lifts the pen now and then, and draws 2–4 px wide.
`pen_sketch` turns the true image's thin lines into such a drawing:

1. the lines near the hole are warped by a smooth random field (a hand is not exact);
2. each connected line is traced as a polyline (OpenCV contours; an open 1-px line's
   contour runs out and back, so only its first half is kept), short ones are dropped;
3. the polyline is smoothed (moving average) and simplified (Douglas–Peucker);
4. it is cut into strokes with random gaps, and drawn with a random pen width.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .synthesis import hole_band, random_warp


@dataclass(frozen=True)
class PenParams:
    """Lengths in pixels at 256 px; they scale with the side."""

    warp: tuple[float, float] = (0.5, 2.5)  # std of the smooth displacement
    min_length: float = 8.0  # lines shorter than this are not drawn
    smooth: int = 5  # moving-average window along a line (points)
    simplify: tuple[float, float] = (0.6, 2.0)  # Douglas–Peucker tolerance
    gap_prob: float = 0.12  # chance that a simplified segment is skipped (pen lifted)
    width: tuple[int, int] = (1, 3)  # pen width, inclusive
    band: float = 4.0  # strokes kept up to this far outside the hole


def _trace(lines: np.ndarray) -> list[np.ndarray]:
    """Each connected line of a thin-line map as an N×2 float polyline."""
    contours, hierarchy = cv2.findContours(lines.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    out = []
    for i, contour in enumerate(contours):
        if hierarchy is not None and hierarchy[0][i][3] >= 0:
            continue  # the inside of a closed loop: the same line again
        points = contour[:, 0, :].astype(np.float32)
        if abs(cv2.contourArea(contour)) < len(points):  # an open line: out and back
            points = points[: len(points) // 2 + 1]
        out.append(points)
    return out


def _smooth(points: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(points) <= window:
        return points
    kernel = np.ones(window, np.float32) / window
    padded = np.pad(points, ((window // 2, window - 1 - window // 2), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(2)], axis=1)


def pen_sketch(lines: np.ndarray, hole: np.ndarray, rng: np.random.Generator,
               params: PenParams = PenParams()) -> np.ndarray:
    """A pen-like drawing (bool H×W) of the thin `lines` around `hole`."""
    if hole.dtype != bool or hole.shape != lines.shape:
        raise ValueError(f"hole must be bool {lines.shape} like the lines, not {hole.dtype} {hole.shape}")
    h, w = lines.shape
    scale = min(h, w) / 256.0
    region = hole_band(hole, params.band * scale)
    near = lines & hole_band(hole, (params.band + 8) * scale)
    warped = random_warp(near.astype(np.float32), rng.uniform(*params.warp) * scale, rng) > 0.2
    canvas = np.zeros((h, w), np.uint8)
    width = int(rng.integers(params.width[0], params.width[1] + 1))
    width = max(1, int(round(width * scale)))
    tolerance = rng.uniform(*params.simplify) * scale
    for points in _trace(warped):
        if cv2.arcLength(points.reshape(-1, 1, 2), False) < params.min_length * scale:
            continue
        simple = cv2.approxPolyDP(_smooth(points, params.smooth).reshape(-1, 1, 2), tolerance, False)[:, 0, :]
        keep = rng.random(len(simple) - 1) >= params.gap_prob
        for start, stop, drawn in zip(simple[:-1], simple[1:], keep):
            if drawn:
                cv2.line(canvas, tuple(int(v) for v in np.rint(start)), tuple(int(v) for v in np.rint(stop)), 1, width)
    return canvas.astype(bool) & region
