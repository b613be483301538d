"""A reference's own pixels moved in: teeth arrive, light matches, nothing beyond the mask moves.

The photo is scikit-image's public-domain astronaut with her mouth closed (the inside of her
lips painted lip-coloured); the reference is her mirrored, recoloured, smaller copy whose
mouth shows a bright band of teeth."""
import cv2
import numpy as np
import pytest
from skimage.data import astronaut

from evaluation.quality import detail, inner, mean_colour_difference
from evaluation.transfer import edge_skin
from inpaint import Editor
from inpaint.face.parts import draw_parts, grow_mask
from inpaint.frame import eye_distance
from inpaint.landmarks import INNER_LIPS
from inpaint.reference import largest_face, reference_layers, warp_reference
from inpaint.transplant import placed_parts

TEETH = (246, 244, 236)


def inner_mouth(landmarks: np.ndarray, shape) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.rint(landmarks[INNER_LIPS]).astype(np.int32)], 1)
    return out.astype(bool)


@pytest.fixture(scope="module")
def faces():
    photo = astronaut()
    landmarks = largest_face(photo, "photo")
    inside = cv2.dilate(inner_mouth(landmarks, photo.shape[:2]).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    closed = photo.copy()
    closed[inside] = (150, 80, 85)  # lips shut: no teeth in the photo
    copy = np.ascontiguousarray(photo[:, ::-1])
    copy = cv2.resize(copy, (400, 400), interpolation=cv2.INTER_AREA)
    teeth = inner_mouth(largest_face(copy, "reference"), copy.shape[:2])
    copy[teeth] = TEETH
    copy = np.clip(copy.astype(np.float32) * (1.0, 0.8, 0.9), 0, 255).astype(np.uint8)  # another light
    return closed, copy, landmarks


@pytest.fixture(scope="module")
def moved_in(faces):
    photo, reference, _ = faces
    done = Editor.telea(256).edit(photo, reference=reference, parts=["mouth"], return_info=True)
    return np.asarray(done.image), done.info, reference_layers(photo, reference, ["mouth"])


def test_the_references_teeth_arrive_where_its_mouth_is_placed(faces, moved_in):
    photo, _, landmarks = faces
    out, info, _ = moved_in
    mouth = inner_mouth(landmarks, photo.shape[:2])
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
    assert (grey[mouth] > 200).mean() > 0.6 and (cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)[mouth] > 200).mean() == 0
    assert info.mode == "transplant" and "its own pixels moved in" in info.reference


def test_the_skin_ring_takes_the_photos_light_and_the_teeth_keep_theirs(faces, moved_in):
    photo, reference, landmarks = faces
    out, _, layers = moved_in
    ring = edge_skin(layers.mask, landmarks, max(2, round(0.08 * eye_distance(landmarks))))
    assert ring.sum() > 200
    pasted = np.where(layers.mask[..., None], warp_reference(reference, layers), photo)
    assert mean_colour_difference(pasted, photo, ring) > 6  # the reference's own light is far off
    assert mean_colour_difference(out, photo, ring) <= 3
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    assert grey[inner_mouth(landmarks, photo.shape[:2])].mean() > grey[ring].mean() + 30


def test_pixels_beyond_the_mask_are_byte_identical(faces, moved_in):
    photo, _, _ = faces
    out, info, layers = moved_in
    assert np.array_equal(out[~layers.mask], photo[~layers.mask])
    assert (out[layers.mask] != photo[layers.mask]).any()
    assert info.mode_note == "the reference's lines as given: its part moved in unchanged"


def test_the_references_lines_unchanged_give_the_transplant_and_moved_lines_reshape_it(faces, moved_in):
    photo, reference, landmarks = faces
    out, _, layers = moved_in
    editor = Editor.telea(256)
    mask, lines = layers.mask.astype(np.uint8) * 255, layers.sketch.astype(np.uint8) * 255
    same = editor.edit(photo, mask, lines, reference=reference, parts=["mouth"], faithfulness=0.0)
    assert np.array_equal(np.asarray(same), out)
    cx, cy = landmarks[48:68].mean(0)
    wider = cv2.warpAffine(lines, np.array([[1.15, 0, -0.15 * cx], [0, 1, 0]]), lines.shape[::-1],
                           flags=cv2.INTER_NEAREST)
    done = editor.edit(photo, mask, wider, reference=reference, parts=["mouth"], faithfulness=0.0, return_info=True)
    reshaped = np.asarray(done.image)
    assert done.info.mode == "transplant" and "matched the reference's lines" in done.info.mode_note
    assert (reshaped != out).any(2).sum() > 200
    far = ~cv2.dilate(layers.mask.astype(np.uint8), np.ones((2 * done.info.feather + 3,) * 2, np.uint8)).astype(bool)
    assert np.array_equal(reshaped[far], photo[far])


def test_a_small_reference_gets_the_photos_fine_grain(faces):
    """Scaled up 1.8×, the reference's skin would be smoother than the photo's beside it."""
    photo, reference, landmarks = faces
    small = cv2.resize(reference, (280, 280), interpolation=cv2.INTER_AREA)
    out = np.asarray(Editor.telea(256).edit(photo, reference=small, parts=["mouth"]))
    layers = reference_layers(photo, small, ["mouth"])
    ring = edge_skin(layers.mask, landmarks, max(2, round(0.08 * eye_distance(landmarks)))) & inner(layers.mask, 2)
    scaled_up = np.where(layers.mask[..., None], warp_reference(small, layers), photo)
    assert detail(out, ring) > 1.5 * detail(scaled_up, ring)
    assert 0.6 * detail(photo, ring) < detail(out, ring) < 1.3 * detail(photo, ring)  # grain, not noise



def test_an_old_part_wider_than_the_new_one_goes():
    """The photo's smile is wider and thinner than the reference's: the fit matches the parts'
    size, so past the new mouth's corners the old lips give way to the reference's own skin."""
    clean = astronaut()
    mouth = largest_face(clean, "photo")[48:68]
    cx, cy = mouth.mean(0)
    ys, xs = np.mgrid[0:512, 0:512].astype(np.float32)
    near = np.exp(-((xs - cx) ** 2 / (2 * 45.0**2) + (ys - cy) ** 2 / (2 * 20.0**2))).astype(np.float32)
    wide = cv2.remap(clean, (xs - (xs - cx) * (1 - 1 / 1.6) * near).astype(np.float32),
                     (ys - (ys - cy) * (1 - 1 / 0.8) * near).astype(np.float32), cv2.INTER_CUBIC)
    reference = np.ascontiguousarray(clean[:, ::-1])
    layers = reference_layers(wide, reference, ["mouth"])
    old = draw_parts(layers.photo_landmarks, wide.shape[:2], ["mouth"])
    placed = grow_mask(placed_parts(layers, wide.shape[:2], (0, 0)), 1)
    beyond = old & ~placed & layers.mask
    assert beyond.sum() > 15  # the old corners, past the new mouth
    out = np.asarray(Editor.telea(256).edit(wide, reference=reference, parts=["mouth"]))
    theirs = warp_reference(reference, layers)[beyond].astype(float)
    assert np.abs(out[beyond] - theirs).mean() < 0.5 * np.abs(wide[beyond] - theirs).mean()  # theirs, not the old lips


def test_a_reference_cut_off_below_its_mouth_leaves_the_rest_to_the_network():
    """The reference photo ends just under its lower lip: the mask's pixels it cannot supply
    are filled by the engine from the transplant around them, never left black or smeared."""
    from inpaint.transplant import transplant

    photo = astronaut()
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    chin = int(largest_face(mirrored, "reference")[57, 1]) + 4  # just below the lower lip's middle
    reference = mirrored[:chin]
    layers = reference_layers(photo, reference, ["mouth"])
    moved = transplant(photo, layers, layers.mask)
    assert moved.network.any() and not (moved.network & ~layers.mask).any()
    done = Editor.telea(256).edit(photo, reference=reference, parts=["mouth"], return_info=True)
    out = np.asarray(done.image)
    far = ~grow_mask(layers.mask, done.info.feather + 1)  # the engine's fill is feathered, as every fill
    assert done.info.mode == "transplant" and np.array_equal(out[far], photo[far])
    filled = out[moved.network].astype(float)
    assert filled.min() > 30 and abs(filled.mean() - photo[moved.network].mean()) < 40
