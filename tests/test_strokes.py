"""User layers to binary maps, and resizing that keeps 1-px lines."""
import cv2
import numpy as np
import pytest
from PIL import Image

from sketch.strokes import color_hints, layer_to_binary, resize_hints, resize_max


def test_alpha_rule_for_editor_layers():
    layer = np.zeros((20, 20, 4), np.uint8)
    layer[5, :] = (0, 0, 0, 255)  # a black stroke: marked because it is opaque
    layer[10, :] = (255, 255, 255, 100)  # faint anti-aliased edge: not marked
    marked = layer_to_binary(Image.fromarray(layer, "RGBA"))
    assert marked[5].all() and not marked[10].any() and marked.sum() == 20


def test_luminance_rule_for_opaque_and_grey_layers():
    grey = np.zeros((20, 20), np.uint8)
    grey[3:6, 3:6] = 200
    assert layer_to_binary(grey).sum() == 9
    opaque = Image.fromarray(grey).convert("RGBA")  # alpha 255 everywhere: fall back to luminance
    assert layer_to_binary(opaque).sum() == 9
    assert layer_to_binary(Image.fromarray(grey).convert("P")).sum() == 9
    assert layer_to_binary(grey.astype(bool)).sum() == 9


def test_color_hints_need_alpha():
    layer = np.zeros((8, 8, 4), np.uint8)
    layer[2, 2] = (10, 200, 30, 255)
    rgb, hint = color_hints(layer)
    assert hint.sum() == 1 and tuple(rgb[2, 2]) == (10, 200, 30) and rgb.sum() == 240
    with pytest.raises(ValueError, match="alpha"):
        color_hints(np.zeros((8, 8, 3), np.uint8))


@pytest.mark.parametrize("factor", [2, 3, 4, 7.3])
def test_one_pixel_diagonal_survives_downsampling(factor):
    size = 512
    line = np.zeros((size, size), np.uint8)
    cv2.line(line, (10, 30), (500, 480), 255, 1)
    target = int(size / factor)
    small = resize_max(line > 0, (target, target))
    n_labels, _ = cv2.connectedComponents(small.astype(np.uint8), connectivity=8)
    assert n_labels == 2 and small.sum() >= 0.9 * 470 / factor
    bilinear = cv2.resize(line, (target, target), interpolation=cv2.INTER_LINEAR) > 127
    assert bilinear.sum() < small.sum()  # what bilinear would have lost


def test_antialiased_rgba_stroke_stays_a_connected_line():
    layer = np.zeros((400, 400, 4), dtype=np.uint8)
    cv2.line(layer, (10, 30), (390, 350), (20, 20, 20, 255), 1, cv2.LINE_AA)
    binary = layer_to_binary(layer)
    small = resize_max(binary, (100, 100))
    for mask in (binary, small):
        assert cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] == 2
    assert small[30 // 4, 10 // 4] and small[350 // 4, 390 // 4]


def test_float_layers_outside_0_1_or_nan_are_refused_not_read_as_empty():
    assert layer_to_binary(np.full((4, 4), 0.9)).all()
    with pytest.raises(ValueError, match="NaN"):
        layer_to_binary(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match=r"values in \[0, 1\], but it spans 0 to 255"):
        layer_to_binary(np.array([[0.0, 255.0]]))


def test_upsampling_is_nearest():
    mask = np.zeros((4, 4), bool)
    mask[1, 2] = True
    big = resize_max(mask, (16, 16))
    assert big.sum() == 16 and big[4:8, 8:12].all()


def test_resize_hints_keeps_colours_pure():
    rgb = np.zeros((64, 64, 3), np.uint8)
    hint = np.zeros((64, 64), bool)
    rgb[10, :] = (200, 40, 10)
    hint[10, :] = True
    small_rgb, small_hint = resize_hints(rgb, hint, (16, 16))
    assert small_hint[2].all() and small_hint.sum() == 16
    assert np.abs(small_rgb[2].astype(int) - (200, 40, 10)).max() <= 1  # not darkened by the empty pixels
