"""The model's square working frame inside a photo, and moving pixels in and out of it.

A `Frame` is a similarity transform (2×3 matrix, image x,y → frame u,v) plus the frame's
side in pixels. A crop around the mask (`crop_frame`), the whole image letterboxed
(`full_frame`), and a face aligned to the canonical CelebA-HQ/FFHQ frame (`face_frame`,
with `CANONICAL` the one definition of that frame, shared by the editor, the face-part
masks and the training data) are all frames; only the matrix differs, so the same three
functions serve every path:

* `to_frame` samples an image into the frame (area prefilter before a large reduction,
  so a 4000-px photo does not alias; reflection outside the photo, so the network sees
  plausible context instead of black bars);
* `mask_to_frame` does the same for binary maps with "any coverage" semantics, so a hole
  or a 1-px stroke never shrinks or vanishes (see sketch/strokes.py);
* `from_frame` samples the frame back onto a region of the photo.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import EYE_LEFT, EYE_RIGHT, MOUTH


@dataclass(frozen=True)
class Frame:
    matrix: np.ndarray  # 2×3 float64, image (x, y) → frame (u, v)
    size: int
    kind: str  # "crop", "full" or "aligned"
    landmarks: np.ndarray | None = None  # an aligned frame's face: 68×2, image pixels

    def offset(self, x0: int, y0: int) -> "Frame":
        """The same frame for the sub-image whose top-left corner is image pixel (x0, y0)."""
        matrix = self.matrix.copy()
        matrix[:, 2] += self.matrix[:, :2] @ np.array([x0, y0], dtype=np.float64)
        landmarks = None if self.landmarks is None else self.landmarks - (x0, y0)
        return Frame(matrix, self.size, self.kind, landmarks)

    def refined(self, factor: float) -> "Frame":
        """The same frame sampled `factor` times finer (its side rounded to whole pixels)."""
        size = round(self.size * factor)
        return Frame(self.matrix * (size / self.size), size, self.kind, self.landmarks)

    def frame_landmarks(self) -> np.ndarray | None:
        """The face's landmarks in frame pixels (None for a frame not fitted to a face)."""
        return None if self.landmarks is None else apply_affine(self.matrix, self.landmarks)

    @property
    def scale(self) -> float:
        """Frame pixels per image pixel."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def inverse(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.matrix)

    def image_corners(self) -> np.ndarray:
        """The frame's four corners in image coordinates, 4×2."""
        s = self.size
        corners = np.array([[0, 0, 1], [s, 0, 1], [s, s, 1], [0, s, 1]], dtype=np.float64)
        return corners @ self.inverse().T

    def contains(self, points_xy: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Which image points land inside the frame (with `margin` frame pixels to spare)."""
        uv = np.c_[points_xy, np.ones(len(points_xy))] @ self.matrix.T
        return np.all((uv >= margin) & (uv <= self.size - 1 - margin), axis=1)


def square_frame(x0: float, y0: float, side: float, size: int, kind: str) -> Frame:
    """The axis-aligned square [x0, x0+side) × [y0, y0+side) of the image, scaled to `size`."""
    s = size / side
    return Frame(np.array([[s, 0.0, -x0 * s], [0.0, s, -y0 * s]]), size, kind)


# Where the eye centres and the mouth centre sit in the canonical frame, as fractions of its
# side (image-left eye first). Measured, not assumed: `python -m inpaint.face.measure
# ../shared/faces/train 200` runs the detector and landmarks over the first 200 CelebA-HQ
# training images (a face was found in 196) and prints the per-coordinate median of the eye
# centres (mean of points 36–41 / 42–47) and the mouth centre (48–67); interquartile range
# ≈ 0.007 for the eyes, ≈ 0.02 for the mouth.
CANONICAL = np.array([[0.3757, 0.4816], [0.6223, 0.4816], [0.4978, 0.7475]])

CONTEXT = 0.5  # crop_frame's margin on each side of the mask's box, as a fraction of its longer side
MIN_MARGIN = 16


def key_points(landmarks: np.ndarray) -> np.ndarray:
    """3×2: the two eye centres (image-left first) and the mouth centre of 68 landmarks."""
    return np.stack([landmarks[EYE_LEFT].mean(0), landmarks[EYE_RIGHT].mean(0), landmarks[MOUTH].mean(0)])


def eye_distance(landmarks: np.ndarray) -> float:
    """The distance between the eye centres of 68 landmarks: the face's unit of length."""
    left, right = key_points(landmarks)[:2]
    return float(np.linalg.norm(right - left))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """N×2 points (x, y) moved by a 2×3 affine matrix."""
    return np.asarray(points) @ matrix[:, :2].T + matrix[:, 2]


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2×3 similarity (rotation, uniform scale, shift) that maps the points `src` onto
    `dst` with the least squared error, in closed form (with z = x + iy it is z ↦ a z + t)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    sc, dc = src.mean(0), dst.mean(0)
    p, q = src - sc, dst - dc
    norm = float((p**2).sum())
    if norm == 0:
        raise ValueError("the points to align coincide")
    a = float((p * q).sum()) / norm
    b = float((p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum()) / norm
    rot = np.array([[a, -b], [b, a]])
    return np.c_[rot, dc - rot @ sc]


def face_frame(landmarks: np.ndarray, size: int) -> Frame:
    """The face with these 68 landmarks aligned to the canonical frame at `size`×`size`."""
    landmarks = np.asarray(landmarks, np.float64)
    return Frame(fit_similarity(key_points(landmarks), CANONICAL * size), size, "aligned", landmarks)


def full_frame(width: int, height: int, size: int) -> Frame:
    """The whole image, letterboxed into a square (reflected context fills the bars)."""
    side = max(width, height)
    return square_frame((width - side) / 2.0, (height - side) / 2.0, side, size, "full")


def crop_frame(hole: np.ndarray, size: int) -> Frame:
    """A square around the mask with as much context again on each side (as IOPaint's crop
    strategy), kept inside the photo where it fits, never smaller than the model's
    resolution when the photo is that large, so small edits run at native resolution."""
    height, width = hole.shape
    bx0, by0, bx1, by1 = mask_box(hole)
    extent = max(bx1 - bx0, by1 - by0)
    side = extent + 2 * max(MIN_MARGIN, CONTEXT * extent)
    side = max(side, min(size, max(width, height)))
    cx, cy = (bx0 + bx1) / 2.0, (by0 + by1) / 2.0

    def place(center: float, length: int) -> float:
        if side > length:  # the window spans the photo: centre it, reflection fills the rest
            return (length - side) / 2.0
        # slide the window inside the photo: real context beats reflected context
        return float(np.clip(center - side / 2.0, 0.0, length - side))

    return square_frame(place(cx, width), place(cy, height), side, size, "crop")


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), exclusive, of the marked pixels of a non-empty bool map. Row and
    column `any` is ~10× faster than `np.nonzero` on a 12-MP mask, and allocates nothing big."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _prefiltered(src: np.ndarray, frame: Frame, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """For a reduction, crop the frame's footprint and shrink it with INTER_AREA to the
    frame's scale, so the warp itself is a pure rotation. Returns (source, matrix), the
    source converted to `dtype` (after the crop: a 12-MP photo is never converted whole)."""
    scale = frame.scale
    if scale >= 0.75:
        return (src if dtype is None else src.astype(dtype)), frame.matrix
    h, w = src.shape[:2]
    corners = frame.image_corners()
    pad = 2.0 / scale
    x0 = int(np.clip(np.floor(corners[:, 0].min() - pad), 0, w - 1))
    y0 = int(np.clip(np.floor(corners[:, 1].min() - pad), 0, h - 1))
    x1 = int(np.clip(np.ceil(corners[:, 0].max() + pad), x0 + 1, w))
    y1 = int(np.clip(np.ceil(corners[:, 1].max() + pad), y0 + 1, h))
    crop = src[y0:y1, x0:x1] if dtype is None else src[y0:y1, x0:x1].astype(dtype)
    out_w = max(1, round((x1 - x0) * scale))
    out_h = max(1, round((y1 - y0) * scale))
    small = cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA)
    fx, fy = out_w / (x1 - x0), out_h / (y1 - y0)
    # image p = (p' / f) + c0  →  frame u = A p + t = (A / f) p' + (A c0 + t)
    a = frame.matrix[:, :2]
    matrix = np.c_[a / np.array([fx, fy]), a @ np.array([x0, y0]) + frame.matrix[:, 2]]
    return small, matrix


def to_frame(image: np.ndarray, frame: Frame) -> np.ndarray:
    """Sample an H×W×C image (uint8 or float32) into the frame: size×size×C."""
    src, matrix = _prefiltered(image, frame)
    return cv2.warpAffine(
        src, matrix, (frame.size, frame.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def mask_to_frame(mask: np.ndarray, frame: Frame, threshold: float = 1e-3) -> np.ndarray:
    """Sample a bool H×W map into the frame so that any covered frame pixel is marked."""
    src, matrix = _prefiltered(mask, frame, np.float32)
    if frame.scale < 0.75:  # area coverage > 0 after the prefilter: max-pool semantics
        src = (src > 1e-6).astype(np.float32)
    warped = cv2.warpAffine(
        src, matrix, (frame.size, frame.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return warped > threshold


def hints_to_frame(rgb: np.ndarray, hint: np.ndarray, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Colour hints into the frame: the hint mask with any-coverage, the colour as the
    mean over hinted pixels (so unhinted zeros never darken a hint)."""
    weight = hint.astype(np.float32)
    summed = to_frame(rgb.astype(np.float32) * weight[..., None], frame)
    count = to_frame(weight, frame)
    out_hint = mask_to_frame(hint, frame)
    mean = summed / np.maximum(count, 1e-6)[..., None]
    return np.where(out_hint[..., None], np.clip(mean, 0, 255), 0).astype(np.uint8), out_hint


def mask_from_frame(frame_mask: np.ndarray, frame: Frame, box: tuple[int, int, int, int]) -> np.ndarray:
    """A bool frame map sampled back onto the image region box, any coverage marking a pixel."""
    x0, y0, x1, y1 = box
    matrix = frame.offset(x0, y0).matrix
    warped = cv2.warpAffine(frame_mask.astype(np.float32), matrix, (x1 - x0, y1 - y0),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped > 1e-3


def from_frame(frame_image: np.ndarray, frame: Frame, box: tuple[int, int, int, int]) -> np.ndarray:
    """Sample a frame image back onto the image region box = (x0, y0, x1, y1): (y1-y0)×(x1-x0)×C float32."""
    x0, y0, x1, y1 = box
    matrix = frame.offset(x0, y0).matrix
    flags = (cv2.INTER_CUBIC if frame.scale < 1.0 else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(
        frame_image.astype(np.float32), matrix, (x1 - x0, y1 - y0), flags=flags, borderMode=cv2.BORDER_REPLICATE
    )
