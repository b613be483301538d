"""The sketch-transfer and colour-transfer tests on full photos, through the editor.

    python -m evaluation.transfer_eval --data ../shared/faces/test --weights W.safetensors --out DIR [--pairs 18]

Protocol 2: face pairs (A, B) are consecutive test images (sorted) in which a face is found.
For each part (mouth, nose, eyes) the editor runs A with B as the reference and that part
(`Editor.edit(A, reference=B, parts=[part])`, `inpaint.reference`: the hole is both parts
grown, the sketch B's thin HED lines of the part and a dozen dabs of its colours, a fit per
eye), at faithfulness 0 with `align=True`, as the app and the CLI would. Scored (`evaluation.transfer.transfer_scores`:
edge F1 against the given lines, sharpness, structure against B's real part, ink) beside
three references on the same holes: B's real part pasted in (the ceiling), OpenCV's Telea
(ignores the lines) and A's own face unedited (ignores them too). Beside it, the same edit with A
as its own reference (its own part's lines and colours, the training's case): how close the fill
comes to the part when the lines are exactly right, which bounds what better lines could do.
Colour: a dozen dabs of B's lip colour, and of green, inside A's mouth hole, edited with and
without the dabs.
Writes DIR/transfer.json, DIR/transfer.md and DIR/transfer.png (`--baseline OLD_DIR` adds
an earlier report's bars).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import quality
from .transfer import (PARTS, colour_dabs, colour_move, fit_errors, lip_colour, reference_case, telea_fill,
                       transfer_scores)

GREEN = np.array([40.0, 170.0, 70.0])
MEASURES = ("f1", "sharpness", "structure", "ink", "colour")
PROTOCOL = 2  # 1: one joint fit, hole = A's part grown, lines warped from B's whole-photo HED (before 2026-12-05)
FIT_PARTS = ("eyes", "eyebrows")  # the parts fitted per group (one fit per eye, per brow) or jointly
REFERENCES = ("ceiling", "telea", "unedited")  # the pasted real part, OpenCV Telea, A as it was
OWN, OWN_TELEA = "own_", "own_telea_"  # A with its own part as the reference (and Telea on that hole), against A


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


def _score(row: dict, results: dict, truth: np.ndarray, case) -> None:
    """Append each result's transfer scores to `row` under its prefix."""
    for prefix, result in results.items():
        scores = transfer_scores(result, truth, case)
        for key in MEASURES:
            row[prefix + key].append(scores[key])


def run(editor, faces, seed: int = 0) -> dict:
    """Protocol 2 on consecutive pairs of `faces` ((RGB, landmarks, lines) each; the lines are
    not used: the reference path takes its own)."""
    rng = np.random.default_rng(seed)
    keys = [prefix + m for prefix in ("", *(r + "_" for r in REFERENCES), OWN, OWN_TELEA) for m in MEASURES]
    rows = {part: {key: [] for key in keys} for part in PARTS}
    colours = {"lip": [], "green": [], "lip_network": [], "green_network": []}
    fits = {part: [] for part in FIT_PARTS}
    network_editor = editor.with_options(follow_hints=False)  # the colour moves of the network alone
    for (image_a, lm_a, _), (image_b, lm_b, _) in zip(faces[0::2], faces[1::2]):
        for part in FIT_PARTS:
            fits[part].append(fit_errors(lm_a, lm_b, part))
        for part in PARTS:
            case = reference_case(image_a, image_b, part)
            edited = editor.edit(image_a, reference=image_b, parts=[part], faithfulness=0.0, align=True,
                                 mode="redraw")
            results = {"": np.asarray(edited), "ceiling_": case.ceiling, "telea_": telea_fill(image_a, case.hole),
                       "unedited_": image_a}
            _score(rows[part], results, image_a, case)
            own_case = reference_case(image_a, image_a, part)
            own = editor.edit(image_a, reference=image_a, parts=[part], faithfulness=0.0, align=True,
                              mode="redraw")
            _score(rows[part], {OWN: np.asarray(own), OWN_TELEA: telea_fill(image_a, own_case.hole)}, image_a, own_case)
        hole = reference_case(image_a, image_b, "mouth").hole
        plain = _edit(editor, image_a, hole)
        for name, colour in (("lip", lip_colour(image_b, lm_b)), ("green", GREEN)):
            dabs = colour_dabs(hole, colour, rng)
            colours[name].append(colour_move(_edit(editor, image_a, hole, hints=dabs), plain, hole, colour))
            network_only = _edit(network_editor, image_a, hole, hints=dabs)
            colours[name + "_network"].append(colour_move(network_only, plain, hole, colour))
    summary = {part: {k: quality.nanmean(v) for k, v in r.items()} for part, r in rows.items()}
    for part in PARTS:
        summary[part]["f1_of_ceiling"] = summary[part]["f1"] / max(summary[part]["ceiling_f1"], 1e-9)
    summary["colour"] = {name: quality.nanmean(v) for name, v in colours.items()}
    summary["fit"] = {part: {k: quality.nanmean([f[k] for f in found]) for k in found[0]}
                      for part, found in fits.items() if found}
    return {"pairs": len(faces) // 2, "summary": summary, "samples": {"parts": rows, "colour": colours}}


def write_markdown(results: dict, path: Path, weights: str) -> None:
    s = results["summary"]
    detail = results.get("protocol", {}).get("detail", True)
    version = results.get("protocol", {}).get("version", 1)
    lines = [f"# Sketch and colour transfer, protocol {version} ({results['pairs']} pairs, weights {weights}, "
             f"detail step {'on' if detail else 'off'})", "",
             "Each cell: the model / the pasted real part / Telea / the face unedited. Structure: local SSIM",
             "against the real part (1 = it). Ink: grey levels by which the given lines are darker than",
             "the rest of the hole, beyond the real part's (0 = as the real part; a pen stroke painted on",
             "skin scores tens). Colour: ΔE of the hole's mean colour from the real part's.", "",
             "| part | F1 vs given lines | F1 / ceiling | structure | ink | sharpness | colour ΔE |",
             "|---|---|---:|---|---|---|---|"]

    def cells(r: dict, key: str, form: str) -> str:
        return " / ".join(format(r[prefix + key], form) for prefix in ("", *(x + "_" for x in REFERENCES)))

    for part in PARTS:
        r = s[part]
        lines.append(f"| {part} | {cells(r, 'f1', '.3f')} | {r['f1_of_ceiling']:.0%} | {cells(r, 'structure', '.2f')} "
                     f"| {cells(r, 'ink', '+.1f')} | {cells(r, 'sharpness', '.2f')} | {cells(r, 'colour', '.1f')} |")
    lines += ["", "A with its own part as the reference (the lines exactly right), model / Telea: "
              + "; ".join(f"{part}: structure {s[part][OWN + 'structure']:.2f} / {s[part][OWN_TELEA + 'structure']:.2f}, "
                          f"ink {s[part][OWN + 'ink']:+.1f}, sharpness {s[part][OWN + 'sharpness']:.2f}" for part in PARTS)
              + "."]
    c = s["colour"]
    lines += ["", f"Colour transfer (fraction of the way to the hint): lip {c['lip']:.2f}, green {c['green']:.2f}"
                  f" (the network alone, without the editor's hint step: lip {c.get('lip_network', float('nan')):.2f},"
                  f" green {c.get('green_network', float('nan')):.2f})."]
    for part, f in s.get("fit", {}).items():
        lines.append(f"Fit of the {part}, % of A's eye distance, one fit per {part[:-1] if part == 'eyes' else 'brow'} / "
                     f"one joint fit: in sample {f['per_group_rms']:.1f} / {f['joint_rms']:.1f}, "
                     f"each landmark held out {f['per_group_held_out']:.1f} / {f['joint_held_out']:.1f}.")
    path.write_text("\n".join(lines) + "\n")


def write_plot(results: dict, path: Path, baseline: dict | None = None) -> Path:
    """Bars per part of every measure, for the model (and a baseline report, when given) beside
    the pasted real part and Telea."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("pasted real part", results["summary"], "ceiling_"), ("OpenCV Telea", results["summary"], "telea_")]
    if baseline is not None:
        rows.append((f"before ({Path(baseline['protocol']['weights']).name})", baseline["summary"], ""))
    rows.append((Path(results["protocol"]["weights"]).name, results["summary"], ""))
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    x = np.arange(len(PARTS))
    width = 0.8 / len(rows)
    titles = ("edge F1 against the drawn lines", "sharpness (photo = 1)", "structure: local SSIM vs the real part",
              "ink: lines darker than the real part's (grey levels)")
    for ax, key, title in zip(axes, ("f1", "sharpness", "structure", "ink"), titles):
        for k, (label, summary, prefix) in enumerate(rows):
            values = [summary[p].get(prefix + key, float("nan")) for p in PARTS]  # older reports lack some
            ax.bar(x + (k - (len(rows) - 1) / 2) * width, values, width, label=label)
        ax.set_xticks(x, PARTS)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right", framealpha=0.9)
    fig.suptitle(f"Sketch transfer: another face's part drawn in ({results['pairs']} pairs)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.transfer_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of face photos (searched recursively)")
    parser.add_argument("--weights", required=True, help="generator .safetensors")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--pairs", type=int, default=18)
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
