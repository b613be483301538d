"""Synthetic training sketches and colour hints."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.morphology import skeletonize

from sketch.synthesis import (HintParams, SketchParams, hole_band, median_image, recolour_hole,
                              synthesize_color_hints, synthesize_sketch)

SIZE = 256


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return cv2.resize(data.astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def lines() -> np.ndarray:
    """A dense synthetic line drawing: a grid of 1-px lines and circles."""
    canvas = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for k in range(16, SIZE, 24):
        cv2.line(canvas, (k, 0), (k, SIZE - 1), 1, 1)
        cv2.line(canvas, (0, k), (SIZE - 1, k + 40), 1, 1)
    for r in (30, 60, 90):
        cv2.circle(canvas, (128, 128), r, 1, 1)
    return canvas > 0


@pytest.fixture(scope="module")
def hole() -> np.ndarray:
    canvas = np.zeros((SIZE, SIZE), dtype=np.uint8)
    cv2.ellipse(canvas, (120, 130), (60, 80), 20, 0, 360, 1, -1)
    return canvas > 0


def test_shapes_dtypes_and_only_inside_hole_plus_band(lines, hole):
    params = SketchParams()
    allowed = hole_band(hole, params.band)
    rng = np.random.default_rng(0)
    for level in (0.0, 0.3, 1.0):
        sketch = synthesize_sketch(lines, hole, level, rng, params)
        assert sketch.dtype == bool and sketch.shape == hole.shape
        assert sketch.any() and not (sketch & ~allowed).any()
    assert (synthesize_sketch(lines, hole, 0.0, rng) & ~hole).any()  # the band is used
    assert not synthesize_sketch(lines, np.zeros_like(hole), 0.5, rng).any()


def test_rough_level_is_thicker_than_precise(lines, hole):
    no_erase = SketchParams(erase_max=0)
    precise = synthesize_sketch(lines, hole, 0.0, np.random.default_rng(1), no_erase)
    rough = synthesize_sketch(lines, hole, 1.0, np.random.default_rng(1), no_erase)
    assert np.count_nonzero(rough) > 3 * np.count_nonzero(precise)
    # mean stroke width = area / centre-line length
    def width(mask):
        return np.count_nonzero(mask) / np.count_nonzero(skeletonize(mask))
    assert width(precise) < 2.0 and width(rough) > 4.0
    # precise lines stay on the true lines (warp ≤ a couple of pixels at l = 0)
    near = cv2.dilate(lines.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert np.mean(near[precise]) > 0.95


def test_erasing_only_removes_stroke_pixels(lines, hole):
    removed = []
    for seed in range(5):  # same seed: same warp, then patches erased (or none, when 0 is drawn)
        kept = synthesize_sketch(lines, hole, 0.5, np.random.default_rng(seed), SketchParams(erase_max=0))
        erased = synthesize_sketch(lines, hole, 0.5, np.random.default_rng(seed),
                                   SketchParams(erase_max=6, erase_size=(30, 40)))
        assert not (erased & ~kept).any()
        removed.append(np.count_nonzero(kept) - np.count_nonzero(erased))
    assert max(removed) > 100


def test_deterministic_for_a_seed(lines, hole, image):
    a = synthesize_sketch(lines, hole, 0.7, np.random.default_rng(42))
    b = synthesize_sketch(lines, hole, 0.7, np.random.default_rng(42))
    c = synthesize_sketch(lines, hole, 0.7, np.random.default_rng(43))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    h1 = synthesize_color_hints(image, hole, np.random.default_rng(5))
    h2 = synthesize_color_hints(image, hole, np.random.default_rng(5))
    assert np.array_equal(h1[0], h2[0]) and np.array_equal(h1[1], h2[1])


def test_invalid_inputs(lines, hole):
    with pytest.raises(ValueError, match="level"):
        synthesize_sketch(lines, hole, 1.5, np.random.default_rng())
    with pytest.raises(ValueError, match="hole"):
        synthesize_sketch(lines, hole.astype(np.uint8), 0.5, np.random.default_rng())


def test_color_hints_inside_hole_with_median_colours(image, hole):
    rng = np.random.default_rng(3)
    median = median_image(image)
    assert not np.array_equal(median, image)
    for _ in range(10):
        rgb, hint = synthesize_color_hints(image, hole, rng)
        assert rgb.dtype == np.uint8 and rgb.shape == image.shape
        assert hint.dtype == bool and hint.shape == hole.shape
        assert hint.any() and not (hint & ~hole).any()
        assert np.array_equal(rgb[hint], median[hint]) and not rgb[~hint].any()
    empty = synthesize_color_hints(image, np.zeros_like(hole), rng)
    assert not empty[1].any() and not empty[0].any()


def test_color_hints_are_strokes_not_dots(image, hole):
    params = HintParams(strokes=(1, 1), vertices=(4, 4), step=(20, 20), width=(3, 3))
    _, hint = synthesize_color_hints(image, hole, np.random.default_rng(4), params)
    assert np.count_nonzero(hint) >= 20 * 3  # at least one full segment of 3-px width


def test_non_square_and_larger_images():
    rng = np.random.default_rng(7)
    lines = np.zeros((320, 512), dtype=bool)
    lines[::20] = True
    hole = np.zeros((320, 512), dtype=bool)
    hole[80:240, 100:400] = True
    image = rng.integers(0, 256, size=(320, 512, 3), dtype=np.uint8)
    sketch = synthesize_sketch(lines, hole, 0.5, rng)
    rgb, hint = synthesize_color_hints(image, hole, rng)
    assert sketch.shape == hint.shape == (320, 512) and rgb.shape == (320, 512, 3)
    assert sketch.any() and hint.any() and not (hint & ~hole).any()


def test_a_recoloured_hole_takes_a_new_colour_without_a_seam(image, hole):
    moved = []
    for seed in range(8):
        out = recolour_hole(image, hole, np.random.default_rng(seed))
        assert np.array_equal(out[~hole], image[~hole])  # the known pixels are the input's
        before, after = image[hole].astype(float).mean(0), out[hole].astype(float).mean(0)
        moved.append(np.linalg.norm(after - before))
        edge = hole & ~cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        assert np.array_equal(out[edge], image[edge])  # ramps in from the edge: no seam
        centre = image[hole].astype(float).std(0)  # the hole's own variation (texture) is kept
        assert np.all(out[hole].astype(float).std(0) > 0.4 * centre)
    assert np.median(moved) > 25  # a different colour, not a nudge


def test_hints_of_a_recoloured_sample_carry_its_new_colour():
    from train.config import DataSection
    from train.data import make_sample

    face = cv2.resize(data.astronaut(), (64, 64), interpolation=cv2.INTER_AREA)
    lines = np.zeros((64, 64), bool)
    checked = 0
    for n in range(20):
        plain = make_sample(face, lines, np.random.default_rng(n), 64, DataSection(color_prob=1.0))
        tinted = make_sample(face, lines, np.random.default_rng(n), 64, DataSection(color_prob=1.0, recolor_prob=1.0))
        hole = tinted["valid"][0].numpy() < 0.5
        assert np.array_equal(plain["valid"].numpy(), tinted["valid"].numpy())
        assert np.array_equal(tinted["image"].numpy()[:, ~hole], plain["image"].numpy()[:, ~hole])
        hints = tinted["guide"].color_mask[0].numpy() > 0.5
        if hints.sum() > 8:  # the hints' colour is the recoloured truth's, not the photo's
            given = tinted["guide"].color.numpy()[:, hints].mean(1)
            truth, photo = tinted["image"].numpy()[:, hints].mean(1), plain["image"].numpy()[:, hints].mean(1)
            if np.abs(truth - photo).max() > 0.2:  # recoloured well away from the photo
                assert np.abs(given - truth).sum() < 0.5 * np.abs(given - photo).sum()
                checked += 1
    assert checked >= 5
