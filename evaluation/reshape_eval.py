"""The reshape test: a face part moved by a known smooth field, edited back from its lines.

    python -m evaluation.reshape_eval --data ../shared/faces/test --weights W --out DIR [--faces 24]

Protocol 1. For each of the first `--faces` test photos (512 px) in which a face is found,
and each part (mouth, eyes, eyebrows, nose), one move is drawn (`evaluation.deform`: ranges
there; seeded by the face's index and the part). The truth is the moved photo. The editor
gets the original photo, the mask over the part before and after, and the truth's lines
at faithfulness 0 with `align=True`, in two forms:

* `hed`: the truth's own lines as "Start from the photo's edges" draws them (`sketch.own_strokes`);
* `pen`: the same lines as the app's pen draws them (`sketch.pen_sketch`: simplified, broken,
  1–3 px at 256 wide), with no hand wobble: a wobble moves the lines off the truth, and a
  reshape at faithfulness 0 follows the lines, so it would measure the hand, not the editor.

Rows: `reshape` (the engine's registration, `inpaint.reshape`), `flow` (Farneback flow
between the line maps, `evaluation.flow_registration`), `learned` (the flow network,
`inpaint.flownet`, from inpaint/checkpoints/flow.safetensors), `redraw` (the network redraws the
mask), `telea`, `unedited` (the photo as it was) and `true_field` (the true field sampled
into the frame and applied as a reshape is: the ceiling of a frame-scale field).
Measures (`evaluation.quality`): structure (local SSIM against the truth), hole PSNR,
sharpness against the truth, ink (the result's line contrast on the given lines beyond the
truth's), seam, ms per edit. Beside them: the no-op (the photo's own lines over its own
mouth, eyes and nose, mode auto: PSNR and structure against the photo), and the cost of a
reshape against a redraw of the same inputs at 256 px, measured in one run.
Writes DIR/reshape.json and DIR/reshape.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from . import quality
from .deform import PARTS, Deformation, deform
from .evaluate import psnr
from .transfer import telea_fill

PROTOCOL = 1
LINE_TYPES = ("hed", "pen")
EDITED = ("reshape", "flow", "learned", "redraw")
ROWS = (*EDITED, "telea", "unedited", "true_field")
MEASURES = ("structure", "hole_psnr", "sharpness", "ink", "seam", "ms")
NO_OP_PARTS = ("mouth", "eyes", "nose")


def hole_psnr(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    """PSNR over the hole's pixels (capped as the bucket evaluation caps it)."""
    return psnr(truth[hole], result[hole])


def scores(result: np.ndarray, truth: np.ndarray, hole: np.ndarray, lines: np.ndarray) -> dict[str, float]:
    ink = quality.line_contrast(result, lines, hole) - quality.line_contrast(truth, lines, hole)
    return {"structure": quality.structure(result, truth, hole), "hole_psnr": hole_psnr(result, truth, hole),
            "sharpness": quality.sharpness(result, truth, hole), "ink": ink, "seam": quality.seam(result, truth, hole)}


def line_forms(moved: Deformation, rng: np.random.Generator) -> dict[str, np.ndarray]:
    from sketch import own_strokes, photo_edges
    from sketch.pen import PenParams, pen_sketch

    hed = own_strokes(moved.truth, moved.mask)
    pen = pen_sketch(photo_edges(moved.truth, moved.mask), moved.mask, rng, PenParams(warp=(0.0, 0.0)))
    return {"hed": hed, "pen": pen}


def true_field_result(editor, photo: np.ndarray, moved: Deformation) -> np.ndarray:
    """The true field sampled into the editor's frame and applied as a reshape applies its own."""
    from inpaint.frame import apply_affine
    from inpaint.framing import plan_frame
    from inpaint.reshape import warp_photo

    frame, _ = plan_frame(photo, moved.mask, editor.resolution, True)
    side = frame.size
    us, vs = np.meshgrid(np.arange(side, dtype=np.float64), np.arange(side, dtype=np.float64))
    at = apply_affine(frame.inverse(), np.c_[us.ravel(), vs.ravel()]).astype(np.float32)
    image_field = cv2.remap(moved.field, at[:, 0].reshape(side, side), at[:, 1].reshape(side, side), cv2.INTER_LINEAR)
    frame_field = (image_field.reshape(-1, 2) @ frame.matrix[:, :2].T).reshape(side, side, 2).astype(np.float32)
    h, w = photo.shape[:2]
    return warp_photo(photo, frame_field, frame, (0, 0, w, h), moved.mask)


def edit(editor, photo: np.ndarray, mask: np.ndarray, lines: np.ndarray, mode: str) -> tuple[np.ndarray, float, str]:
    clock = time.perf_counter()
    done = editor.edit(photo, mask.astype(np.uint8) * 255, sketch=lines.astype(np.uint8) * 255, faithfulness=0.0,
                       align=True, mode=mode, return_info=True)
    return np.asarray(done.image), 1000 * (time.perf_counter() - clock), done.info.mode


def run(editor, faces: list[tuple[np.ndarray, np.ndarray]], progress=None) -> dict:
    from inpaint.face.parts import draw_parts, grow_mask, part_margin
    from sketch import own_strokes

    from inpaint.registrations import load_registration

    from .flow_registration import flow_register

    learned, _ = load_registration("learned")
    editors = {"reshape": (editor, "reshape"), "flow": (editor.with_options(registration=flow_register), "reshape"),
               "learned": (editor.with_options(registration=learned), "reshape"), "redraw": (editor, "redraw")}
    rows = {f"{part}/{kind}/{row}": {m: [] for m in MEASURES} for part in PARTS for kind in LINE_TYPES for row in ROWS}
    modes = {f"{part}/{kind}": [] for part in PARTS for kind in LINE_TYPES}
    no_op = {part: {"hole_psnr": [], "structure": [], "reshaped": []} for part in NO_OP_PARTS}
    for index, (photo, landmarks) in enumerate(faces):
        for k, part in enumerate(PARTS):
            rng = np.random.default_rng(1000 * index + k)
            moved = deform(photo, landmarks, part, rng)
            for kind, lines in line_forms(moved, rng).items():
                results = {"telea": (telea_fill(photo, moved.mask), 0.0), "unedited": (photo, 0.0),
                           "true_field": (true_field_result(editor, photo, moved), 0.0)}
                results = {r: v for r, v in results.items() if r in ROWS}
                for row, (runner, mode) in editors.items():
                    if row not in ROWS:
                        continue
                    image, ms, ran = edit(runner, photo, moved.mask, lines, mode)
                    results[row] = (image, ms)
                    if row == "reshape":
                        modes[f"{part}/{kind}"].append(ran)
                for row, (image, ms) in results.items():
                    cell = rows[f"{part}/{kind}/{row}"]
                    for name, value in {**scores(image, moved.truth, moved.mask, lines), "ms": ms}.items():
                        cell[name].append(value)
        for part in NO_OP_PARTS:
            region = draw_parts(landmarks, photo.shape[:2], [part])
            mask = grow_mask(region, part_margin(region))
            own = own_strokes(photo, mask)
            image, _, ran = edit(editor, photo, mask, own, "auto")
            no_op[part]["hole_psnr"].append(hole_psnr(image, photo, mask))
            no_op[part]["structure"].append(quality.structure(image, photo, mask))
            no_op[part]["reshaped"].append(float(ran == "reshape"))
        if progress is not None:
            progress.update(1)
    summary = {key: {m: quality.nanmean(v) for m, v in cell.items()} for key, cell in rows.items()}
    for key, ran in modes.items():
        summary[key + "/reshape"]["reshaped"] = float(np.mean([m == "reshape" for m in ran])) if ran else float("nan")
    return {"faces": len(faces), "summary": summary,
            "no_op": {p: {m: quality.nanmean(v) for m, v in c.items()} for p, c in no_op.items()},
            "samples": rows}


def speed(editor, photo: np.ndarray, landmarks: np.ndarray, repeats: int = 3) -> dict[str, float]:
    """ms of a reshape and of a redraw of the same inputs (the mouth moved) at 256 px, one run."""
    scale = 256 / max(photo.shape[:2])
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    moved = deform(small, landmarks * scale, "mouth", np.random.default_rng(0))
    lines = line_forms(moved, np.random.default_rng(0))["hed"]
    times = {mode: [] for mode in ("reshape", "redraw")}
    for _ in range(repeats):
        for mode in times:
            times[mode].append(edit(editor, small, moved.mask, lines, mode)[1])
    out = {mode: float(np.median(t)) for mode, t in times.items()}
    out["ratio"] = out["reshape"] / out["redraw"]
    return out


def write_markdown(results: dict, path: Path) -> None:
    lines = [f"# Reshape test (protocol {PROTOCOL}), {results['faces']} faces\n",
             "| part | lines | row | structure | hole PSNR | sharpness | ink | seam | ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for part in PARTS:
        for kind in LINE_TYPES:
            for row in ROWS:
                s = results["summary"][f"{part}/{kind}/{row}"]
                lines.append(f"| {part} | {kind} | {row} | {s['structure']:.3f} | {s['hole_psnr']:.1f} | "
                             f"{s['sharpness']:.2f} | {s['ink']:+.1f} | {s['seam']:.2f} | {s['ms']:.0f} |")
    lines += ["", "No-op (the photo's own lines, mode auto): hole PSNR / structure / share reshaped", ""]
    for part, s in results["no_op"].items():
        lines.append(f"- {part}: {s['hole_psnr']:.1f} dB / {s['structure']:.3f} / {s['reshaped']:.0%}")
    if "speed" in results:
        s = results["speed"]
        lines += ["", f"Speed at 256 px: reshape {s['reshape']:.0f} ms, redraw {s['redraw']:.0f} ms "
                      f"({s['ratio']:.2f}×)"]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.reshape_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of face photos (searched recursively)")
    parser.add_argument("--weights", required=True, help="generator .safetensors")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--faces", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch
    from tqdm import tqdm

    import sketch
    from inpaint import Editor, WeightsError

    from inpaint.imageio import list_images
    from .transfer_eval import load_faces

    torch.set_num_threads(args.threads)
    try:
        editor = Editor.load(args.weights)
        faces = [(rgb, lm) for rgb, lm, _ in load_faces(list_images(args.data), args.faces)]
        if not faces:
            raise ValueError(f"{args.data}: no image with a face")
        with tqdm(total=len(faces), desc="reshape test") as progress:
            results = run(editor, faces, progress)
        results["speed"] = speed(editor, *faces[0])
    except (ValueError, WeightsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results["protocol"] = {"version": PROTOCOL, "data": str(args.data), "weights": args.weights,
                           "edges": sketch.get_detector().name, "faithfulness": 0.0, "align": True}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reshape.json").write_text(json.dumps(results, indent=1) + "\n")
    write_markdown(results, args.out / "reshape.md")
    print((args.out / "reshape.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
