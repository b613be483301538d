"""The photo's edges inside the hole (the app's "start from the photo's edges")."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.morphology import skeletonize

from sketch.photo import lines_to_layer, photo_edges, photo_edges_layer
from sketch.strokes import layer_to_binary


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def face_mask(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    mask = np.zeros((h, w), dtype=np.uint8)
    cv2.ellipse(mask, (w * 232 // 512, h * 140 // 512), (w * 72 // 512, h * 92 // 512), 0, 0, 360, 1, -1)
    return mask > 0


def assert_thin(lines: np.ndarray) -> None:
    changed = np.count_nonzero(skeletonize(lines) != lines)
    assert changed <= 0.02 * np.count_nonzero(lines)


def test_lines_only_inside_the_mask_and_thin(astronaut):
    mask = face_mask(astronaut.shape[:2])
    lines = photo_edges(astronaut, mask, detector="gradient")
    assert lines.dtype == bool and lines.shape == mask.shape
    assert not (lines & ~mask).any()
    assert np.count_nonzero(lines) > 150  # a face has structure: eyes, mouth, jaw, hair line
    assert_thin(lines)


def test_flat_photo_gives_no_lines():
    flat = np.full((64, 80, 3), 128, dtype=np.uint8)
    assert not photo_edges(flat, np.ones((64, 80), bool), detector="gradient").any()
    assert not photo_edges(data.astronaut(), np.zeros((512, 512), bool), detector="gradient").any()


def test_large_image_lines_stay_thin_and_connected(astronaut):
    big = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    mask = face_mask(big.shape[:2])
    lines = photo_edges(big, mask, detector="gradient", max_side=512)
    small = photo_edges(astronaut, face_mask((512, 512)), detector="gradient")
    assert not (lines & ~mask).any()
    assert_thin(lines)
    # 3× the resolution: ~3× the line length (upsampled 1-px lines would be 3 px thick: ~9×)
    assert 2.0 < np.count_nonzero(lines) / np.count_nonzero(small) < 4.5
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    assert np.median(stats[1:, cv2.CC_STAT_AREA]) >= 20  # not dust


def test_mask_as_a_layer_of_another_size(astronaut):
    mask = face_mask((256, 256))
    layer = Image.fromarray(np.where(mask, 255, 0).astype(np.uint8))  # grey-scale mask image
    lines = photo_edges(astronaut, layer, detector="gradient")
    assert lines.shape == (512, 512) and lines.any()
    assert not (lines & ~cv2.resize(mask.astype(np.uint8), (512, 512), interpolation=cv2.INTER_NEAREST)).any()


def test_rgba_layer_round_trips_through_layer_to_binary(astronaut):
    mask = face_mask(astronaut.shape[:2])
    layer = photo_edges_layer(astronaut, mask, detector="gradient")
    lines = photo_edges(astronaut, mask, detector="gradient")
    assert layer.shape == (512, 512, 4) and layer.dtype == np.uint8
    assert np.array_equal(layer[..., 3] == 255, lines) and not layer[~lines].any()
    assert layer[lines][:, :3].max() < 64  # dark ink
    assert np.array_equal(layer_to_binary(layer), lines)
    wide = lines_to_layer(lines, width=3)
    assert np.count_nonzero(wide[..., 3]) > 2 * np.count_nonzero(lines)
