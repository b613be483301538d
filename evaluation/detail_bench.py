"""Measure the full-resolution paste-back: detail inside a mouth mask, and the seam.

    python -m evaluation.detail_bench --data ../shared/faces/test [--limit 12] [--weights W]

For each face (and the public-domain astronaut), the mouth is masked (landmark part,
grown by a quarter of the eye distance) and edited with `align=True`, with the detail step on
and off, without and with a sketch (the photo's own thin lines in the hole). Each photo is
also scaled up 2× (bicubic), so the frame samples it at half the scale again, and down 2×
(area), so the frame holds it near its own scale. Per frame-scale bin it prints:

* sharpness: mean |Laplacian| of the result inside the hole shrunk by 4 px over the photo's;
* seam: mean gradient magnitude on the mask's border in the result over the photo's there
  (1 = the border is as invisible as any line of the photo; a seam is > 1);
* changed: pixels changed farther than the feather band from the mask (must be 0).
"""
from __future__ import annotations

import argparse
from collections import defaultdict

import cv2
import numpy as np

from inpaint.landmarks import EYE_LEFT, EYE_RIGHT

SHRINK = 4


def seam_ratio(result: np.ndarray, photo: np.ndarray, hole: np.ndarray) -> float:
    from .quality import grey

    border = hole & ~cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)

    def gradient(image):
        g = grey(image)
        return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))[border].mean()

    return float(gradient(result) / max(gradient(photo), 1e-6))


def mouth_hole(rgb: np.ndarray) -> np.ndarray | None:
    from inpaint.face import detect_faces, grey_image
    from inpaint.face.parts import draw_parts, grow_mask

    faces = detect_faces(grey_image(rgb))
    if not faces:
        return None
    lm = faces[0].landmarks
    grow = max(2, round(0.25 * np.linalg.norm(lm[EYE_LEFT].mean(0) - lm[EYE_RIGHT].mean(0))))
    return grow_mask(draw_parts(lm, rgb.shape[:2], ["mouth"]), grow)


def measure(editor, rgb: np.ndarray, hole: np.ndarray, sketch: np.ndarray | None) -> dict:
    from .quality import sharpness

    result = editor.edit(rgb, hole.astype(np.uint8) * 255, sketch=sketch, faithfulness=0.0, align=True, mode="redraw",
                         return_info=True)
    out, info = np.asarray(result.image), result.info
    band = cv2.dilate(hole.astype(np.uint8), np.ones((2 * info.feather + 3,) * 2, np.uint8)).astype(bool)
    return {"scale": info.frame_scale, "sharpness": sharpness(out, rgb, hole, SHRINK),
            "seam": seam_ratio(out, rgb, hole), "changed": int((out != rgb).any(2)[~band].sum())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.detail_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder of face photos")
    p.add_argument("--limit", type=int, default=12)
    p.add_argument("--weights", default=None)
    args = p.parse_args(argv)

    from skimage.data import astronaut

    from inpaint import Editor
    from inpaint.imageio import to_rgb
    from sketch import get_detector, soft_edges, thin_lines

    from inpaint.imageio import list_images

    loaded = Editor.load(args.weights)
    editors = {detail: loaded.with_options(detail=detail) for detail in (False, True)}
    detector = get_detector("gradient")
    photos = [astronaut()] + [to_rgb(path) for path in list_images(args.data)[: args.limit]]
    rows: dict[tuple, list[dict]] = defaultdict(list)
    for rgb in photos:
        for factor in (0.5, 1, 2):
            interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
            image = rgb if factor == 1 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=interpolation)
            hole = mouth_hole(image)
            if hole is None:
                continue
            lines = thin_lines(soft_edges(image, detector)) & hole
            for guided in (False, True):
                for detail in (False, True):
                    row = measure(editors[detail], image, hole, lines.astype(np.uint8) * 255 if guided else None)
                    bin_ = "≥ 0.75" if row["scale"] >= 0.75 else "0.35–0.75" if row["scale"] >= 0.35 else "< 0.35"
                    rows[(bin_, guided, detail)].append(row)
    print(f"{loaded.model_name}, {len(photos)} photos (astronaut + {len(photos) - 1}), mouth masks, align=True")
    print(f"{'frame scale':<12}{'sketch':>7}{'detail':>7}{'n':>4}{'sharpness':>11}{'seam':>7}{'changed px':>11}")
    for key in sorted(rows):
        r = rows[key]
        print(f"{key[0]:<12}{'yes' if key[1] else 'no':>7}{'on' if key[2] else 'off':>7}{len(r):>4}"
              f"{np.nanmean([x['sharpness'] for x in r]):>11.2f}{np.mean([x['seam'] for x in r]):>7.2f}"
              f"{sum(x['changed'] for x in r):>11d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
