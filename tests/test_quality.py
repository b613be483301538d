"""The measures a person would use: sharpness against the photo, and edge F1."""
import cv2
import numpy as np
import pytest

from evaluation import quality


def test_the_photo_scores_one_and_a_blur_far_less(aligned_astronaut):
    image, _, _ = aligned_astronaut
    hole = np.zeros(image.shape[:2], bool)
    hole[60:200, 60:200] = True
    assert quality.sharpness(image, image, hole) == pytest.approx(1.0)
    assert quality.edge_f1(image, image, hole) == pytest.approx(1.0)
    blurred = cv2.GaussianBlur(image, (0, 0), 2)
    assert quality.sharpness(blurred, image, hole) < 0.35
    flat = np.full_like(image, 128)
    assert quality.sharpness(flat, image, hole) == 0.0
    assert quality.edge_f1(flat, image, hole) == 0.0


def test_edges_a_pixel_off_still_match_within_the_tolerance():
    truth = np.zeros((64, 64, 3), np.uint8)
    truth[:, 32:] = 200
    moved, far = np.zeros_like(truth), np.zeros_like(truth)
    moved[:, 33:], far[:, 44:] = 200, 200
    hole = np.ones((64, 64), bool)
    assert quality.edge_f1(moved, truth, hole) == pytest.approx(1.0)
    assert quality.edge_f1(far, truth, hole) == 0.0


def test_only_the_inside_of_the_hole_counts():
    hole = np.zeros((40, 40), bool)
    hole[10:30, 10:30] = True
    inner = quality.inner(hole, 3)
    assert inner.sum() == 14 * 14 and not inner[10:13].any()
    # the image border is not a hole border: a hole along it is not shrunk from that side
    edge = np.zeros((40, 40), bool)
    edge[:, :10] = True
    assert quality.inner(edge, 3)[:, 0].all()
    truth = np.zeros((40, 40, 3), np.uint8)
    assert np.isnan(quality.sharpness(truth, truth, hole))  # a flat truth has no detail to match
    assert np.isnan(quality.edge_f1(truth, truth, hole))


def test_nanmean_skips_undefined_scores():
    assert quality.nanmean([1.0, float("nan"), 3.0]) == 2.0
    assert np.isnan(quality.nanmean([float("nan")]))


def test_grid_scores_the_pattern_of_a_nearest_upsampled_map(aligned_astronaut):
    image, _, _ = aligned_astronaut
    hole = np.zeros(image.shape[:2], bool)
    hole[40:200, 50:210] = True
    coarse = cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA)
    blocks = cv2.resize(coarse, image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    softened = cv2.GaussianBlur(blocks, (0, 0), 1.0)
    noise = np.random.default_rng(0).integers(0, 256, image.shape, dtype=np.uint8)
    for photo_like in (image, cv2.GaussianBlur(image, (0, 0), 2.0), noise):  # no lattice: a blur is not a grid
        assert quality.grid(photo_like, hole) < 0.1
    assert quality.grid(softened, hole) > 0.5
    assert quality.grid(np.roll(softened, 3, axis=(0, 1)), hole) > 0.5  # wherever the lattice lies
    assert np.isnan(quality.grid(image, np.zeros_like(hole)))


def test_structure_is_one_for_the_reference_and_low_for_a_smear(aligned_astronaut):
    image, _, _ = aligned_astronaut
    hole = np.zeros(image.shape[:2], bool)
    hole[150:200, 90:170] = True
    assert quality.structure(image, image, hole) == pytest.approx(1.0)
    smear = cv2.inpaint(image, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    assert quality.structure(smear, image, hole) < 0.6
    # only the box around the hole is computed: the same as SSIM over the whole image
    from skimage.metrics import structural_similarity

    _, local = structural_similarity(quality.grey(smear), quality.grey(image), win_size=7, data_range=255.0,
                                     full=True)
    assert quality.structure(smear, image, hole) == pytest.approx(local[quality.inner(hole, 4)].mean(), abs=1e-6)


def test_line_contrast_sees_strokes_painted_on_skin():
    skin = np.full((64, 64, 3), (200, 160, 140), np.uint8)
    hole = np.zeros((64, 64), bool)
    hole[8:56, 8:56] = True
    lines = np.zeros_like(hole)
    lines[32, 12:52] = True
    assert quality.line_contrast(skin, lines, hole) == 0.0  # lines drawn, nothing inked
    inked = skin.copy()
    inked[lines] = (60, 30, 60)
    assert quality.line_contrast(inked, lines, hole) > 100
    assert np.isnan(quality.line_contrast(skin, np.zeros_like(hole), hole))
