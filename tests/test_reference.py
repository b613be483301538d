"""A part from a reference photo: the layers it gives, the edit through it, and bad input.

On scikit-image's public-domain astronaut and a mirrored, recoloured, smaller copy of her."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.data import astronaut

from inpaint import Editor
from inpaint.face.parts import draw_parts, grow_mask, part_margin
from inpaint.reference import fit_part, largest_face, reference_layers

GRADIENT = "gradient"  # the fast edge detector: the geometry is what is tested here


@pytest.fixture(scope="module")
def pair():
    photo = astronaut()
    copy = np.ascontiguousarray(photo[:, ::-1])
    copy = cv2.resize(copy, (400, 400), interpolation=cv2.INTER_AREA)
    copy = np.clip(copy.astype(np.float32) * (1.0, 0.8, 0.9), 0, 255).astype(np.uint8)
    return photo, copy


@pytest.mark.parametrize("part", ["mouth", "eyes", "eyebrows", "nose"])
def test_the_reference_lines_land_inside_the_photos_part(pair, part):
    photo, reference = pair
    layers = reference_layers(photo, reference, [part], GRADIENT)
    own = draw_parts(largest_face(photo, "photo"), photo.shape[:2], [part])
    near = grow_mask(own, 3 * part_margin(own))
    assert layers.sketch.sum() > 10 and layers.color_mask.sum() > 10
    assert not (layers.sketch & ~layers.mask).any() and not (layers.color_mask & ~layers.mask).any()
    assert (own & ~layers.mask).sum() == 0  # the photo's own part is covered
    assert (layers.mask & ~near).sum() == 0  # and nothing far from it
    assert layers.residual < 2.0 and layers.warnings == ()  # the same face: the landmarks match


def test_the_dabs_take_the_reference_parts_colours(pair):
    photo, reference = pair
    layers = reference_layers(photo, reference, ["mouth"], GRADIENT)
    lips = draw_parts(largest_face(reference, "reference"), reference.shape[:2], ["mouth"])
    dabs = layers.color[layers.color_mask].astype(float).mean(0)
    assert np.abs(dabs - reference[lips].astype(float).mean(0)).max() < 40  # the recoloured copy's lips
    assert np.abs(dabs - reference[lips].mean(0)).sum() < np.abs(dabs - photo[draw_parts(
        largest_face(photo, "photo"), photo.shape[:2], ["mouth"])].mean(0)).sum()


def test_a_fit_per_eye_is_at_least_as_close_as_a_joint_fit(pair):
    photo, reference = pair
    photo_lm, ref_lm = largest_face(photo, "photo"), largest_face(reference, "reference")
    separate = fit_part(photo_lm, ref_lm, "eyes")
    joint = fit_part(photo_lm, ref_lm, "eyes", joint=True)
    assert len(separate) == 2 and len(joint) == 1
    assert max(f.residual for f in separate) <= joint[0].residual + 1e-9


def test_the_lines_path_changes_only_around_the_part_and_guides_by_lines_and_dabs(pair):
    photo, reference = pair
    editor = Editor.telea(256)  # the engine does not matter here; the layers and the paste-back do
    done = editor.edit(photo, reference=reference, parts=["mouth"], reference_mode="lines", return_info=True)
    out = np.asarray(done.image)
    layers = reference_layers(photo, reference, ["mouth"])
    far = ~grow_mask(layers.mask, 2 * done.info.feather + 2)
    assert np.array_equal(out[far], photo[far]) and (out != photo).any()
    assert done.info.reference.startswith("mouth from the reference (landmarks fit within")
    assert done.info.mode == "redraw" and done.info.sketch_pixels > 0 and done.info.hint_pixels > 0
    redrawn = editor.edit(photo, reference=reference, parts=["mouth"], mode="redraw")  # the same path
    assert np.array_equal(np.asarray(redrawn), out)


def test_given_layers_are_used_as_they_are_and_unchanged_dabs_are_no_hints(pair):
    """The app sends the reference's layers back as the user left them: a given mask and
    colour layer are used as given. Moving pixels in, the dabs the reference gave are not
    hints (its own colours come with its pixels); a colour the user painted stays one."""
    from inpaint.inputs import read_inputs

    photo, reference = pair
    layers = reference_layers(photo, reference, ["mouth"])
    color = np.dstack([layers.color, layers.color_mask.astype(np.uint8) * 255])
    color[10:14, 10:14] = (0, 200, 0, 255)  # a dab of the user's own
    mask = layers.mask.astype(np.uint8) * 255
    xs = np.nonzero(layers.mask.any(0))[0]
    mask[:, : (xs.min() + xs.max()) // 2] = 0  # the user erased the mask's left half
    pixels = read_inputs(photo, mask, None, color, reference=reference, parts=["mouth"])
    assert np.array_equal(pixels.hole, mask > 0)
    rgb, hint = pixels.hints
    assert hint.sum() == 16 and (rgb[10:14, 10:14] == (0, 200, 0)).all()
    lines = read_inputs(photo, mask, None, color, reference=reference, parts=["mouth"], reference_mode="lines")
    assert lines.hints[1].sum() == 16 + layers.color_mask.sum()
    alone = read_inputs(photo, None, None, None, reference=reference, parts=["mouth"])
    assert np.array_equal(alone.hole, layers.mask) and np.array_equal(alone.strokes, layers.sketch)
    assert alone.hints is None


@pytest.mark.parametrize("reference, parts, message", [
    ("blank", ["mouth"], "no face found in the reference"),
    ("tiny", ["mouth"], "the reference is 50×40; it must be at least 64 px"),
    ("copy", ["teeth"], "unknown part(s) 'teeth'; choose from mouth, nose, eyes, eyebrows"),
    ("copy", [], "a reference photo was given but no part to take from it"),
    (None, ["mouth"], "parts (mouth) were named but no reference photo was given"),
    ("text", ["mouth"], "the reference: "),
])
def test_bad_references_get_one_clear_message(pair, tmp_path, reference, parts, message):
    photo, copy = pair
    sources = {"blank": np.full((200, 200, 3), 128, np.uint8), "tiny": copy[:40, :50], "copy": copy, None: None}
    if reference == "text":
        (tmp_path / "notes.png").write_text("not an image")
        sources["text"] = str(tmp_path / "notes.png")
    with pytest.raises(ValueError) as error:
        Editor.telea(256).edit(photo, reference=sources[reference], parts=parts)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_faceless_photo_is_named_as_the_photo(pair):
    _, copy = pair
    with pytest.raises(ValueError, match="no face found in the photo"):
        Editor.telea(256).edit(np.full((300, 300, 3), 90, np.uint8), reference=copy, parts=["mouth"])


def test_the_readme_reference_figure_is_made_from_the_astronaut_alone(tmp_path):
    """examples/reference_figure.py, as the README's figure is made: two rows of six panels."""
    import runpy

    figure = runpy.run_path(str(Path(__file__).resolve().parent.parent / "examples" / "reference_figure.py"))
    assert figure["main"](["--out", str(tmp_path / "reference.png")]) == 0
    width, height = Image.open(tmp_path / "reference.png").size
    assert (width, height) == (6 * 260, 2 * 282)
