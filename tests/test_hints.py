"""Colour hints after the network (inpaint/hints.py): the fill takes the dabbed colour there,
keeps its texture, and nothing outside the hole moves."""
import cv2
import numpy as np

from inpaint import Editor
from inpaint.hints import follow_colour_hints

RED = (170, 40, 50)


def _textured_fill(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grain = cv2.GaussianBlur(rng.normal(0, 12, (128, 128)).astype(np.float32), (0, 0), 1.0)
    return np.clip(np.stack([200 + grain, 160 + grain, 140 + grain], -1), 0, 255).astype(np.uint8)


def _dabs(hole: np.ndarray, box: tuple[int, int, int, int], colour=RED, step: int = 12):
    y0, y1, x0, x1 = box
    mask = np.zeros(hole.shape, np.uint8)
    for y in range(y0 + 4, y1 - 3, step):
        for x in range(x0 + 4, x1 - 3, step):
            cv2.circle(mask, (x, y), 2, 1, -1)
    mask = mask.astype(bool) & hole
    color = np.zeros(hole.shape + (3,), np.uint8)
    color[mask] = colour
    return color, mask


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def test_without_hints_the_fill_is_returned_as_is():
    fill, hole = _textured_fill(), np.zeros((128, 128), bool)
    hole[30:90, 20:100] = True
    assert follow_colour_hints(fill, hole, None, None) is fill
    color, mask = _dabs(hole, (30, 90, 20, 100))
    outside_only = mask & ~hole
    assert follow_colour_hints(fill, hole, color, outside_only) is fill  # hints outside the hole do nothing


def test_dabs_move_the_hole_to_their_colour_and_keep_its_grain():
    fill, hole = _textured_fill(), np.zeros((128, 128), bool)
    hole[30:90, 20:100] = True
    color, mask = _dabs(hole, (30, 90, 20, 100))
    out = follow_colour_hints(fill, hole, color, mask)
    assert np.array_equal(out[~hole], fill[~hole])  # outside the hole: byte-identical
    inner = np.zeros_like(hole)
    inner[36:84, 26:94] = True
    before, after, target = fill[inner].mean(0), out[inner].mean(0), np.array(RED, float)
    moved = (after - before) @ (target - before) / ((target - before) @ (target - before))
    assert moved > 0.8
    # the grain (L minus its local mean) survives: a colour shift, not a flat paint-over
    away_from_dabs = inner & ~cv2.dilate(mask.astype(np.uint8), np.ones((9, 9))).astype(bool)

    def grain(rgb):
        lightness = _lab(rgb)[..., 0]
        return (lightness - cv2.GaussianBlur(lightness, (0, 0), 3))[away_from_dabs]
    assert np.std(grain(out)) > 0.6 * np.std(grain(fill))


def test_hole_far_from_every_dab_keeps_the_networks_colour():
    fill, hole = _textured_fill(1), np.zeros((128, 128), bool)
    hole[10:118, 10:118] = True
    color, mask = _dabs(hole, (10, 40, 10, 40))  # dabs in one corner of a large hole only
    out = follow_colour_hints(fill, hole, color, mask)
    far = np.zeros_like(hole)
    far[90:118, 90:118] = True
    assert np.abs(_lab(out)[far] - _lab(fill)[far]).max() < 1.0
    near = np.zeros_like(hole)
    near[14:36, 14:36] = True
    assert np.abs(_lab(out)[near] - _lab(fill)[near]).mean() > 10.0


def test_editor_tints_even_the_classical_fallback_and_can_switch_the_step_off():
    photo = _textured_fill(2)
    hole = np.zeros((128, 128), bool)
    hole[40:90, 30:100] = True
    color, mask = _dabs(hole, (40, 90, 30, 100))
    layer = np.dstack([color, mask.astype(np.uint8) * 255])
    mask_image = hole.astype(np.uint8) * 255
    def edit(follow_hints: bool) -> np.ndarray:
        editor = Editor.telea(128, follow_hints=follow_hints)
        return np.asarray(editor.edit(photo, mask_image, color=layer, align=False))

    tinted, plain = edit(True), edit(False)
    region = hole.copy()
    region[:44], region[86:], region[:, :34], region[:, 96:] = False, False, False, False
    red = np.array(RED, float)
    assert np.linalg.norm(tinted[region].mean(0) - red) < 0.4 * np.linalg.norm(plain[region].mean(0) - red)
