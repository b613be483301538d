"""The README's transfer grid: another face's part drawn into the astronaut, model by model.

    python examples/transfer_figure.py --weights A.safetensors [--weights B.safetensors …] [--out docs/transfer_grid.png]

The other face is the public-domain astronaut herself, mirrored, recoloured and with a
wider mouth and larger eyes (a smooth local warp, `other_face`), so no training or test
photo is used. Per part (mouth, eyes, nose), the row shows: the astronaut with the hole
and the other face's lines (the transfer test's case, `evaluation.transfer.transfer_case`),
each model's result through the editor (align, faithfulness 0), OpenCV Telea, and the other
face's real part pasted in: what the lines came from. The numbers under each panel are the
case's structure (local SSIM against the real part) and ink (grey levels by which the lines
are darker than in the real part).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "webapp" / "examples"
sys.path.insert(0, str(HERE.parent))

from inpaint import Editor  # noqa: E402
from inpaint.face import detect_faces, grey_image  # noqa: E402
from inpaint.landmarks import EYE_LEFT, EYE_RIGHT, MOUTH  # noqa: E402
from evaluation.transfer import PARTS, telea_fill, transfer_case, transfer_scores  # noqa: E402

ZOOM = 2.0
BULGES = ((MOUTH, (1.30, 1.25)), (EYE_LEFT, (1.2, 1.25)), (EYE_RIGHT, (1.2, 1.25)))


def bulge(image: np.ndarray, centre: np.ndarray, radius: float, scale: tuple[float, float]) -> np.ndarray:
    """A liquify-style local magnification around `centre` (x, y), fading out by `radius`."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - centre[0], ys - centre[1]
    fade = np.exp(-(dx**2 + dy**2) / (2 * radius**2))
    map_x = (xs - dx * (1 - 1 / scale[0]) * fade).astype(np.float32)
    map_y = (ys - dy * (1 - 1 / scale[1]) * fade).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)


def other_face(photo: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The astronaut mirrored, her hue turned and her mouth and eyes enlarged: another face."""
    out = photo.copy()
    for points, scale in BULGES:
        part = landmarks[points]
        radius = 0.9 * float(np.ptp(part[:, 0]))
        out = bulge(out, part.mean(0), radius, scale)
    hsv = cv2.cvtColor(out[:, ::-1], cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + 4) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * 0.85, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def panel(image: np.ndarray, box: tuple[slice, slice], title: str, scores: str = "") -> np.ndarray:
    out = cv2.resize(image[box], None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_NEAREST)
    out = np.vstack([np.full((22, out.shape[1], 3), 255, np.uint8), out, np.full((20, out.shape[1], 3), 255, np.uint8)])
    cv2.putText(out, title, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (20, 20, 20), 1, cv2.LINE_AA)
    cv2.putText(out, scores, (4, out.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (60, 60, 60), 1, cv2.LINE_AA)
    return np.pad(out, ((2, 2), (2, 2), (0, 0)), constant_values=255)


def save_figure(grid: np.ndarray, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(out, optimize=True)
    print(f"wrote {out} ({grid.shape[1]}×{grid.shape[0]})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", action="append", required=True, help="a model (repeat for several)")
    p.add_argument("--label", action="append", help="its column title (default: the file name)")
    p.add_argument("--edges", default="hed", choices=("hed", "gradient"))
    p.add_argument("--out", type=Path, default=HERE.parent / "docs" / "transfer_grid.png")
    args = p.parse_args(argv)
    from sketch import get_detector, soft_edges, thin_lines

    labels = args.label or [Path(w).stem for w in args.weights]
    editors = [Editor.load(w) for w in args.weights]
    photo = np.asarray(Image.open(EXAMPLES / "astronaut.png").convert("RGB"))
    [face] = detect_faces(grey_image(photo))[:1]
    other = other_face(photo, face.landmarks)
    [other_found] = detect_faces(grey_image(other))[:1]
    lines = thin_lines(soft_edges(other, get_detector(args.edges)))
    rows = []
    for part in PARTS:
        case = transfer_case(photo, face.landmarks, other, lines, other_found.landmarks, part)
        ys, xs = np.nonzero(case.hole)
        pad = 14
        box = (slice(max(ys.min() - pad, 0), ys.max() + pad), slice(max(xs.min() - pad, 0), xs.max() + pad))
        given = photo.copy()
        given[case.hole] = (0.55 * given[case.hole] + 0.45 * 255).astype(np.uint8)
        given[case.sketch] = (200, 30, 30)
        results = [np.asarray(e.edit(photo, case.hole, case.sketch, faithfulness=0.0, align=True, mode="redraw")) for e in editors]
        telea = telea_fill(photo, case.hole)
        cells = [panel(given, box, f"{part}: hole + lines")]
        for label, result in [*zip(labels, results), ("OpenCV Telea", telea), ("real part pasted", case.ceiling)]:
            s = transfer_scores(result, photo, case)
            cells.append(panel(result, box, label, f"structure {s['structure']:.2f}  ink {s['ink']:+.0f}"))
        height = max(c.shape[0] for c in cells)
        rows.append(np.hstack([np.pad(c, ((0, height - c.shape[0]), (0, 0), (0, 0)), constant_values=255) for c in cells]))
    width = max(r.shape[1] for r in rows)
    grid = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    save_figure(grid, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
