"""The README's reshape figure, on the public-domain astronaut.

    python examples/reshape_figure.py [--weights PATH] [--out docs/reshape.png]

Three edits a retoucher makes (a wider smile, raised brows, bigger eyes), each given as the
lines of the astronaut moved that way (`evaluation.deform` with fixed values; the lines are
what "Start from the photo's edges" draws on the moved photo). Per row: the photo with the
mask and the lines, the network redrawing the mask from the lines (redraw), the photo's own
part moved onto the lines (reshape), and the moved photo the lines were taken from. The last
row parts the lips: the photo is the astronaut with her smile squeezed almost shut, the lines
are her own open smile's, so the teeth must come from a thin band (where the move stretches a
pixel over too many, the network draws).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from skimage.data import astronaut

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from before_after import panel  # noqa: E402
from evaluation.deform import Deformation, deform  # noqa: E402
from inpaint import Editor  # noqa: E402
from inpaint.face import detect_faces, grey_image  # noqa: E402
from sketch import own_strokes  # noqa: E402

EDITS = (("wider smile", "mouth", {"wide": 1.2, "high": 1.08, "corners": 0.04}),
         ("raised brows", "eyebrows", {"up": 0.10, "arch": 0.04}),
         ("bigger eyes", "eyes", {"left": 1.25, "right": 1.25}))
SHUT = {"wide": 1.0, "high": 0.55, "corners": 0.0}  # the smile squeezed almost shut
CROP = (slice(40, 200), slice(165, 315))  # rows, columns around the astronaut's face
SCALE = 1.6


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="default: the embedded model")
    p.add_argument("--out", type=Path, default=HERE.parent / "docs" / "reshape.png")
    args = p.parse_args(argv)
    editor = Editor.load(args.weights)
    photo = astronaut()
    landmarks = detect_faces(grey_image(photo))[0].landmarks
    rows = []
    shut = deform(photo, landmarks, "mouth", values=SHUT)
    cases = [(label, photo, deform(photo, landmarks, part, values=values)) for label, part, values in EDITS]
    cases.append(("parted lips", shut.truth, Deformation(shut.field, shut.mask, photo, "her own smile")))
    for label, photo, moved in cases:
        lines = own_strokes(moved.truth, moved.mask)
        given = dict(faithfulness=0.0, return_info=True)
        redraw = editor.edit(photo, moved.mask, lines, mode="redraw", **given)
        reshape = editor.edit(photo, moved.mask, lines, mode="reshape", **given)
        shown = photo.copy()
        shown[moved.mask] = (0.6 * shown[moved.mask] + 0.4 * 255).astype(np.uint8)
        shown[lines] = (20, 20, 20)
        shown_panels = ((shown, label), (np.asarray(redraw.image), "redraw"),
                        (np.asarray(reshape.image), reshape.info.mode), (moved.truth, "lines taken from"))
        rows.append(np.concatenate([panel(image, text, CROP, SCALE) for image, text in shown_panels], axis=1))
        print(f"{label}: {reshape.info.mode} ({reshape.info.mode_note})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
