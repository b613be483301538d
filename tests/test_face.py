"""Face detection, alignment and part masks on photo-sized compositions of the astronaut.

skimage's `astronaut()` (public domain) is the only face: pasted rotated and scaled into
large synthetic canvases, so the expected landmark positions are known exactly.
"""
from functools import lru_cache

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from inpaint import Editor, GeneratorConfig, SketchPConvUNet
from inpaint.engines import PConvEngine
from inpaint.face import CANONICAL, PARTS, align_face, detect_faces, face_part_mask, grey_image, key_points, plan_aligned
from inpaint.face import detect as detect_module
from skimage.data import astronaut

SIZE = 256
HEAD = (slice(20, 300), slice(90, 370))  # the astronaut's head and some background


@pytest.fixture(scope="module")
def editor():
    torch.manual_seed(0)
    return Editor(PConvEngine(SketchPConvUNet(GeneratorConfig(width=0.125)), "tiny"))


@pytest.fixture(scope="module")
def source():
    """The astronaut and her 68 landmarks (found once: this also loads dlib for the module)."""
    image = astronaut()
    faces = detect_faces(grey_image(image))
    assert len(faces) == 1
    return image, faces[0].landmarks


@lru_cache(maxsize=4)
def _background(width: int, height: int) -> np.ndarray:
    """A gradient with blotchy noise (drawn at 1/4 size: a 12 MP canvas in ~0.1 s)."""
    rng = np.random.default_rng(width + height)
    w, h = width // 4 + 1, height // 4 + 1
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / w * 150 + 50, y / h * 120 + 60, 110 + 50 * np.sin(x / 70 + y / 100)], axis=2)
    small = np.clip(base + rng.normal(0, 10, (h, w, 1)), 0, 255).astype(np.uint8)
    return cv2.resize(small, (w * 4, h * 4), interpolation=cv2.INTER_NEAREST)[:height, :width]


def paste(canvas: np.ndarray, image: np.ndarray, scale: float, angle: float, center) -> np.ndarray:
    """Paste `image` (its centre at `center`) rotated by `angle`° and scaled; returns the 2×3
    map source → canvas."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += np.asarray(center, np.float64) - (w / 2, h / 2)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    cv2.warpAffine(image, matrix, canvas.shape[1::-1], dst=canvas, flags=flags, borderMode=cv2.BORDER_TRANSPARENT)
    return matrix


def moved(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def compose(source, width, height, placements):
    """A canvas with the astronaut's head at each (scale, angle, center): (canvas, maps of
    her landmarks into it)."""
    image, landmarks = source
    head = np.ascontiguousarray(image[HEAD])
    local = landmarks - (HEAD[1].start, HEAD[0].start)
    canvas = _background(width, height).copy()
    return canvas, [moved(local, paste(canvas, head, *p)) for p in placements]


def mouth_mask(shape, landmarks, grow=1.3, part=slice(48, 60)) -> np.ndarray:
    """The lips' outline (or another part's), enlarged: a typical edit."""
    outline = landmarks[part]
    center = outline.mean(0)
    mask = np.zeros(shape, np.uint8)
    poly = np.rint(center + grow * (outline - center)).astype(np.int32)
    cv2.fillPoly(mask, [poly], 255)
    return mask


def assert_canonical(frame, landmarks, tolerance=3.0):
    uv = moved(key_points(landmarks), frame.matrix)
    assert np.abs(uv - CANONICAL * frame.size).max() < tolerance, uv / frame.size


def assert_local_edit(result, image, mask, feather):
    out = np.asarray(result)
    assert out.shape == image.shape and result.mode == "RGB"
    band = cv2.dilate((mask > 127).astype(np.uint8), np.ones((2 * feather + 3, 2 * feather + 3), np.uint8)) > 0
    assert np.array_equal(out[~band], image[~band])
    assert (out[mask > 127] != image[mask > 127]).any()
    return out


# -- alignment --------------------------------------------------------------------------
@pytest.mark.parametrize("scale, angle", [(2.5, 0.0), (1.6, 30.0), (3.0, -30.0), (0.9, 12.0)])
def test_rotated_and_scaled_face_lands_on_the_canonical_points(source, scale, angle):
    canvas, (landmarks,) = compose(source, 3000, 2200, [(scale, angle, (1900, 800))])
    frame, note = plan_aligned(canvas, mouth_mask(canvas.shape[:2], landmarks) > 0, SIZE)
    assert frame is not None and frame.kind == "aligned", note
    assert_canonical(frame, landmarks)
    up = frame.matrix[:, :2] @ np.array([-np.sin(np.radians(angle)), -np.cos(np.radians(angle))])  # her up, pasted
    assert up[1] < 0 and abs(up[0]) < 0.1 * abs(up[1])  # the face's up is the frame's up


def test_align_face_for_training(source):
    canvas, (landmarks,) = compose(source, 1600, 1200, [(2.0, -20.0, (700, 500))])
    aligned, frame = align_face(Image.fromarray(canvas), 256)
    assert aligned.shape == (256, 256, 3) and aligned.dtype == np.uint8
    assert_canonical(frame, landmarks)
    again = detect_faces(grey_image(aligned))  # the aligned crop is an upright face
    assert len(again) == 1 and np.abs(key_points(again[0].landmarks) - CANONICAL * 256).max() < 4
    assert align_face(_background(400, 300)) is None


# -- the editor on photo-sized inputs -------------------------------------------------------
def test_edit_a_tilted_face_in_a_large_photo(editor, source):
    canvas, (landmarks,) = compose(source, 3000, 2200, [(2.2, 18.0, (1200, 1300))])
    mask = mouth_mask(canvas.shape[:2], landmarks)
    result = editor.edit(canvas, mask)
    info = editor.last_info
    assert info.path == "aligned" and "aligned to the face" in info.note
    assert {"detect", "frame", "engine", "paste"} <= set(info.ms)
    assert_local_edit(result, canvas, mask, info.feather)


def test_small_face_under_the_mask_in_a_4000px_photo(editor, source):
    canvas, (landmarks,) = compose(source, 4000, 3000, [(0.85, 8.0, (3100, 700))])
    face_width = np.ptp(landmarks[:17, 0])
    assert 70 < face_width < 95  # an ~80 px face in a 4000 px photo
    mask = mouth_mask(canvas.shape[:2], landmarks)
    result = editor.edit(canvas, mask)
    assert editor.last_info.path == "aligned", editor.last_info.note
    assert_local_edit(result, canvas, mask, editor.last_info.feather)


def test_one_eye_mask_on_a_larger_face(source):
    """Too small for the whole-image pass, too large for the window around a tiny mask:
    the second, wider hint window finds it."""
    canvas, (landmarks,) = compose(source, 4000, 3000, [(2.2, -12.0, (1300, 1800))])
    eye = mouth_mask(canvas.shape[:2], landmarks, 1.2, slice(36, 42)) > 0
    assert np.ptp(np.nonzero(eye)[1]) < np.ptp(landmarks[:17, 0]) / 4  # one eye of a 200 px face
    frame, note = plan_aligned(canvas, eye, SIZE)
    assert frame is not None, note
    assert_canonical(frame, landmarks)


def test_two_faces_the_masked_one_is_edited(source):
    canvas, faces = compose(source, 3000, 2000, [(2.6, 0.0, (1000, 900)), (2.4, -15.0, (1700, 1000))])
    assert len(detect_faces(grey_image(canvas))) == 2
    for landmarks in faces:
        frame, note = plan_aligned(canvas, mouth_mask(canvas.shape[:2], landmarks) > 0, SIZE)
        assert frame is not None, note
        assert_canonical(frame, landmarks)


def test_face_at_the_border(editor, source):
    canvas, (landmarks,) = compose(source, 1500, 1100, [(2.0, 5.0, (150, 600))])
    assert landmarks[:, 0].min() < 60  # the jaw nearly touches the left edge
    mask = mouth_mask(canvas.shape[:2], landmarks)
    y = int(landmarks[48, 1])
    mask[y - 8 : y + 8, : int(landmarks[48, 0])] = 255  # from the mouth to the photo's edge
    result = editor.edit(canvas, mask)
    assert editor.last_info.path == "aligned"  # the frame sticks out: reflection fills it
    assert editor.last_info.box[0] == 0
    assert_local_edit(result, canvas, mask, editor.last_info.feather)


def test_grey_photo(editor, source):
    canvas, (landmarks,) = compose(source, 2400, 1800, [(1.8, -10.0, (1000, 800))])
    grey = Image.fromarray(canvas).convert("L")
    mask = mouth_mask(canvas.shape[:2], landmarks)
    result = editor.edit(grey, mask)
    assert editor.last_info.path == "aligned"
    assert_local_edit(result, np.asarray(grey.convert("RGB")), mask, editor.last_info.feather)


# -- fallbacks ------------------------------------------------------------------------------
def test_no_face_crops_and_says_so(editor):
    image = _background(1200, 900).copy()
    mask = np.zeros((900, 1200), np.uint8)
    cv2.circle(mask, (600, 450), 60, 255, -1)
    result = editor.edit(image, mask)
    assert editor.last_info.path == "crop" and "no face found" in editor.last_info.note
    assert_local_edit(result, image, mask, editor.last_info.feather)


def test_mask_away_from_the_face_crops(editor, source):
    canvas, (landmarks,) = compose(source, 2000, 1500, [(1.5, 0.0, (500, 500))])
    mask = np.zeros(canvas.shape[:2], np.uint8)
    cv2.circle(mask, (1700, 1200), 80, 255, -1)
    editor.edit(canvas, mask)
    assert editor.last_info.path == "crop" and "not on a face" in editor.last_info.note


def test_mask_reaching_out_of_the_face_frame_crops(editor, source):
    canvas, (landmarks,) = compose(source, 2000, 1500, [(1.5, 0.0, (600, 600))])
    mask = mouth_mask(canvas.shape[:2], landmarks)
    mask[int(landmarks[57, 1]):, int(landmarks[48, 0]):int(landmarks[54, 0])] = 255  # down to the border
    result = editor.edit(canvas, mask)
    assert editor.last_info.path == "crop" and "outside the aligned frame" in editor.last_info.note
    assert_local_edit(result, canvas, mask, editor.last_info.feather)


def test_tiny_image_skips_detection(editor):
    image = _background(60, 50).copy()
    mask = np.zeros((50, 60), np.uint8)
    mask[20:30, 20:40] = 255
    assert editor.edit(image, mask).size == (60, 50)
    assert editor.last_info.path == "crop" and "under 64 px" in editor.last_info.note


def test_without_dlib_the_editor_crops(editor, source, monkeypatch):
    def missing():
        raise detect_module.FaceDetectorUnavailable("dlib is not importable (test)")

    monkeypatch.setattr(detect_module, "load_models", missing)
    image, landmarks = source
    editor.edit(image, mouth_mask(image.shape[:2], landmarks))
    assert editor.last_info.path == "crop" and "dlib is not importable" in editor.last_info.note


# -- face-part masks ------------------------------------------------------------------------
def _covers(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    xy = np.rint(points).astype(int)
    return mask[xy[:, 1], xy[:, 0]]


@pytest.fixture(scope="module")
def part_masks(source):
    image = source[0]
    return {part: face_part_mask(image, [part], 0) for part in PARTS}


@pytest.mark.parametrize(
    "part, inside, outside",
    [
        ("mouth", range(48, 60), range(17, 48)),
        ("eyes", range(36, 48), list(range(17, 27)) + list(range(48, 68)) + [30, 33]),
        ("eyebrows", range(17, 27), list(range(36, 68))),
        ("nose", range(27, 36), list(range(36, 68))),
        ("jaw", range(0, 17), list(range(27, 68))),
        ("face", range(0, 68), []),
        ("hair", [], range(0, 68)),
    ],
)
def test_part_masks_cover_their_landmarks(source, part_masks, part, inside, outside):
    landmarks = source[1]
    mask = part_masks[part]
    assert mask.dtype == bool and mask.shape == source[0].shape[:2] and mask.any()
    assert _covers(mask, landmarks[list(inside)]).all()
    assert not _covers(mask, landmarks[list(outside)]).any()


def test_face_reaches_the_forehead_and_hair_sits_above_it(source, part_masks):
    landmarks = source[1]
    brow_top = landmarks[17:27, 1].min()
    eye_gap = np.linalg.norm(key_points(landmarks)[1] - key_points(landmarks)[0])
    face_rows = np.flatnonzero(part_masks["face"].any(1))
    assert face_rows[0] < brow_top - 0.4 * eye_gap  # the forehead is in
    hair_rows = np.flatnonzero(part_masks["hair"].any(1))
    assert hair_rows[0] < face_rows[0] and hair_rows.mean() < brow_top
    assert not (part_masks["hair"] & part_masks["face"]).any()


def test_part_masks_follow_a_rotated_face_and_grow(source):
    canvas, (landmarks,) = compose(source, 1600, 1200, [(2.0, 25.0, (800, 600))])
    mouth = face_part_mask(canvas, ["mouth"], 0)
    grown = face_part_mask(canvas, ["mouth"], 6)
    both = face_part_mask(canvas, ["mouth", "eyes"], 0)
    near = face_part_mask(canvas, ["mouth"], 2)  # refitted landmarks move by a pixel or so
    assert _covers(near, landmarks[48:60]).all() and not _covers(near, landmarks[36:48]).any()
    assert (grown >= mouth).all() and grown.sum() > mouth.sum() * 1.3
    assert np.array_equal(both, mouth | face_part_mask(canvas, ["eyes"], 0))


def test_part_mask_errors(source):
    with pytest.raises(ValueError, match="unknown face part.*'ears'.*eyes, eyebrows, nose, mouth, jaw, face, hair"):
        face_part_mask(source[0], ["mouth", "ears"], 0)
    with pytest.raises(ValueError, match="no face found"):
        face_part_mask(_background(300, 200), ["mouth"], 0)
    with pytest.raises(ValueError, match="grow"):
        face_part_mask(source[0], ["mouth"], -2)
