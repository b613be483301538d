"""How `inpaint.frame.CANONICAL` was measured: `python -m inpaint.face.measure FOLDER [COUNT]`.

Runs the detector and landmarks over the first COUNT (by name) `celebahq_*.jpg` images of
FOLDER, which are already CelebA-HQ-aligned, and prints the median eye and mouth centres
as fractions of the image side, with their interquartile ranges. Reads only; copies nothing.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from ..frame import key_points
from .detect import detect_faces


def measure_canonical(paths: list[Path]) -> np.ndarray:
    """N×3×2 key points (fractions of the side) of the images where a face was found."""
    found = []
    for path in paths:
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        faces = [] if grey is None else detect_faces(grey)
        if faces:
            found.append(key_points(faces[0].landmarks) / grey.shape[1])
    if not found:
        raise ValueError("no faces found")
    return np.stack(found)


def main(argv: list[str]) -> None:
    folder, count = Path(argv[0]), int(argv[1]) if len(argv) > 1 else 200
    paths = sorted(folder.glob("celebahq_*.jpg"))[:count]
    points = measure_canonical(paths)
    q1, median, q3 = np.percentile(points, [25, 50, 75], axis=0)
    print(f"faces found in {len(points)} of {len(paths)} images")
    for name, m, iqr in zip(("left eye", "right eye", "mouth"), median, q3 - q1):
        print(f"{name:<10} x {m[0]:.4f}  y {m[1]:.4f}   IQR {iqr[0]:.4f} {iqr[1]:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
