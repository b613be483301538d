"""What a reshape registers the sketch against: the photo's own lines, the fainter ones beside
them (`sketch.own_and_faint_strokes`), drawn as wide as the user's strokes (`reshape.drawn_width`)."""
import cv2
import numpy as np
import pytest
import torch

import sketch.photo
from inpaint import Editor, GeneratorConfig, SketchPConvUNet, reshape
from inpaint.face import face_part_mask
from inpaint.face.parts import grow_mask, part_margin
from inpaint.reshape import drawn_width, register
from sketch import own_and_faint_strokes, own_strokes
from sketch.photo import thicken
from skimage.data import astronaut

EDGES = "gradient"  # fast; the rule is the detector's thresholds, whichever detector it is


@pytest.fixture(scope="module")
def mouth():
    image = astronaut()
    region = face_part_mask(image, ["mouth"])
    return image, grow_mask(region, part_margin(region))


def test_the_own_lines_are_start_from_edges_lines_and_the_faint_ones_add_to_them(mouth):
    image, mask = mouth
    own, faint = own_and_faint_strokes(image, mask, EDGES)
    assert np.array_equal(own, own_strokes(image, mask, EDGES))  # one line function for both
    assert faint.sum() > own.sum() and (own & faint).sum() >= 0.95 * own.sum()
    assert not (faint & ~mask).any()
    empty = np.zeros(mask.shape, bool)
    assert not any(lines.any() for lines in own_and_faint_strokes(image, empty, EDGES))


def lips_with_a_faint_crease(contrast: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a synthetic photo: dark lips and, above them, a crease `contrast` levels darker than
    the skin; the mask over both; the crease's pixels)."""
    image = np.full((256, 256, 3), (200, 160, 140), np.uint8)
    cv2.ellipse(image, (128, 140), (40, 16), 0, 0, 360, (120, 50, 60), -1)
    crease = np.zeros((256, 256), np.uint8)
    cv2.line(crease, (96, 100), (160, 104), 1, 2)
    image[crease > 0] -= np.uint8(contrast)
    mask = np.zeros((256, 256), np.uint8)
    cv2.ellipse(mask, (128, 128), (70, 50), 0, 0, 360, 1, -1)
    return image, mask > 0, crease > 0


def test_a_line_the_photo_holds_faintly_is_kept_not_redrawn(monkeypatch):
    """The user draws a line the photo has below "Start from the photo's edges"'s threshold:
    the photo already holds it, so its pixels stay; without the faint lines the network
    would redraw a band around it."""
    image, mask, crease = lips_with_a_faint_crease()
    own, faint = own_and_faint_strokes(image, mask, EDGES)
    near_crease = thicken(crease, 9)
    assert not (own & near_crease).any() and (faint & near_crease).sum() >= 60  # faint, yet a line
    drawn = (own | (faint & near_crease)).astype(np.uint8) * 255
    torch.manual_seed(0)
    editor = Editor.from_network(SketchPConvUNet(GeneratorConfig(width=0.125)), "tiny").with_options(edges=EDGES)

    def hole_psnr() -> tuple[float, str]:
        done = editor.edit(image, mask.astype(np.uint8) * 255, drawn, mode="reshape", return_info=True)
        error = ((np.asarray(done.image)[mask].astype(np.float64) - image[mask]) ** 2).mean()
        return (100.0 if error == 0 else 10 * np.log10(255.0**2 / error)), done.info.mode_note

    kept, note = hole_psnr()
    assert kept >= 35 and note.startswith("100%"), (kept, note)
    monkeypatch.setattr(sketch.photo, "FAINT", 1.0)  # no fainter lines: the drawn one is the network's
    assert hole_psnr()[0] < kept - 5


@pytest.mark.parametrize("width", [1, 3, 5, 9])
def test_the_width_of_drawn_strokes_is_read_back(width):
    lines = np.zeros((96, 96), np.uint8)
    cv2.ellipse(lines, (48, 48), (30, 14), 0, 200, 340, 1, 1)
    cv2.line(lines, (15, 70), (80, 75), 1, 1)
    assert abs(drawn_width(thicken(lines > 0, width)) - width) <= (width > 5)  # L2 distances are approximate
    assert drawn_width(np.zeros((8, 8), bool)) == 1


def test_a_wide_pen_over_nested_lines_leaves_them_where_they_are(monkeypatch):
    """An upper lid and the crease above it, drawn over with a pen wider than the gap between
    them, merge into one stroke whose centre runs between the two: the photo's lines drawn
    as wide merge the same way, so next to nothing moves (the merged stroke reads a little
    wider than the pen). Compared line by line, the centre line pulls each lid line half the
    gap toward it."""
    hole = np.zeros((128, 128), bool)
    cv2.ellipse(hole.view(np.uint8), (64, 64), (52, 40), 0, 0, 360, 1, -1)
    own = np.zeros((128, 128), np.uint8)
    for radius in (24, 29):  # the lid and the crease 5 px above it
        cv2.ellipse(own, (64, 70), (radius + 8, radius), 0, 200, 340, 1, 1)
    drawn = cv2.dilate(own, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))) > 0
    still = register(own > 0, drawn, hole, None, 0.0)
    assert np.abs(still.field).max() < 1.0 and still.matched == 1.0
    monkeypatch.setattr(reshape, "drawn_width", lambda lines, centre=None: 1)
    assert np.abs(register(own > 0, drawn, hole, None, 0.0).field).max() > 2.0
