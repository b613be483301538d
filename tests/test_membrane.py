"""The gradient-domain seam's maths: a harmonic membrane fixed on the region's edge."""
import cv2
import numpy as np
import pytest

import inpaint.membrane as membrane_module
from inpaint.membrane import membrane

LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)


def disc(shape, centre, radius) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    cv2.circle(out, centre, radius, 1, -1)
    return out.astype(bool)


def test_a_linear_edge_gives_the_same_plane_inside_and_nothing_outside_changes():
    """A plane is harmonic: given on the edge, it is the exact answer inside."""
    ys, xs = np.mgrid[0:60, 0:80].astype(np.float32)
    plane = 3.0 * xs - 2.0 * ys + 7.0
    values = plane.copy()
    inside = disc((60, 80), (40, 30), 20)
    values[inside] = 1e4  # what lies inside is never read
    out = membrane(values, inside)
    assert np.abs(out[inside] - plane[inside]).max() < 1e-3
    assert np.array_equal(out[~inside], values[~inside])


def test_inside_the_membrane_is_harmonic_and_channels_are_independent():
    rng = np.random.default_rng(0)
    values = rng.normal(0, 20, (50, 70, 3)).astype(np.float32)
    inside = disc((50, 70), (35, 25), 18)
    out = membrane(values, inside)
    laplacian = cv2.filter2D(out, -1, LAPLACIAN, borderType=cv2.BORDER_REPLICATE)
    assert np.abs(laplacian[inside]).max() < 1e-3
    single = membrane(values[..., 1], inside)
    assert np.allclose(single, out[..., 1], atol=1e-4)


def test_a_region_on_the_image_border_takes_the_edge_it_has():
    """Touching the border is no failure: no flux through it, a constant edge gives that constant."""
    values = np.full((40, 40, 3), 5.0, np.float32)
    inside = np.zeros((40, 40), bool)
    inside[:25, :25] = True  # two sides on the image's border
    values[inside] = -50.0
    out = membrane(values, inside)
    assert np.allclose(out[inside], 5.0, atol=1e-4)


def test_a_region_without_an_edge_gets_no_correction():
    values = np.ones((10, 10), np.float32)
    assert np.array_equal(membrane(values, np.ones((10, 10), bool)), np.zeros((10, 10), np.float32))


def test_a_large_region_solved_coarse_to_fine_meets_its_edge(monkeypatch):
    rng = np.random.default_rng(1)
    values = cv2.GaussianBlur(rng.normal(0, 30, (90, 120, 3)).astype(np.float32), (0, 0), 3)
    inside = disc((90, 120), (60, 45), 40)
    exact = membrane(values, inside)
    monkeypatch.setattr(membrane_module, "DIRECT_LIMIT", 500)  # the coarse-to-fine path, on a small case
    approx = membrane(values, inside)
    edge = inside & ~(cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    assert np.abs(approx - exact)[edge].max() < 0.05
    assert np.abs(approx - exact)[inside].max() < 0.5


@pytest.mark.parametrize("shape", [(1, 1), (3, 1)])
def test_tiny_regions(shape):
    values = np.zeros((5, 5), np.float32)
    values[0] = 10.0
    inside = np.zeros((5, 5), bool)
    inside[1:1 + shape[0], 2:2 + shape[1]] = True
    out = membrane(values, inside)
    assert np.isfinite(out).all() and (out[inside] > 0).all() and (out[inside] < 10).all()
