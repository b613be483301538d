"""A PNG contact sheet of the sketch tools on scikit-image's astronaut (public domain).

    python -m sketch.sheet --out outputs/sketch_sheet.png [--size 384] [--seed 0]

Panels: the image with a face hole, soft edges (HED or the fallback, named), thinned lines,
the photo's edges inside the hole, synthetic sketches at l = 0, 0.5, 1, and colour hints;
the last four are drawn over the masked image as the network would see them.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from .edges import get_detector, soft_edges
from .lines import thin_lines
from .photo import photo_edges
from .synthesis import synthesize_color_hints, synthesize_sketch

HOLE_FILL = 235  # light grey where the image is unknown


def face_hole(size: int) -> np.ndarray:
    """An elliptic hole over the astronaut's face (coordinates of the 512-px original, scaled)."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    s = size / 512.0
    cv2.ellipse(canvas, (round(232 * s), round(140 * s)), (round(72 * s), round(92 * s)), 0, 0, 360, 1, -1)
    return canvas > 0


def masked(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[hole] = HOLE_FILL
    return out


def with_strokes(base: np.ndarray, strokes: np.ndarray, color=(0, 0, 0)) -> np.ndarray:
    out = base.copy()
    out[strokes] = color
    return out


def labelled(panel: np.ndarray, text: str) -> np.ndarray:
    """The panel (grey or RGB) under a white title bar."""
    if panel.ndim == 2:
        panel = np.repeat(panel[..., None], 3, axis=2)
    bar = np.full((26, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(bar, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, panel])


def build_sheet(size: int = 384, seed: int = 0) -> np.ndarray:
    """The sheet as an RGB uint8 array (2 rows of 4 panels)."""
    image = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    hole = face_hole(size)
    detector = get_detector()
    soft = soft_edges(image, detector)
    lines = thin_lines(soft)
    rng = np.random.default_rng(seed)
    base = masked(image, hole)
    outline = image.copy()
    contours, _ = cv2.findContours(hole.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(outline, contours, -1, (255, 0, 0), 2)
    name = f"{detector.name} (FALLBACK)" if detector.is_fallback else detector.name
    hints, hint_mask = synthesize_color_hints(image, hole, rng)
    panels = [
        labelled(outline, "image + face hole"),
        labelled((soft * 255).astype(np.uint8), f"soft edges: {name}"),
        labelled(np.where(lines, 0, 255).astype(np.uint8), "thinned lines"),
        labelled(with_strokes(base, photo_edges(image, hole, detector)), "photo_edges in hole"),
    ]
    for level in (0.0, 0.5, 1.0):
        sketch = synthesize_sketch(lines, hole, level, rng)
        panels.append(labelled(with_strokes(base, sketch), f"synth sketch l={level:g}"))
    hinted = base.copy()
    hinted[hint_mask] = hints[hint_mask]
    panels.append(labelled(hinted, "colour hints"))
    return np.vstack([np.hstack(panels[:4]), np.hstack(panels[4:])])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sketch.sheet", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/sketch_sheet.png"))
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sheet = build_sheet(args.size, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} ({sheet.shape[1]}×{sheet.shape[0]})")


if __name__ == "__main__":
    main()
