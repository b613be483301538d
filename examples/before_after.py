"""The README's before/after figure, on the public-domain astronaut examples.

    python examples/before_after.py [--weights PATH] [--before OLD_PATH] [--out docs/before_after.png]

Per example: the photo with the mask, sketch and colour hints drawn on it, the model's
result (and an earlier model's, with --before), and OpenCV Telea's result on the same
mask, cropped around the face.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
EXAMPLE_DIR = HERE.parent / "webapp" / "examples"
sys.path.insert(0, str(HERE.parent))

from inpaint import Editor  # noqa: E402
from sketch.strokes import layer_to_binary  # noqa: E402

EXAMPLES = ("smile", "brows")
CROP = (slice(40, 300), slice(120, 340))  # rows, columns around the astronaut's face


def panel(image: np.ndarray, label: str, crop: tuple[slice, slice] = CROP, scale: float = 1.5) -> np.ndarray:
    """The crop of `image` around the face, scaled, with `label` written on it."""
    out = cv2.resize(image[crop], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    cv2.putText(out, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(out, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 20), 1, cv2.LINE_AA)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="default: the embedded model")
    p.add_argument("--before", help="an earlier model, shown beside the current one")
    p.add_argument("--out", type=Path, default=HERE.parent / "docs" / "before_after.png")
    p.add_argument("--label", help="the model's panel title (default: its name)")
    p.add_argument("--before-label", help="the earlier model's panel title")
    args = p.parse_args(argv)
    editors = [Editor.load(args.before)] if args.before else []
    editors.append(Editor.load(args.weights))
    photo = np.asarray(Image.open(EXAMPLE_DIR / "astronaut.png").convert("RGB"))
    rows = []
    for name in EXAMPLES:
        layers = {k: Image.open(EXAMPLE_DIR / f"astronaut_{name}_{k}.png") for k in ("mask", "sketch", "color")}
        labels = ([args.before_label or "before: " + editors[0].model_name] if args.before else [])
        labels.append(args.label or editors[-1].model_name)
        results = [np.asarray(e.edit(photo, layers["mask"], layers["sketch"], layers["color"], faithfulness=0.0, mode="redraw"))
                   for e in editors]
        hole = layer_to_binary(layers["mask"])
        strokes = layer_to_binary(layers["sketch"])
        colour = np.asarray(layers["color"].convert("RGBA"))
        dabs = colour[..., 3] > 127
        shown = photo.copy()
        shown[hole] = (0.5 * shown[hole] + 0.5 * 255).astype(np.uint8)
        shown[strokes] = 20
        shown[dabs] = colour[dabs][:, :3]
        classical = cv2.inpaint(photo, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
        rows.append(np.hstack([panel(shown, "mask + sketch + colour")] + [panel(r, t) for r, t in zip(results, labels)]
                              + [panel(classical, "OpenCV Telea")]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(args.out, optimize=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
