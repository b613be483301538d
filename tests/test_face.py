"""Face detection, alignment and part masks on photo-sized compositions of the astronaut.

skimage's `astronaut()` (public domain) is the only face: pasted rotated and scaled into
large synthetic canvases, so the expected landmark positions are known exactly.
"""
import threading
from functools import lru_cache

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from inpaint import Editor, GeneratorConfig, SketchPConvUNet
from conftest import edit_info
from inpaint.face import CANONICAL, PARTS, detect_faces, face_part_mask, grey_image, key_points
from inpaint.framing import plan_aligned
from inpaint.face import detect as detect_module
from skimage.data import astronaut
from train.prepare import aligned_face

SIZE = 256
HEAD = (slice(20, 300), slice(90, 370))  # the astronaut's head and some background


@pytest.fixture(scope="module")
def editor():
    torch.manual_seed(0)
    return Editor.from_network(SketchPConvUNet(GeneratorConfig(width=0.125)), "tiny")


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


def test_training_faces_are_aligned_to_the_editors_frame_with_their_landmarks(source):
    canvas, (landmarks,) = compose(source, 1600, 1200, [(2.0, -20.0, (700, 500))])
    aligned, frame_landmarks = aligned_face(canvas, 256)
    assert aligned.shape == (256, 256, 3) and aligned.dtype == np.uint8
    assert np.abs(key_points(frame_landmarks) - CANONICAL * 256).max() < 3  # the editor's canonical frame
    again = detect_faces(grey_image(aligned))  # the aligned crop is an upright face, landmarks where stored
    assert len(again) == 1 and np.abs(again[0].landmarks - frame_landmarks).max() < 6
    assert aligned_face(_background(400, 300), 256) is None


def test_one_editor_from_four_threads_gives_the_sequential_results(editor, source):
    """dlib's detector is not reentrant: shared, it crashed the process or returned garbage.
    Reshape edits (a moved mouth's lines) and transplants (a mirrored copy's mouth) run beside
    redraws: the warp and transplant stages keep no state."""
    from evaluation.deform import deform
    from sketch import own_strokes

    editor = editor.with_options(edges="gradient")
    jobs = []
    for k, (width, scale, angle) in enumerate([(900, 1.0, 0.0), (1200, 1.6, 15.0), (1000, 1.3, -10.0), (800, 0.8, 5.0)]):
        canvas, (landmarks,) = compose(source, width, 700, [(scale, angle, (width // 2, 350))])
        jobs.append((canvas, mouth_mask(canvas.shape[:2], landmarks), {"align": k % 2 == 0}))
        if k < 2:
            moved = deform(canvas, landmarks, "mouth", values={"wide": 1.2, "high": 1.1, "corners": 0.04})
            lines = own_strokes(moved.truth, moved.mask, "gradient")
            jobs.append((canvas, moved.mask, {"sketch": lines, "mode": "reshape", "faithfulness": 0.0}))
    jobs.append((jobs[0][0], None, {"reference": np.ascontiguousarray(jobs[0][0][:, ::-1]), "parts": ["mouth"]}))
    jobs += [(canvas, mask, {**kw, "align": not kw.get("align", True)}) for canvas, mask, kw in jobs]
    expected = [editor.edit(canvas, mask, return_info=True, **kw) for canvas, mask, kw in jobs]
    assert {e.info.path for e in expected} == {"aligned", "full"}
    assert {e.info.mode for e in expected} == {"reshape", "redraw", "transplant"}
    results: dict[tuple[int, int], tuple] = {}

    def work(thread: int) -> None:
        for round_ in range(4):  # 4 threads × 4 rounds: every job, some twice at once
            k = (4 * thread + round_) % len(jobs)
            done = editor.edit(*jobs[k][:2], return_info=True, **jobs[k][2])
            results[thread, round_] = (k, np.asarray(done.image), done.info.path, done.info.box)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 16 and len({k for k, *_ in results.values()}) == len(jobs)
    for k, image, path, box in results.values():
        assert np.array_equal(image, np.asarray(expected[k].image))
        assert (path, box) == (expected[k].info.path, expected[k].info.box)  # the info is this edit's own


# -- the editor on photo-sized inputs -------------------------------------------------------
def test_edit_a_tilted_face_in_a_large_photo(editor, source):
    canvas, (landmarks,) = compose(source, 3000, 2200, [(2.2, 18.0, (1200, 1300))])
    mask = mouth_mask(canvas.shape[:2], landmarks)
    result, info = edit_info(editor, canvas, mask)
    assert info.path == "aligned" and "aligned to the face" in info.note
    assert {"detect", "frame", "engine", "paste"} <= set(info.ms)
    assert_local_edit(result, canvas, mask, info.feather)


def test_small_face_under_the_mask_in_a_4000px_photo(editor, source):
    canvas, (landmarks,) = compose(source, 4000, 3000, [(0.85, 8.0, (3100, 700))])
    face_width = np.ptp(landmarks[:17, 0])
    assert 70 < face_width < 95  # an ~80 px face in a 4000 px photo
    mask = mouth_mask(canvas.shape[:2], landmarks)
    result, info = edit_info(editor, canvas, mask)
    assert info.path == "aligned", info.note
    assert_local_edit(result, canvas, mask, info.feather)


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
    result, info = edit_info(editor, canvas, mask)
    assert info.path == "aligned"  # the frame sticks out: reflection fills it
    assert info.box[0] == 0
    assert_local_edit(result, canvas, mask, info.feather)


def test_grey_photo(editor, source):
    canvas, (landmarks,) = compose(source, 2400, 1800, [(1.8, -10.0, (1000, 800))])
    grey = Image.fromarray(canvas).convert("L")
    mask = mouth_mask(canvas.shape[:2], landmarks)
    result, info = edit_info(editor, grey, mask)
    assert info.path == "aligned"
    assert_local_edit(result, np.asarray(grey.convert("RGB")), mask, info.feather)


# -- fallbacks ------------------------------------------------------------------------------
def test_no_face_crops_and_says_so(editor):
    image = _background(1200, 900).copy()
    mask = np.zeros((900, 1200), np.uint8)
    cv2.circle(mask, (600, 450), 60, 255, -1)
    result, info = edit_info(editor, image, mask)
    assert info.path == "crop" and "no face found" in info.note
    assert_local_edit(result, image, mask, info.feather)


def test_mask_away_from_the_face_crops(editor, source):
    canvas, (landmarks,) = compose(source, 2000, 1500, [(1.5, 0.0, (500, 500))])
    mask = np.zeros(canvas.shape[:2], np.uint8)
    cv2.circle(mask, (1700, 1200), 80, 255, -1)
    _, info = edit_info(editor, canvas, mask)
    assert info.path == "crop" and "not on a face" in info.note


def test_mask_reaching_out_of_the_face_frame_crops(editor, source):
    canvas, (landmarks,) = compose(source, 2000, 1500, [(1.5, 0.0, (600, 600))])
    mask = mouth_mask(canvas.shape[:2], landmarks)
    mask[int(landmarks[57, 1]):, int(landmarks[48, 0]):int(landmarks[54, 0])] = 255  # down to the border
    result, info = edit_info(editor, canvas, mask)
    assert info.path == "crop" and "outside the aligned frame" in info.note
    assert_local_edit(result, canvas, mask, info.feather)


def test_tiny_image_skips_detection(editor):
    image = _background(60, 50).copy()
    mask = np.zeros((50, 60), np.uint8)
    mask[20:30, 20:40] = 255
    result, info = edit_info(editor, image, mask)
    assert result.size == (60, 50)
    assert info.path == "crop" and "under 64 px" in info.note


def test_without_dlib_the_editor_crops(editor, source, monkeypatch):
    def missing():
        raise detect_module.FaceDetectorUnavailable("dlib is not importable (test)")

    monkeypatch.setattr(detect_module, "load_models", missing)
    image, landmarks = source
    _, info = edit_info(editor, image, mouth_mask(image.shape[:2], landmarks))
    assert info.path == "crop" and "dlib is not importable" in info.note


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
