"""Stroke rasterisation keeps thin lines through downsampling (`sketch.strokes`)."""
from __future__ import annotations

import cv2
import numpy as np

from sketch.strokes import layer_to_binary, resize_max


def is_connected_8(mask: np.ndarray) -> bool:
    count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return count == 2


def test_one_pixel_diagonal_survives_a_4x_downsample():
    line = np.eye(256, dtype=bool)
    small = resize_max(line, (64, 64))
    assert small.shape == (64, 64)
    assert np.array_equal(small, np.eye(64, dtype=bool))
    # a bilinear resize loses it: the reason resize_max exists
    assert not (cv2.resize(line.astype(np.float32), (64, 64), interpolation=cv2.INTER_LINEAR) > 0.5).any()


def test_antialiased_rgba_stroke_stays_a_connected_line():
    layer = np.zeros((400, 400, 4), dtype=np.uint8)
    cv2.line(layer, (10, 30), (390, 350), (20, 20, 20, 255), 1, cv2.LINE_AA)
    binary = layer_to_binary(layer)
    small = resize_max(binary, (100, 100))
    assert is_connected_8(binary) and is_connected_8(small)
    assert small[30 // 4, 10 // 4] and small[350 // 4, 390 // 4]
    assert np.count_nonzero(small.sum(axis=1)) >= (350 - 30) // 4  # every row it crosses


def test_upsampling_is_nearest():
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 2] = True
    big = resize_max(mask, (16, 16))
    assert big.sum() == 16 and big[4:8, 8:12].all()
