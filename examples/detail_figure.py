"""The README's full-resolution figure: a mouth edit with and without the paste-back's detail step.

    python examples/detail_figure.py [--weights PATH] [--scale 3] [--out docs/detail.png]

The public-domain astronaut is scaled up `--scale` times (bicubic), as a large portrait,
so the 256-px frame samples her face at about 1/scale and the fill is scaled up on its way
back. The "smile" example's mask and sketch are scaled with it; the same edit is run with
the detail step off and on (`Editor.with_options(detail=...)`), unguided and sketched, and a crop
around the mouth is shown at full resolution (pixels 1:1, nothing resampled).
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
from sketch.strokes import layer_to_binary  # noqa: E402


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    for colour, width in (((255, 255, 255), 3), ((20, 20, 20), 1)):
        cv2.putText(out, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.65, colour, width, cv2.LINE_AA)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="default: the embedded model")
    p.add_argument("--scale", type=int, default=3)
    p.add_argument("--out", type=Path, default=HERE.parent / "docs" / "detail.png")
    args = p.parse_args(argv)

    loaded = Editor.load(args.weights)
    editors = {on: loaded.with_options(detail=on) for on in (False, True)}
    photo = np.asarray(Image.open(EXAMPLES / "astronaut.png").convert("RGB"))
    big = cv2.resize(photo, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_CUBIC)
    size = big.shape[1::-1]
    mask = cv2.resize(layer_to_binary(Image.open(EXAMPLES / "astronaut_smile_mask.png")).astype(np.uint8) * 255, size,
                      interpolation=cv2.INTER_NEAREST)
    sketch = cv2.resize(layer_to_binary(Image.open(EXAMPLES / "astronaut_smile_sketch.png")).astype(np.uint8) * 255, size,
                        interpolation=cv2.INTER_NEAREST)
    sketch = cv2.dilate(sketch, np.ones((args.scale, args.scale), np.uint8))  # the pen's width at this scale

    ys, xs = np.nonzero(mask)
    cy, cx, half = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2, int(0.75 * max(np.ptp(ys), np.ptp(xs)))
    crop = (slice(max(cy - half, 0), cy + half), slice(max(cx - half, 0), cx + half))

    rows = []
    for name, layer in (("no sketch", None), ("sketch", sketch)):
        panels = [label(big[crop], "photo" if layer is None else "photo + sketch")]
        if layer is not None:
            panels[0][layer[crop] > 127] = (30, 30, 30)
        for on in (False, True):
            done = editors[on].edit(big, mask, sketch=layer, faithfulness=0.0, mode="redraw", return_info=True)
            scale = done.info.frame_scale
            panels.append(label(np.asarray(done.image)[crop], f"{name}, detail {'on' if on else 'off'}"))
        rows.append(np.hstack(panels))
    figure = np.vstack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(figure).save(args.out, optimize=True)
    print(f"wrote {args.out} ({figure.shape[1]}×{figure.shape[0]}), {loaded.model_name}, frame scale {scale:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
