"""A drawn line read as the smooth curve the hand meant.

A stroke in the browser is a polyline through the pointer's samples, and a quick hand cuts
corners: on a curve such as an eyelid, the straight runs between samples lie inside the
curve the person meant (an eye fitted to them comes out a few per cent small). The turning
points of a stroke lie on the intended curve, so each run of a thinned line is reduced to
its turning points (Douglas–Peucker) and redrawn as a centripetal Catmull–Rom spline through
them. A line that is already smooth, such as an edge detector's, comes back within the
tolerance.
"""
from __future__ import annotations

import cv2
import numpy as np

NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))  # 4-neighbours first
AROUND = ((0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1))  # (dx, dy) clockwise


def junctions(lines: np.ndarray) -> np.ndarray:
    """bool: line pixels where three or more branches meet (three or more separate runs of
    line pixels around them; a staircase's corner has two)."""
    padded = np.pad(lines.astype(np.int8), 1)
    h, w = lines.shape
    ring = [padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dx, dy in AROUND]
    starts = sum(((ring[i] == 1) & (ring[i - 1] == 0)).astype(np.int8) for i in range(8))
    return lines.astype(bool) & (starts >= 3)


def line_runs(lines: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The runs of a 1-px line map between ends and junctions, each an ordered N×2 (x, y)
    float array, and the junctions' pixels as M×2."""
    lines = lines.astype(bool)
    junction = junctions(lines)
    free = lines & ~junction
    # the branches' first pixels around a junction touch each other: never step between two
    ring = free & (cv2.dilate(junction.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    degree = cv2.filter2D(free.astype(np.uint8), -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    h, w = lines.shape
    visited = np.zeros_like(free)
    ys, xs = np.nonzero(free)
    order = np.argsort(degree[ys, xs], kind="stable")  # start runs at their ends
    runs = []
    for y, x in zip(ys[order], xs[order]):
        if visited[y, x]:
            continue
        run = [(x, y)]
        visited[y, x] = True
        while True:
            cx, cy = run[-1]
            for dx, dy in NEIGHBOURS:
                nx, ny = cx + dx, cy + dy
                if 0 <= nx < w and 0 <= ny < h and free[ny, nx] and not visited[ny, nx] and \
                        not (ring[cy, cx] and ring[ny, nx]):
                    visited[ny, nx] = True
                    run.append((nx, ny))
                    break
            else:
                break
        runs.append(np.asarray(run, np.float64))
    rest = np.c_[np.nonzero(junction)[::-1]].astype(np.float64)
    return runs, rest


def catmull_rom(corners: np.ndarray, spacing: float = 0.5) -> np.ndarray:
    """Points every ~`spacing` px along the centripetal Catmull–Rom spline through `corners`
    (K×2, K ≥ 2), from the first to the last."""
    ends = np.r_[[2 * corners[0] - corners[1]], corners, [2 * corners[-1] - corners[-2]]]
    out = [corners[:1]]
    for i in range(1, len(ends) - 2):
        p0, p1, p2, p3 = ends[i - 1:i + 3]
        t1 = np.sqrt(max(np.linalg.norm(p1 - p0), 1e-6))
        t2 = t1 + np.sqrt(max(np.linalg.norm(p2 - p1), 1e-6))
        t3 = t2 + np.sqrt(max(np.linalg.norm(p3 - p2), 1e-6))
        count = max(1, int(np.ceil(np.linalg.norm(p2 - p1) / spacing)))
        t = np.linspace(t1, t2, count + 1)[1:, None]
        a1 = (t1 - t) / t1 * p0 + t / t1 * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / t2 * a1 + t / t2 * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    return np.concatenate(out)


def smooth_curves(lines: np.ndarray, tolerance: float, spacing: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(points N×2, unit tangents N×2) along `lines` (bool, 1 px wide) read as smooth curves
    through their turning points (`tolerance` px: Douglas–Peucker's); junction pixels and
    runs too short to have a direction are kept as they are, with a zero tangent."""
    runs, rest = line_runs(lines)
    points, tangents = [], []
    for run in runs:
        if len(run) < 3:
            rest = np.r_[rest, run]
            continue
        corners = cv2.approxPolyDP(run.astype(np.float32).reshape(-1, 1, 2), tolerance, False)[:, 0, :]
        curve = catmull_rom(corners.astype(np.float64), spacing)
        step = np.gradient(curve, axis=0)
        length = np.linalg.norm(step, axis=1, keepdims=True)
        points.append(curve)
        tangents.append(np.where(length > 0, step / np.maximum(length, 1e-9), 0.0))
    points.append(rest)
    tangents.append(np.zeros_like(rest))
    return np.concatenate(points), np.concatenate(tangents)
