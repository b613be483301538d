"""The README's reference figure: parts of another face moved into the astronaut.

    python examples/reference_figure.py [--weights W.safetensors] [--out docs/reference.png]

The other face is the public-domain astronaut herself, mirrored, recoloured and warped to a
wider smile (her teeth show) and larger eyes (`transfer_figure.other_face`), so no training
or test photo is used. Top row: the photo, the reference, and the editor's result for each
choice of parts (`Editor.edit(photo, reference=…, parts=…)`, no mask, sketch or colour
given: the reference's own pixels moved in). Bottom row, under each result: the same with
`reference_mode="lines"` (the network draws the part from the reference's lines and colour
dabs), and under the photo what the app loads into its layers for the mouth (mask tinted,
the reference's lines in red, its colour dabs) and the reference's mouth.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from inpaint import Editor  # noqa: E402
from inpaint.face import detect_faces, grey_image  # noqa: E402
from inpaint.reference import reference_layers  # noqa: E402
from transfer_figure import EXAMPLES, other_face, save_figure  # noqa: E402

CHOICES = (("mouth",), ("eyes",), ("eyebrows",), ("mouth", "eyes", "eyebrows", "nose"))
SIDE = 256  # each panel, px
TITLE = 22


def titled(image: np.ndarray, title: str) -> np.ndarray:
    out = cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    out = np.vstack([np.full((TITLE, SIDE, 3), 255, np.uint8), out])
    cv2.putText(out, title, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    return np.pad(out, ((2, 2), (2, 2), (0, 0)), constant_values=255)


def face_box(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """A square around the landmarks with a quarter of their size to spare."""
    (x0, y0), (x1, y1) = landmarks.min(0), landmarks.max(0)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.625 * max(x1 - x0, y1 - y0)
    top, left = int(max(cy - half, 0)), int(max(cx - half, 0))
    return slice(top, min(int(cy + half), shape[0])), slice(left, min(int(cx + half), shape[1]))


def layers_view(photo: np.ndarray, layers) -> np.ndarray:
    """The photo with the layers drawn as the app shows them, cropped square around the mask."""
    view = photo.copy()
    view[layers.mask] = (0.55 * view[layers.mask] + 0.45 * 255).astype(np.uint8)
    dabs = cv2.dilate(layers.color_mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    view[dabs] = cv2.dilate(layers.color, np.ones((3, 3), np.uint8))[dabs]
    view[layers.sketch] = (220, 30, 30)
    ys, xs = np.nonzero(layers.mask)
    cy, cx = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2
    half = max(ys.max() - ys.min(), xs.max() - xs.min()) // 2 + 12
    y0, x0 = max(cy - half, 0), max(cx - half, 0)
    return view[y0:cy + half, x0:cx + half]


def part_zoom(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A square around `points` with as much to spare on each side as they span."""
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
    return image[int(max(cy - half, 0)):int(cy + half), int(max(cx - half, 0)):int(cx + half)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=None, help="generator .safetensors (default: the shipped weights)")
    p.add_argument("--out", type=Path, default=HERE.parent / "docs" / "reference.png")
    args = p.parse_args(argv)

    editor = Editor.load(args.weights)
    photo = np.asarray(Image.open(EXAMPLES / "astronaut.png").convert("RGB"))
    [face] = detect_faces(grey_image(photo))[:1]
    reference = other_face(photo, face.landmarks)
    [other] = detect_faces(grey_image(reference))[:1]
    box = face_box(face.landmarks, photo.shape)
    top = [titled(photo[box], "photo"), titled(reference[face_box(other.landmarks, photo.shape)], "reference (another face)")]
    bottom = [titled(layers_view(photo, reference_layers(photo, reference, ["mouth"])), "layers loaded (mouth)"),
              titled(part_zoom(reference, other.landmarks[48:68]), "its mouth (what Run moves in)")]
    for parts in CHOICES:
        name = f"its {parts[0]}" if len(parts) == 1 else "all four parts"
        result = np.asarray(editor.edit(photo, reference=reference, parts=list(parts)))
        top.append(titled(result[box], f"{name}: its pixels"))
        drawn = np.asarray(editor.edit(photo, reference=reference, parts=list(parts), reference_mode="lines"))
        bottom.append(titled(drawn[box], f"{name}: drawn from its lines"))
    grid = np.vstack([np.hstack(top), np.hstack(bottom)])
    save_figure(grid, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
