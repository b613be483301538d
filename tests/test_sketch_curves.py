"""A drawn line read as the smooth curve the hand meant (sketch/curves.py)."""
import cv2
import numpy as np
from skimage.morphology import thin

from sketch.curves import catmull_rom, junctions, line_runs, smooth_curves

CENTRE, RADIUS = np.array([60.0, 60.0]), 40.0


def polygon_on_circle(sides: int) -> np.ndarray:
    """A closed polyline whose corners lie on the circle: a quick hand's stroke around it."""
    angles = np.linspace(0, 2 * np.pi, sides + 1)
    return CENTRE + RADIUS * np.c_[np.cos(angles), np.sin(angles)]


def drawn(points: np.ndarray, closed: bool = False) -> np.ndarray:
    canvas = np.zeros((120, 120), np.uint8)
    cv2.polylines(canvas, [np.rint(points).astype(np.int32)], closed, 1, 1)
    return thin(canvas > 0)


def radius_error(points: np.ndarray) -> float:
    """Mean signed distance from the circle (negative: inside it)."""
    return float(np.mean(np.linalg.norm(points - CENTRE, axis=1) - RADIUS))


def test_a_quick_strokes_corners_bring_back_the_curve_it_cut():
    lines = drawn(polygon_on_circle(8))
    ys, xs = np.nonzero(lines)
    as_drawn = radius_error(np.c_[xs, ys].astype(float))
    points, _ = smooth_curves(lines, tolerance=1.5)
    assert as_drawn < -1.0  # chords of an octagon run well inside its circle
    assert abs(radius_error(points)) < 0.5 * abs(as_drawn)  # its corners, thinned, sit a pixel in


def test_a_smooth_line_comes_back_where_it_was():
    canvas = np.zeros((120, 120), np.uint8)
    cv2.circle(canvas, (60, 60), 40, 1, 1)
    points, tangents = smooth_curves(thin(canvas > 0), tolerance=1.5)
    distance = np.abs(np.linalg.norm(points - CENTRE, axis=1) - RADIUS)
    assert distance.mean() < 0.4 and distance.max() < 1.2
    radial = (points - CENTRE) / np.linalg.norm(points - CENTRE, axis=1, keepdims=True)
    assert np.allclose(np.linalg.norm(tangents, axis=1), 1.0)
    assert np.abs((tangents * radial).sum(1)).mean() < 0.1  # tangents run along the circle


def test_runs_break_at_junctions_but_not_at_a_staircase():
    tee = np.zeros((40, 40), bool)
    tee[20, 5:35] = True
    tee[5:20, 20] = True
    runs, rest = line_runs(tee)
    assert junctions(tee).sum() == 1
    assert sorted(len(r) for r in runs) == [14, 15, 15] and len(rest) == 1
    stairs = drawn(np.array([[5.0, 5.0], [35.0, 20.0]]))
    runs, rest = line_runs(stairs)
    assert len(runs) == 1 and len(rest) == 0 and len(runs[0]) == stairs.sum()
    assert np.all(np.abs(np.diff(runs[0], axis=0)) <= 1)  # walked in order, pixel to pixel


def test_the_spline_passes_through_every_corner_in_order():
    corners = np.array([[0.0, 0.0], [10.0, 2.0], [20.0, 0.0], [25.0, 8.0]])
    curve = catmull_rom(corners, spacing=0.5)
    for corner in corners:
        assert np.linalg.norm(curve - corner, axis=1).min() < 1e-6
    assert np.all(np.linalg.norm(np.diff(curve, axis=0), axis=1) < 1.0)
    assert np.array_equal(curve[0], corners[0]) and np.allclose(curve[-1], corners[-1])


def test_an_empty_drawing_gives_no_points():
    points, tangents = smooth_curves(np.zeros((10, 10), bool), tolerance=1.0)
    assert points.shape == (0, 2) and tangents.shape == (0, 2)
