"""Soft edge map → 1-px line drawing."""
from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

from sketch.lines import hysteresis, non_max_suppression, remove_small, thin_lines


def soft_circle(size: int = 96, radius: int = 30, width: float = 3.0) -> np.ndarray:
    canvas = np.zeros((size, size), dtype=np.float32)
    cv2.circle(canvas, (size // 2, size // 2), radius, 1.0, 1, cv2.LINE_AA)
    soft = cv2.GaussianBlur(canvas, (0, 0), width)
    return soft / soft.max()


def test_thick_ridge_becomes_one_pixel_line_on_its_crest():
    soft = soft_circle()
    lines = thin_lines(soft)
    ys, xs = np.nonzero(lines)
    r = np.hypot(ys - 48, xs - 48)
    assert np.all(np.abs(r - 30) <= 1.5)  # on the crest
    assert len(ys) > 0.8 * 2 * np.pi * 30  # closed, not fragmented away
    assert np.array_equal(skeletonize(lines), lines)  # already 1 px


def test_nms_keeps_the_crest_across_the_ridge_direction():
    x = np.arange(40, dtype=np.float32)
    soft = np.tile(np.exp(-((x - 17.3) ** 2) / 18.0), (30, 1))  # vertical ridge near x = 17
    suppressed = non_max_suppression(soft)
    assert set(np.nonzero(suppressed[5:25])[1]) == {17}


def test_hysteresis_follows_8_connected_diagonals():
    values = np.zeros((20, 20), dtype=np.float32)
    idx = np.arange(3, 17)
    values[idx, idx] = 0.3  # weak 1-px diagonal, only corner-connected
    values[16, 16] = 0.9  # one strong pixel at its end
    values[2, 15] = 0.3  # an isolated weak pixel
    kept = hysteresis(values, 0.2, 0.5)
    assert kept[idx, idx].all() and not kept[2, 15]


def test_small_fragments_are_removed():
    lines = np.zeros((30, 30), dtype=bool)
    lines[5, 2:25] = True
    lines[20, 3:6] = True
    kept = remove_small(lines, 10)
    assert kept[5, 2:25].all() and not kept[20].any()


def test_weak_edges_give_no_lines():
    soft = soft_circle() * 0.2
    assert not thin_lines(soft).any()
