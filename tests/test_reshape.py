"""Reshape: the photo's own part moved onto the user's lines (inpaint/reshape.py, Editor.edit's
warp stage), on scikit-image's public-domain astronaut and moves drawn by evaluation.deform."""
import cv2
import numpy as np
import pytest
import torch

from inpaint import Editor, GeneratorConfig, SketchPConvUNet
from inpaint.face import detect_faces, face_part_mask, grey_image
from inpaint.face.parts import grow_mask, part_margin
from inpaint import part_maps, reshape
from inpaint.reshape import Reshape, at_frame, determinant, register
from evaluation import quality
from evaluation.deform import deform
from sketch import own_strokes
from skimage.data import astronaut

EDGES = "gradient"  # the own lines' detector where any will do (the gradient fallback is fast)


@pytest.fixture(scope="module")
def editor():
    torch.manual_seed(0)
    return Editor.from_network(SketchPConvUNet(GeneratorConfig(width=0.125)), "tiny").with_options(edges=EDGES)


@pytest.fixture(scope="module")
def hed():
    """HED, as the app runs it: where a part moves, its lines must be the real ones (the
    gradient fallback finds too few lines on a mouth to register)."""
    import sketch

    try:
        return sketch.get_detector("hed")
    except sketch.HedWeightsNotFoundError as error:
        pytest.skip(f"HED weights cannot be had here: {error}")


@pytest.fixture(scope="module")
def face():
    image = astronaut()
    return image, detect_faces(grey_image(image))[0].landmarks


def part_mask(image: np.ndarray, part: str) -> np.ndarray:
    region = face_part_mask(image, [part])
    return grow_mask(region, part_margin(region))


def layer(marks: np.ndarray) -> np.ndarray:
    return marks.astype(np.uint8) * 255


def hole_psnr(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    error = float(((result[hole].astype(np.float64) - truth[hole]) ** 2).mean())
    return float("inf") if error == 0 else 10 * np.log10(255.0**2 / error)


@pytest.mark.parametrize("part", ["mouth", "eyes", "nose"])
def test_the_photos_own_lines_unchanged_give_the_photo_back(editor, face, part):
    image, _ = face
    mask = part_mask(image, part)
    own = own_strokes(image, mask, EDGES)  # what "Start from the photo's edges" draws
    done = editor.edit(image, layer(mask), layer(own), faithfulness=0.0, return_info=True)
    assert done.info.mode == "reshape" and "100%" in done.info.mode_note
    assert hole_psnr(np.asarray(done.image), image, mask) >= 35.0


@pytest.fixture(scope="module")
def large_face():
    """The astronaut at 1024 px: her face 180 px wide, so an eye spans ~40 px (at 512 it is a
    strip of a few hundred pixels, too small to score)."""
    image = cv2.resize(astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    return image, detect_faces(grey_image(image))[0].landmarks


@pytest.mark.parametrize("part, values", [
    ("mouth", {"wide": 1.15, "high": 1.05, "corners": 0.03}),
    ("eyes", {"left": 1.2, "right": 1.2}),
    ("eyebrows", {"up": 0.10, "arch": 0.03}),
    ("eyebrows", {"up": -0.06, "arch": 0.0}),
])
def test_a_moved_part_comes_back_near_the_truth_from_its_lines(editor, hed, large_face, part, values):
    image, landmarks = large_face
    moved = deform(image, landmarks, part, values=values)
    lines = own_strokes(moved.truth, moved.mask, hed)
    done = editor.with_options(edges=hed).edit(image, layer(moved.mask), layer(lines), faithfulness=0.0,
                                               mode="reshape", return_info=True)
    result = np.asarray(done.image)
    assert done.info.mode == "reshape"
    structure = quality.structure(result, moved.truth, moved.mask)
    assert structure > quality.structure(image, moved.truth, moved.mask) + 0.1
    assert 0.85 <= quality.sharpness(result, moved.truth, moved.mask) <= 1.15  # the photo's own pixels, not a fill
    feather = done.info.feather
    band = cv2.dilate(moved.mask.astype(np.uint8), np.ones((2 * feather + 3, 2 * feather + 3), np.uint8)) > 0
    assert np.array_equal(result[~band], image[~band])


def test_the_field_has_no_folds_and_is_zero_beyond_the_hole():
    hole = np.zeros((128, 128), bool)
    cv2.ellipse(hole.view(np.uint8), (64, 64), (40, 30), 0, 0, 360, 1, -1)
    own = np.zeros_like(hole, np.uint8)
    cv2.ellipse(own, (64, 64), (18, 8), 0, 0, 360, 1, 1)
    cv2.line(own, (48, 64), (80, 64), 1, 1)
    wider = np.zeros_like(own)
    cv2.ellipse(wider, (64, 64), (26, 11), 0, 0, 360, 1, 1)  # the mouth wider and fuller
    cv2.line(wider, (40, 64), (88, 64), 1, 1)
    found = register(own > 0, wider > 0, hole, None, 0.0)
    assert (found.field[~hole] == 0).all()
    assert determinant(found.field).min() > 0
    moved_corner = 88 + found.field[64, 88, 0]  # the pixel at the new corner comes from the old one
    assert abs(moved_corner - 80) < 3 and found.matched > 0.8
    # faithfulness 1 keeps only the part's overall move: still no folds, still zero outside
    loose = register(own > 0, wider > 0, hole, None, 1.0)
    assert (loose.field[~hole] == 0).all() and determinant(loose.field).min() > 0


def test_a_field_found_in_a_finer_frame_comes_down_halved_zero_at_the_edge_and_unfolded():
    fine_hole = np.zeros((256, 256), bool)
    cv2.circle(fine_hole.view(np.uint8), (128, 128), 80, 1, -1)
    ramp = np.clip(cv2.distanceTransform(fine_hole.astype(np.uint8), cv2.DIST_L2, 5) / 30, 0, 1)
    field = (ramp[..., None] * np.array([4.0, -2.0])).astype(np.float32)  # a shift, fading out to the edge
    hole = cv2.resize(fine_hole.astype(np.uint8), (128, 128), interpolation=cv2.INTER_AREA) > 0
    found = at_frame(Reshape(field, np.zeros_like(fine_hole), 0.9, 40, 60), hole)
    assert found.field.shape == (128, 128, 2)
    assert np.allclose(found.field[64, 64], (2.0, -1.0))  # in the frame's pixels
    assert not found.field[~hole].any() and determinant(found.field).min() > 0
    assert (found.sketch_pixels, found.own_pixels, found.matched) == (20, 30, 0.9)


def test_eyes_grown_by_a_fifth_are_registered_at_the_photos_resolution(editor, hed, large_face, monkeypatch):
    """In the 256-px frame an eye's outline moves a pixel or two and its lines are a pixel
    thick; at the photo's resolution (twice the frame's here) the eye comes back closer
    (0.94 against 0.93 since the parts' maps hold the eyes' centres and turns)."""
    image, landmarks = large_face
    moved = deform(image, landmarks, "eyes", values={"left": 1.2, "right": 1.2})
    lines = layer(own_strokes(moved.truth, moved.mask, hed))
    structure = {}
    for finest in (1.0, 2.0):
        monkeypatch.setattr(reshape, "REGISTRATION_SCALE", finest)
        result = editor.with_options(edges=hed).edit(image, layer(moved.mask), lines, faithfulness=0.0, mode="reshape")
        structure[finest] = quality.structure(np.asarray(result), moved.truth, moved.mask)
    assert structure[2.0] >= 0.92 and structure[2.0] > structure[1.0] + 0.005, structure


def test_brows_raised_over_a_grazed_eye_leave_the_eye_to_the_move_not_the_network(face):
    """A brow's mask takes in the top of the eye: the eye is not reshaped as a whole, so its map
    is not pulled toward a similarity (which grew it and squeezed a blot under the iris)."""
    from inpaint.frame import mask_to_frame
    from inpaint.framing import plan_frame

    image, landmarks = face
    moved = deform(image, landmarks, "eyebrows", values={"up": 0.10, "arch": 0.04})
    frame, _ = plan_frame(image, moved.mask, 256, True)
    hole = mask_to_frame(moved.mask, frame)
    marks = frame.frame_landmarks()
    own = mask_to_frame(own_strokes(image, moved.mask), frame, threshold=0.2) & hole
    sketch = mask_to_frame(own_strokes(moved.truth, moved.mask), frame, threshold=0.2) & hole
    assert part_maps.whole_eyes(marks, hole) == set()
    assert part_maps.whole_eyes(marks, np.ones_like(hole)) == {1, 2}
    found = register(own, sketch, hole, marks, 0.0)
    eye = np.zeros(hole.shape, np.uint8)
    cv2.fillConvexPoly(eye, np.rint(marks[36:42]).astype(np.int32), 1)
    assert (found.hole & (eye > 0)).sum() < 0.1 * eye.sum()  # with the pull: 44 % of the eye


def test_a_big_photo_keeps_the_detail_of_its_reshaped_mouth(editor, hed, large_face):
    """The field is found in the 256-px frame but moves the full-resolution pixels."""
    image, landmarks = large_face
    scale = 4000 / 1024
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    big = np.clip(big.astype(np.int16) + rng.integers(-8, 9, big.shape), 0, 255).astype(np.uint8)  # fine detail
    moved = deform(big, landmarks * scale, "mouth", values={"wide": 1.15, "high": 1.05, "corners": 0.03})
    lines = own_strokes(moved.truth, moved.mask, hed)
    result = np.asarray(editor.with_options(edges=hed).edit(big, layer(moved.mask), layer(lines), faithfulness=0.0, mode="reshape"))
    assert quality.sharpness(result, moved.truth, moved.mask) >= 0.9


def test_the_mode_is_chosen_as_documented(editor, face):
    image, _ = face
    mask = part_mask(image, "mouth")
    own = layer(own_strokes(image, mask, EDGES))
    assert editor.edit(image, layer(mask), return_info=True).info.mode == "redraw"  # no sketch: as before
    assert editor.edit(image, layer(mask), own, return_info=True).info.mode == "reshape"
    forced = editor.edit(image, layer(mask), own, mode="redraw", return_info=True)
    assert forced.info.mode == "redraw" and forced.info.mode_note == ""
    plain = editor.edit(image, layer(mask), mode="reshape", return_info=True)
    assert plain.info.mode == "redraw" and "no sketch" in plain.info.mode_note
    dabs = np.zeros(mask.shape + (4,), np.uint8)
    dabs[mask] = (180, 60, 70, 255)  # lip colour dabbed over the mouth: a redraw takes it
    coloured = editor.edit(image, layer(mask), own, dabs, return_info=True)
    assert coloured.info.mode == "redraw" and "colour hints" in coloured.info.mode_note
    assert editor.edit(image, layer(mask), own, dabs, mode="reshape", return_info=True).info.mode == "reshape"
    with pytest.raises(ValueError, match="mode must be one of auto, reshape, redraw"):
        editor.edit(image, layer(mask), own, mode="warp")


def test_a_sketch_with_nothing_to_match_falls_back_to_redraw_with_a_note(editor, face):
    image, _ = face
    mask = part_mask(image, "mouth")
    ys, xs = np.nonzero(mask)
    stray = np.zeros(mask.shape, np.uint8)
    for k in range(6):  # zigzags across the mouth, nothing like its lines
        y = int(ys.min() + (k + 0.5) * (ys.max() - ys.min()) / 6)
        cv2.line(stray, (int(xs.min()), y), (int(xs.max()), y + (-1) ** k * 4), 1, 1)
    for mode in ("auto", "reshape"):
        done = editor.edit(image, layer(mask), layer(stray > 0), mode=mode, return_info=True)
        assert done.info.mode == "redraw" and "matched" in done.info.mode_note and "redrawn" in done.info.mode_note


def test_the_classical_fallback_reshapes_too(hed, large_face):
    image, landmarks = large_face
    telea = Editor.telea(256).with_options(edges=hed)
    moved = deform(image, landmarks, "mouth", values={"wide": 1.15, "high": 1.05, "corners": 0.03})
    lines = own_strokes(moved.truth, moved.mask, hed)
    done = telea.edit(image, layer(moved.mask), layer(lines), faithfulness=0.0, return_info=True)
    assert done.info.mode == "reshape"
    assert quality.structure(np.asarray(done.image), moved.truth, moved.mask) > \
        quality.structure(image, moved.truth, moved.mask)
