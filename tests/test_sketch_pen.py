"""Pen-like training sketches: smooth, simplified, broken strokes near the hole."""
import cv2
import numpy as np
import pytest

from sketch import PenParams, pen_sketch


def _line_image():
    lines = np.zeros((256, 256), bool)
    cv2.line(lines.view(np.uint8), (40, 128), (216, 140), 1, 1)
    return lines


def test_strokes_follow_the_lines_and_stay_near_the_hole():
    lines = _line_image()
    hole = np.zeros_like(lines)
    hole[100:170, 60:200] = True
    sketch = pen_sketch(lines, hole, np.random.default_rng(0), PenParams(gap_prob=0.0))
    assert sketch.any()
    distance = cv2.distanceTransform((~lines).astype(np.uint8), cv2.DIST_L2, 5)
    assert np.percentile(distance[sketch], 95) <= 6  # warped by a hand, not moved elsewhere
    band = cv2.dilate(hole.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    assert not (sketch & ~band).any()


def test_the_pen_lifts_and_varies_its_width():
    lines = np.zeros((256, 256), bool)
    cv2.polylines(lines.view(np.uint8), [np.array([[30 + 6 * i, 128 + (20 if i % 2 else -20)] for i in range(33)])],
                  False, 1, 1)
    hole = np.ones_like(lines)
    full = pen_sketch(lines, hole, np.random.default_rng(1), PenParams(gap_prob=0.0, width=(1, 1)))
    broken = pen_sketch(lines, hole, np.random.default_rng(1), PenParams(gap_prob=0.5, width=(1, 1)))
    assert broken.sum() < 0.8 * full.sum()
    wide = pen_sketch(lines, hole, np.random.default_rng(1), PenParams(gap_prob=0.0, width=(3, 3)))
    assert wide.sum() > 1.8 * full.sum()


def test_short_specks_are_not_drawn_and_bad_holes_are_refused():
    lines = np.zeros((128, 128), bool)
    lines[60, 60:63] = True
    assert not pen_sketch(lines, np.ones_like(lines), np.random.default_rng(0)).any()
    with pytest.raises(ValueError, match="hole"):
        pen_sketch(lines, np.ones((64, 64), bool), np.random.default_rng(0))
