"""The transfer test on full photos, through the editor: another photo's part moved in.

    python -m evaluation.transfer_eval --data ../shared/faces/test --weights W.safetensors --out DIR [--pairs 12]

Protocol 3. Face pairs (A, B) are consecutive test images (sorted) in which a face is found.
For each part (mouth, nose, eyes, eyebrows) the editor runs A with a reference and that part,
at faithfulness 0 with `align=True`, as the app and the CLI would, in two ways: the
transplant (`reference_mode="pixels"`, the default: the reference's own pixels moved in,
`inpaint/transplant.py`) and the lines path (`reference_mode="lines"`: the network draws
from the reference's lines and colour dabs). Two rows:

* **self**, the main truth: the reference is A itself, mirrored, turned, scaled, warped
  smoothly and recoloured (`evaluation.transfer.self_reference`); the truth is A, so it does
  not depend on the code's own warp. A mirrored part is A's other side: the row's ceiling
  ("mirror") is A's plain mirror image pasted by the fit, capped by the face's asymmetry;
* **self_unmirrored**: the same copy without the mirror, what the method itself loses;
* **pair**: the reference is B; the truth is B's real part pasted by the same fit
  (`evaluation.transfer.reference_case`), with A unedited beside it.

Scored (`evaluation.transfer.transplant_scores`) against the truth: structure (local SSIM),
sharpness, ink and edge F1 against the given lines; and against A's photo: the seam (the
fine detail on the mask's edge band over the photo's, ~1 = invisible) and the skin ring's
ΔE (the mask's edge band on skin). Beside them OpenCV's Telea on the same hole. Colour: a
dozen dabs of B's lip colour, and of green, inside A's mouth hole, edited (redraw) with and
without the dabs.
Writes DIR/transfer.json, DIR/transfer.md and DIR/transfer.png (`--baseline OLD_DIR` adds
an earlier report's bars; it must be of this protocol).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from inpaint.frame import eye_distance
from inpaint.reference import reference_layers, warp_reference

from . import quality
from .transfer import (TransferCase, colour_dabs, colour_move, fit_errors, lip_colour, reference_case, self_reference,
                       edge_skin, telea_fill, transplant_scores)

GREEN = np.array([40.0, 170.0, 70.0])
PROTOCOL = 3  # 2: lines path only, truth B's pasted part, mouth/nose/eyes (before 2026-12-06); 1: one joint fit
EVALUATED_PARTS = ("mouth", "nose", "eyes", "eyebrows")
MEASURES = ("structure", "sharpness", "seam", "ring", "ink", "f1", "colour")
ROWS = ("self", "self_unmirrored", "pair")
METHODS = {"self": ("transplant", "lines", "telea", "mirror"), "self_unmirrored": ("transplant", "lines", "telea"),
           "pair": ("transplant", "lines", "telea", "unedited", "ceiling")}
FIT_PARTS = ("eyes", "eyebrows")  # the parts fitted per group (one fit per eye, per brow) or jointly
RING_WIDTH = 0.08  # the skin ring's width, in A's eye distances


def load_faces(paths: list[Path], count: int) -> list[tuple[np.ndarray, np.ndarray, None]]:
    """(RGB, 68 landmarks, None) of the first `count` images in which a face is found."""
    from inpaint.face import detect_faces, grey_image
    from inpaint.imageio import to_rgb

    faces = []
    for path in paths:
        rgb = to_rgb(path)
        found = detect_faces(grey_image(rgb))
        if found:
            faces.append((rgb, found[0].landmarks, None))
        if len(faces) == count:
            break
    return faces


def _edit(editor, image, hole, sketch=None, hints=None) -> np.ndarray:
    colour = None
    if hints is not None:
        rgb, mask = hints
        colour = np.dstack([rgb, mask.astype(np.uint8) * 255])
    sketch_layer = None if sketch is None else sketch.astype(np.uint8) * 255
    out = editor.edit(image, hole.astype(np.uint8) * 255, sketch=sketch_layer, color=colour, faithfulness=0.0,
                      align=True, mode="redraw")
    return np.asarray(out)


def _transfers(editor, image: np.ndarray, reference: np.ndarray, part: str) -> dict[str, np.ndarray]:
    """A edited with `reference`'s `part`: the transplant and the lines path."""
    return {method: np.asarray(editor.edit(image, reference=reference, parts=[part], faithfulness=0.0, align=True,
                                           reference_mode=method_mode))
            for method, method_mode in (("transplant", "pixels"), ("lines", "lines"))}


def mirror_pasted(image: np.ndarray, part: str) -> np.ndarray:
    """`image` with its `part` replaced by its own mirror image's, pasted by the part's fit."""
    mirrored = np.ascontiguousarray(image[:, ::-1])
    layers = reference_layers(image, mirrored, [part])
    return np.where(layers.mask[..., None], warp_reference(mirrored, layers), image)


def _score(row: dict, results: dict, photo: np.ndarray, case: TransferCase, ring: np.ndarray) -> None:
    for method, result in results.items():
        scores = transplant_scores(result, photo, case, ring)
        for key in MEASURES:
            row[f"{method}_{key}"].append(scores[key])


def run(editor, faces, seed: int = 0) -> dict:
    """Protocol 3 on consecutive pairs of `faces` ((RGB, landmarks, lines) each; the lines are
    not used: the reference path takes its own)."""
    rng = np.random.default_rng(seed)
    rows = {row: {part: {f"{m}_{k}": [] for m in METHODS[row] for k in MEASURES} for part in EVALUATED_PARTS}
            for row in ROWS}
    colours = {"lip": [], "green": [], "lip_network": [], "green_network": []}
    fits = {part: [] for part in FIT_PARTS}
    network_editor = editor.with_options(follow_hints=False)  # the colour moves of the network alone
    for (image_a, lm_a, _), (image_b, lm_b, _) in zip(faces[0::2], faces[1::2]):
        for part in FIT_PARTS:
            fits[part].append(fit_errors(lm_a, lm_b, part))
        width = max(2, round(RING_WIDTH * eye_distance(lm_a)))
        copies = {"self": self_reference(image_a, rng), "self_unmirrored": self_reference(image_a, rng, mirror=False)}
        for part in EVALUATED_PARTS:
            for row, copy in copies.items():
                try:
                    layers = reference_layers(image_a, copy, [part])
                except ValueError:  # no face found in the copy: the other rows still count
                    continue
                case = TransferCase(layers.mask, layers.sketch, image_a)
                results = {**_transfers(editor, image_a, copy, part), "telea": telea_fill(image_a, case.hole)}
                if row == "self":  # the row's ceiling: A's other side exactly, A's mirror image pasted by its fit
                    results["mirror"] = mirror_pasted(image_a, part)
                _score(rows[row][part], results, image_a, case, edge_skin(case.hole, lm_a, width))
            case = reference_case(image_a, image_b, part)
            results = {**_transfers(editor, image_a, image_b, part), "telea": telea_fill(image_a, case.hole),
                       "unedited": image_a, "ceiling": case.ceiling}
            _score(rows["pair"][part], results, image_a, case, edge_skin(case.hole, lm_a, width))
        hole = reference_case(image_a, image_b, "mouth").hole
        plain = _edit(editor, image_a, hole)
        for name, colour in (("lip", lip_colour(image_b, lm_b)), ("green", GREEN)):
            dabs = colour_dabs(hole, colour, rng)
            colours[name].append(colour_move(_edit(editor, image_a, hole, hints=dabs), plain, hole, colour))
            network_only = _edit(network_editor, image_a, hole, hints=dabs)
            colours[name + "_network"].append(colour_move(network_only, plain, hole, colour))
    summary = {row: {part: {k: quality.nanmean(v) for k, v in r.items()} for part, r in parts.items()}
               for row, parts in rows.items()}
    summary["colour"] = {name: quality.nanmean(v) for name, v in colours.items()}
    summary["fit"] = {part: {k: quality.nanmean([f[k] for f in found]) for k in found[0]}
                      for part, found in fits.items() if found}
    return {"pairs": len(faces) // 2, "summary": summary, "samples": {"rows": rows, "colour": colours}}


TITLES = {"self": "self-transfer: A's own part from its mirrored, recoloured, warped copy (truth: A; "
                  "mirror: A's plain mirror image pasted, the ceiling a mirrored part allows)",
          "self_unmirrored": "self-transfer, the copy not mirrored (the method's share: no asymmetry of the face)",
          "pair": "another face: B's part (truth: B's real part pasted by the fit)"}


def write_markdown(results: dict, path: Path, weights: str) -> None:
    s = results["summary"]
    detail = results.get("protocol", {}).get("detail", True)
    lines = [f"# Transfer, protocol {PROTOCOL} ({results['pairs']} pairs, weights {weights}, "
             f"detail step {'on' if detail else 'off'})", "",
             "Structure: local SSIM against the truth (1 = it). Sharpness: fine detail over the truth's. "
             "Seam: fine detail on the mask's edge band over the photo's (~1 = invisible). Ring ΔE: the mean "
             "colour of the skin along the mask's edge against the photo's. Ink: grey levels by which the "
             "given lines are darker than the rest of the hole, beyond the truth's."]
    for row in ROWS:
        methods = METHODS[row]
        lines += ["", f"## {TITLES[row]}", "", "Each cell: " + " / ".join(methods) + ".", "",
                  "| part | structure | sharpness | seam | ring ΔE | ink |", "|---|---|---|---|---|---|"]
        for part in EVALUATED_PARTS:
            r = s[row][part]
            cell = lambda key, form: " / ".join(format(r[f"{m}_{key}"], form) for m in methods)  # noqa: E731
            lines.append(f"| {part} | {cell('structure', '.2f')} | {cell('sharpness', '.2f')} | {cell('seam', '.2f')} "
                         f"| {cell('ring', '.1f')} | {cell('ink', '+.1f')} |")
    c = s["colour"]
    lines += ["", f"Colour transfer, redraw with dabs (fraction of the way to the hint): lip {c['lip']:.2f}, "
                  f"green {c['green']:.2f} (the network alone: lip {c['lip_network']:.2f}, green {c['green_network']:.2f})."]
    for part, f in s.get("fit", {}).items():
        lines.append(f"Fit of the {part}, % of A's eye distance, one fit per {part[:-1] if part == 'eyes' else 'brow'} / "
                     f"one joint fit: in sample {f['per_group_rms']:.1f} / {f['joint_rms']:.1f}, "
                     f"each landmark held out {f['per_group_held_out']:.1f} / {f['joint_held_out']:.1f}.")
    path.write_text("\n".join(lines) + "\n")


def write_plot(results: dict, path: Path, baseline: dict | None = None) -> Path:
    """Bars per part of structure, sharpness, seam and ring ΔE for each row and method (and
    the baseline report's transplant, when given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(ROWS), 4, figsize=(17, 10))
    x = np.arange(len(EVALUATED_PARTS))
    titles = {"structure": "structure (local SSIM vs the truth)", "sharpness": "sharpness (truth = 1)",
              "seam": "seam (photo = 1)", "ring": "skin ring ΔE"}
    for axes_row, row in zip(axes, ROWS):
        bars = [(m, results["summary"][row], m) for m in METHODS[row]]
        if baseline is not None:
            bars.append(("before", baseline["summary"][row], "transplant"))
        width = 0.8 / len(bars)
        for ax, key in zip(axes_row, titles):
            for k, (label, summary, method) in enumerate(bars):
                values = [summary[p].get(f"{method}_{key}", float("nan")) for p in EVALUATED_PARTS]
                ax.bar(x + (k - (len(bars) - 1) / 2) * width, values, width, label=label)
            ax.set_xticks(x, EVALUATED_PARTS)
            ax.set_title(titles[key], fontsize=9)
            ax.grid(axis="y", alpha=0.3)
        axes_row[0].set_ylabel(row)
        axes_row[0].legend(fontsize=7, loc="lower right", framealpha=0.9)
    fig.suptitle(f"Transfer, protocol {PROTOCOL} ({results['pairs']} pairs): rows: self, self unmirrored, another face")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.transfer_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of face photos (searched recursively)")
    parser.add_argument("--weights", required=True, help="generator .safetensors")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-detail", action="store_true", help="paste back without the detail step (inpaint/detail.py)")
    parser.add_argument("--baseline", type=Path, help="an earlier report folder, drawn beside this one in the plot")
    args = parser.parse_args(argv)

    import torch

    import sketch
    from inpaint import Editor, WeightsError

    from inpaint.imageio import list_images

    torch.set_num_threads(args.threads)
    try:
        editor = Editor.load(args.weights, detail=not args.no_detail)
        detector = sketch.get_detector()  # the editor's reference path takes lines with this one
        faces = load_faces(list_images(args.data), 2 * args.pairs)
        baseline = json.loads((args.baseline / "transfer.json").read_text()) if args.baseline else None
        if baseline is not None and baseline.get("protocol", {}).get("version", 1) != PROTOCOL:
            raise ValueError(f"{args.baseline}: a report of another protocol "
                             f"({baseline.get('protocol', {}).get('version', 1)}, this is {PROTOCOL}); re-measure it")
        if len(faces) < 2:
            raise ValueError(f"{args.data}: fewer than two images with a face")
        results = run(editor, faces)
    except (ValueError, WeightsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results["protocol"] = {"version": PROTOCOL, "data": str(args.data), "weights": args.weights, "edges": detector.name,
                           "faithfulness": 0.0, "align": True, "detail": not args.no_detail}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "transfer.json").write_text(json.dumps(results, indent=1) + "\n")
    write_markdown(results, args.out / "transfer.md", args.weights)
    write_plot(results, args.out / "transfer.png", baseline)
    print((args.out / "transfer.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
