"""The canonical CelebA-HQ frame, and the similarity that puts a detected face into it.

`CANONICAL` holds where the eye centres and the mouth centre sit in the frame the model
is trained in, as fractions of the frame's side. They were measured, not assumed:
`python -m inpaint.face.measure /work/shared/faces/train 200` runs this package's
detector and 68-point landmarks over the first 200 (by name) of the 256×256 CelebA-HQ
training images `celebahq_*.jpg` (a face was found in 196) and prints the per-coordinate
median of: eye centre = mean of points 36–41 / 42–47, mouth centre = mean of 48–67.
The spread is small (interquartile range ≈ 0.007 for the eyes, ≈ 0.02 for the mouth),
as expected of an aligned data set.
"""
from __future__ import annotations

import numpy as np

from ..frame import Frame, to_frame
from ..imageio import ImageLike, to_rgb
from .detect import MIN_IMAGE_SIDE, Face, detect_faces, grey_image

# image-left eye (the subject's right), image-right eye, mouth; x, y in [0, 1]
CANONICAL = np.array([[0.3757, 0.4816], [0.6223, 0.4816], [0.4978, 0.7475]])


def key_points(landmarks: np.ndarray) -> np.ndarray:
    """3×2: the two eye centres (image-left first) and the mouth centre."""
    return np.stack([landmarks[36:42].mean(0), landmarks[42:48].mean(0), landmarks[48:68].mean(0)])


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


def face_frame(face: Face, size: int) -> Frame:
    """The face aligned to the canonical frame at `size`×`size`."""
    matrix = fit_similarity(key_points(face.landmarks), CANONICAL * size)
    return Frame(matrix, size, "aligned")


def align_face(image: ImageLike, size: int = 256) -> tuple[np.ndarray, Frame] | None:
    """The largest face of `image` aligned like CelebA-HQ: (size×size×3 uint8, its Frame),
    or None when no face is found (or the image is under 64 px). For training data prep;
    raises FaceDetectorUnavailable when dlib is missing."""
    rgb = to_rgb(image)
    if min(rgb.shape[:2]) < MIN_IMAGE_SIDE:
        return None
    faces = detect_faces(grey_image(rgb))
    if not faces:
        return None
    frame = face_frame(faces[0], size)
    return to_frame(rgb, frame), frame
