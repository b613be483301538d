"""Build the app's example edits on scikit-image's astronaut (public domain, NASA).

    python examples/make_examples.py        # rewrites the PNGs in webapp/examples/

Each example is the photo plus three editor layers (RGBA, the photo's size, alpha > 127 =
stroke): a Mask over the part to redraw, a Sketch of what should be there, and Color hints.
The geometry comes from the face's 68 landmarks, so the edits sit on the face exactly:

* smile: the mouth redrawn 25 % wider with the corners raised (lip outline and the line
  between the lips), lip colour sampled from the photo's own lips;
* brows: both eyebrows redrawn higher and more arched.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "webapp" / "examples"  # the app ships them (package data)
sys.path.insert(0, str(HERE.parent))

from inpaint.face import detect_faces, face_part_mask, grey_image
from inpaint.face.parts import grow_mask
from inpaint.landmarks import BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, INNER_LIPS, MOUTH, MOUTH_CORNERS, OUTER_LIPS

MASK = (255, 255, 255, 178)  # the app's Mask brush
INK = (24, 24, 24, 255)  # the app's Sketch pen
PEN = 1  # px: the lips of this 512-px photo are ~5 px thick


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def polyline(layer: np.ndarray, points: np.ndarray, closed: bool = False) -> None:
    cv2.polylines(layer, [np.rint(points).astype(np.int32).reshape(-1, 1, 2)], closed, INK, PEN, cv2.LINE_8)


def fill(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [np.rint(points).astype(np.int32).reshape(-1, 1, 2)], 1)
    return canvas.astype(bool)


def layer_of(region: np.ndarray, rgba: tuple[int, int, int, int]) -> np.ndarray:
    layer = np.zeros(region.shape + (4,), np.uint8)
    layer[region] = rgba
    return layer


def smile(photo: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A wider smile: outer lips 48–59 and the inner line 60–67, 25 % wider, corners up."""
    shape = photo.shape[:2]
    outer, inner = landmarks[OUTER_LIPS].copy(), landmarks[INNER_LIPS].copy()
    centre = landmarks[MOUTH].mean(0)
    width = np.linalg.norm(np.subtract(*landmarks[list(MOUTH_CORNERS)]))

    def reshape(points: np.ndarray) -> np.ndarray:
        out = points.copy()
        out[:, 0] = centre[0] + 1.25 * (points[:, 0] - centre[0])
        reach = np.abs(points[:, 0] - centre[0]) / (width / 2)  # 0 at the middle, 1 at the corners
        out[:, 1] -= 0.12 * width * reach**2
        return out

    new_outer, new_inner = reshape(outer), reshape(inner)
    sketch = np.zeros(shape + (4,), np.uint8)
    polyline(sketch, new_outer, closed=True)
    polyline(sketch, new_inner, closed=True)

    lips_now = face_part_mask(photo, ["mouth"])
    region = grow_mask(lips_now | fill(shape, new_outer), max(3, round(0.12 * width)))
    mask = layer_of(region, MASK)

    lip = np.median(photo[lips_now], axis=0).astype(np.uint8)
    color = np.zeros(shape + (4,), np.uint8)
    lower_mid = (new_outer[9] + new_inner[6]) / 2  # between the outer and inner lower lip
    upper_mid = (new_outer[3] + new_inner[2]) / 2
    for spot in (lower_mid, upper_mid):
        cv2.circle(color, tuple(int(v) for v in np.rint(spot)), 2, (*map(int, lip), 255), -1)
    return mask, sketch, color


def brows(photo: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both eyebrows (17–21, 22–26) lifted, more in the middle of each brow: arched."""
    shape = photo.shape[:2]
    eye_gap = np.linalg.norm(landmarks[EYE_LEFT].mean(0) - landmarks[EYE_RIGHT].mean(0))
    sketch = np.zeros(shape + (4,), np.uint8)
    for brow in (landmarks[BROW_LEFT], landmarks[BROW_RIGHT]):
        t = np.linspace(-1.0, 1.0, len(brow))
        lifted = brow.copy()
        lifted[:, 1] -= eye_gap * (0.06 + 0.08 * (1 - t**2))
        dense = np.stack([np.interp(np.linspace(0, len(brow) - 1, 24), np.arange(len(brow)), lifted[:, k])
                          for k in (0, 1)], axis=1)
        polyline(sketch, dense)
        polyline(sketch, dense + (0, 3))  # a brow is a band: its upper and lower edge
    region = grow_mask(face_part_mask(photo, ["eyebrows"]), max(2, round(0.04 * eye_gap)))
    region = grow_mask(region | (sketch[..., 3] > 0), 2)
    return layer_of(region, MASK), sketch, np.zeros(shape + (4,), np.uint8)


def main() -> None:
    photo = astronaut()
    landmarks = detect_faces(grey_image(photo))[0].landmarks
    Image.fromarray(photo).save(OUT / "astronaut.png", optimize=True)
    for name, build in (("smile", smile), ("brows", brows)):
        for layer, array in zip(("mask", "sketch", "color"), build(photo, landmarks)):
            path = OUT / f"astronaut_{name}_{layer}.png"
            Image.fromarray(array, "RGBA").save(path, optimize=True)
            print(f"{path.name}: {int((array[..., 3] > 127).sum())} px marked")


if __name__ == "__main__":
    main()
