"""Evaluate inpainting on a folder of images with the fixed hole-ratio bucket masks.

    python -m evaluation.evaluate --data DIR --weights PATH --out REPORT_DIR [--limit N] [--masks DIR]

Protocol: every image under DIR (sorted, recursive) is centre-square-cropped and resized
(INTER_AREA) to the model resolution; image i is evaluated in every bucket with mask
i mod n of that bucket. All methods see the same inputs, and every score is taken on the
composite (known pixels copied from the input, so only the hole differs):

* `pconv`: the network without a sketch;
* `pconv+sketch`: the network with the thin-line drawing of the *true* image inside the hole
  (soft edges → thin lines, computed once per image) at faithfulness 0: an oracle sketch,
  i.e. how far a perfect sketch steers the fill;
* `pconv+detail`, `pconv+sketch+detail`: the same with the editor's detail step on
  (`inpaint.detail.refine`: the colour step at the edge removed, the photo's own fine
  detail added). Every network row is `Editor.edit` of the 256-px image, as served;
* `telea`, `navier-stokes`: OpenCV's classical inpainting, radius 5 (the app's fallback radius).

Metrics: L1 (% of 255), PSNR and SSIM (scikit-image, data_range 255, 7×7 uniform window,
per channel) over the whole image, and PSNR over the hole pixels only. A PSNR of identical
images is capped at 100 dB so means stay finite. PSNR and SSIM reward a blur, so beside
them: sharpness (1 = as much fine detail as the photo) and edge F1 against the truth's
edges, both inside the hole shrunk by 3 px (`evaluation.quality`). The sketch- and
colour-transfer tests are `python -m evaluation.transfer_eval`.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inpaint.imageio import list_images, square_resize, to_rgb
from holes.masks import BUCKETS, bucket_name, fingerprint, load_bucket_masks, save_bucket_masks

from . import quality

METHODS = ("pconv", "pconv+sketch", "pconv+detail", "pconv+sketch+detail", "telea", "navier-stokes")
NETWORK_METHODS = METHODS[:4]
LABELS = {"pconv": "PConv", "pconv+sketch": "PConv + sketch", "pconv+detail": "PConv, detail step",
          "pconv+sketch+detail": "PConv + sketch, detail step", "telea": "Telea", "navier-stokes": "Navier-Stokes"}
METRICS = ("psnr", "ssim", "l1", "hole_psnr", "sharpness", "edge_f1", "grid")
OPENCV_RADIUS = 5
SKETCH_LEVEL = 0.0  # an exact sketch of the truth: faithfulness 0, "follow exactly"
HEADLINE = (0.1, 0.6)  # buckets pooled into the summary row
PSNR_CAP = 100.0


def load_square(path: str | Path, size: int) -> np.ndarray:
    """RGB uint8 size×size: the centre square of the (EXIF-upright) image, resized as in training."""
    return square_resize(to_rgb(path), size)


def psnr(truth: np.ndarray, result: np.ndarray) -> float:
    if np.array_equal(truth, result):
        return PSNR_CAP
    return min(PSNR_CAP, float(peak_signal_noise_ratio(truth, result, data_range=255)))


def metrics(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    """Scores of one composite against the true image (uint8 H×W×3; hole bool H×W)."""
    diff = result.astype(np.float64) - truth.astype(np.float64)
    hole_mse = float(np.mean(diff[hole] ** 2)) if hole.any() else 0.0
    hole_psnr = PSNR_CAP if hole_mse == 0 else min(PSNR_CAP, 10 * math.log10(255.0**2 / hole_mse))
    return {
        "psnr": psnr(truth, result),
        "ssim": float(structural_similarity(truth, result, data_range=255, channel_axis=2)),
        "l1": float(np.mean(np.abs(diff)) / 255.0 * 100.0),
        "hole_psnr": hole_psnr,
        **quality.scores(result, truth, hole),
        "grid": quality.grid(result, hole),
    }


def load_editor(weights: str | Path | None):
    """The editor (detail step off) for a weights path, or None for None / "none"."""
    if weights is None or str(weights).lower() == "none":
        return None
    from inpaint import Editor

    return Editor.load(weights, detail=False)


def run_methods(image: np.ndarray, hole: np.ndarray, lines: np.ndarray | None, editor=None) -> dict[str, np.ndarray]:
    """Composites of every method on one (image, hole); the network's only when `editor` is
    given, each through `Editor.edit` on the whole (frame-sized) image, as it is served."""
    out = {}
    if editor is not None:
        mask = hole.astype(np.uint8) * 255
        drawn = None if lines is None else (lines & hole).astype(np.uint8) * 255
        for name, sketch, level in (("pconv", None, 0.5), ("pconv+sketch", drawn, SKETCH_LEVEL)):
            for suffix, detail in (("", False), ("+detail", True)):
                edited = editor.with_options(detail=detail).edit(image, mask, sketch, faithfulness=level, align=False,
                                                                 mode="redraw")
                out[name + suffix] = np.asarray(edited)
    hole_u8 = hole.astype(np.uint8) * 255
    out["telea"] = cv2.inpaint(image, hole_u8, OPENCV_RADIUS, cv2.INPAINT_TELEA)
    out["navier-stokes"] = cv2.inpaint(image, hole_u8, OPENCV_RADIUS, cv2.INPAINT_NS)
    keep = hole[..., None]
    return {name: np.where(keep, out[name], image) for name in METHODS if name in out}


def _summary(samples: dict[str, dict[str, list[float]]]) -> dict[str, dict]:
    """Means per bucket, plus the pooled HEADLINE row."""
    def means(rows: list[dict[str, list[float]]]) -> dict:
        n = sum(len(r["psnr"]) for r in rows)
        stats: dict = {"n": n}
        for m in METRICS:
            stats[m] = quality.nanmean(v for r in rows for v in r[m])
        psnrs = [v for r in rows for v in r["psnr"]]
        stats["psnr_se"] = float(np.std(psnrs, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
        return stats

    out = {name: means([rows]) for name, rows in samples.items()}
    lo, hi = HEADLINE
    pooled = [samples[bucket_name(*b)] for b in BUCKETS if b[0] >= lo and b[1] <= hi and bucket_name(*b) in samples]
    if pooled:
        out[bucket_name(lo, hi)] = means(pooled)
    return out


def evaluate(
    data: str | Path | Sequence[str | Path],
    masks: dict[str, list[np.ndarray]],
    weights: str | Path | None = None,
    *,
    size: int = 256,
    limit: int | None = None,
    detector=None,
    progress: bool = True,
    examples: int = 0,
    examples_dir: str | Path | None = None,
    threads: int | None = 1,
) -> dict:
    """Score every method on every (image, bucket) pair.

    Returns {"protocol", "methods" (means per bucket), "samples" (per-image scores, in the
    order of "image_files"), "image_files"}.

    `data` is a folder or a list of image paths; `masks` as from `load_bucket_masks`;
    `detector` as for `sketch.get_detector` (None = HED if its weights are found). `threads`
    sets torch's CPU threads for the run (None leaves them): on a shared 2-core machine one
    thread is several times faster than two that wait on each other."""
    import torch

    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _evaluate(data, masks, weights, size, limit, detector, progress, examples, examples_dir)
    finally:
        torch.set_num_threads(previous_threads)


def _evaluate(data, masks, weights, size, limit, detector, progress, examples, examples_dir) -> dict:
    import torch
    from tqdm import tqdm

    import sketch

    paths = list_images(data) if isinstance(data, (str, Path)) else [Path(p) for p in data]
    paths = paths[:limit] if limit else paths
    if not paths:
        raise ValueError(f"{data}: no images found")
    for name, bucket in masks.items():
        if not bucket:
            raise ValueError(f"bucket {name} has no masks")
        if bucket[0].shape != (size, size):
            raise ValueError(f"bucket {name} masks are {bucket[0].shape}, but images are evaluated at {size}×{size}")
    editor = load_editor(weights)
    checkpoint = None
    if editor is not None:
        from inpaint.weights import read_checkpoint

        checkpoint = read_checkpoint(weights)  # its record, for the report
    if editor is not None and editor.resolution != size:
        raise ValueError(f"the model works at {editor.resolution} px; evaluate with size {editor.resolution}")
    methods = METHODS if editor is not None else tuple(m for m in METHODS if m not in NETWORK_METHODS)
    edge_detector = sketch.get_detector(detector) if editor is not None else None

    samples = {m: {b: {k: [] for k in METRICS} for b in masks} for m in methods}
    start = time.perf_counter()
    for i, path in enumerate(tqdm(paths, desc="evaluate", unit="img", disable=not progress)):
        image = load_square(path, size)
        lines = sketch.thin_lines(sketch.soft_edges(image, edge_detector)) if edge_detector is not None else None
        rows = []
        for name, bucket in masks.items():
            hole = bucket[i % len(bucket)]
            results = run_methods(image, hole, lines, editor)
            for method, result in results.items():
                for key, value in metrics(result, image, hole).items():
                    samples[method][name][key].append(value)
            rows.append((image, hole, lines, results))
        if examples_dir is not None and i < examples:
            _save_example(Path(examples_dir) / f"{i:03d}_{path.stem}.png", rows, methods)

    protocol = {
        "size": size,
        "images": len(paths),
        "data": str(data) if isinstance(data, (str, Path)) else "list",
        "mask_choice": "image i uses mask i mod n of each bucket",
        "masks_per_bucket": {name: len(bucket) for name, bucket in masks.items()},
        "masks_sha256": fingerprint(masks),
        "weights": None if checkpoint is None else checkpoint.source,
        "model_config": None if checkpoint is None else checkpoint.config.to_dict(),
        "training": None if checkpoint is None else checkpoint.meta.get("training", {}),
        "edge_detector": None if edge_detector is None else
        {"name": edge_detector.name, "is_fallback": edge_detector.is_fallback, "reason": edge_detector.reason},
        "sketch": "thin_lines(soft_edges(true image)) inside the hole, level %.1f" % SKETCH_LEVEL,
        "opencv_radius": OPENCV_RADIUS,
        "torch_threads": torch.get_num_threads(),
        "metrics": "on the composite; PSNR/SSIM/L1 whole image (skimage, data_range 255, channel_axis); "
                   "hole_psnr over hole pixels; PSNR capped at %g" % PSNR_CAP,
        "seconds": round(time.perf_counter() - start, 1),
    }
    return {
        "protocol": protocol,
        "methods": {m: _summary(samples[m]) for m in methods},
        "samples": {m: {b: {k: [round(v, 5) for v in vs] for k, vs in s.items()} for b, s in samples[m].items()}
                    for m in methods},
        "image_files": [str(p) for p in paths],
    }


def _save_example(path: Path, rows, methods: Sequence[str], tile: int = 128) -> None:
    """One row per bucket: input with the hole in grey, the oracle sketch, each method, the truth."""
    grid = []
    for image, hole, lines, results in rows:
        masked = np.where(hole[..., None], np.uint8(128), image)
        drawn = masked.copy()
        if lines is not None:
            drawn[lines & hole] = (255, 0, 0)
        cells = [masked, drawn] + [results[m] for m in methods] + [image]
        grid.append(np.hstack([cv2.resize(c, (tile, tile), interpolation=cv2.INTER_AREA) for c in cells]))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(grid)).save(path)


def write_markdown(results: dict, path: str | Path) -> Path:
    """Tables: rows = buckets (+ pooled), column groups = methods (PSNR/SSIM/L1); then hole PSNR."""
    methods = list(results["methods"])
    buckets = list(next(iter(results["methods"].values())))
    p = results["protocol"]
    lines = [
        "# Inpainting evaluation", "",
        f"{p['images']} images at {p['size']} px, masks i mod n per bucket (sha256 {p['masks_sha256'][:12]}), "
        f"weights: {p['weights'] or 'none'}"
        + (f", sketch edges: {p['edge_detector']['name']}" if p["edge_detector"] else "")
        + f", OpenCV radius {p['opencv_radius']}. Scores on the composite; L1 in % of 255."
        + (" PConv + sketch is given the thin lines of the true image inside the hole (an oracle sketch)."
           if "pconv+sketch" in methods else ""), "",
        "| hole ratio | " + " | ".join(f"{LABELS[m]} PSNR | SSIM | L1 %" for m in methods) + " |",
        "|---|" + "---:|" * (3 * len(methods)),
    ]
    for b in buckets:
        label = f"**({b.replace('-', ', ')}]**" if b == bucket_name(*HEADLINE) else f"({b.replace('-', ', ')}]"
        cells = []
        for m in methods:
            s = results["methods"][m][b]
            cells += [f"{s['psnr']:.2f}", f"{s['ssim']:.4f}", f"{s['l1']:.2f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "PSNR inside the hole only (dB):", "",
              "| hole ratio | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods)]
    for b in buckets:
        lines.append(f"| ({b.replace('-', ', ')}] | "
                     + " | ".join(f"{results['methods'][m][b]['hole_psnr']:.2f}" for m in methods) + " |")
    lines += ["", "Sharpness (1 = as crisp as the photo) / edge F1 against the truth's edges / grid (how unevenly "
              "pixel steps fall over the 8 phases of the decoder's 8-px period; a photo scores about 0.05), "
              "inside the hole:", "",
              "| hole ratio | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---:|" * len(methods)]
    for b in buckets:
        lines.append(f"| ({b.replace('-', ', ')}] | " + " | ".join(
            f"{results['methods'][m][b]['sharpness']:.2f} / {results['methods'][m][b]['edge_f1']:.2f}"
            f" / {results['methods'][m][b].get('grid', float('nan')):.2f}" for m in methods) + " |")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_plot(results: dict, path: str | Path) -> Path:
    """PSNR, SSIM and hole PSNR against the bucket's mid hole ratio, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ("psnr", "ssim", "hole_psnr", "sharpness", "edge_f1")
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 4))
    for m, stats in results["methods"].items():
        buckets = [b for b in stats if b != bucket_name(*HEADLINE)]
        x = [np.mean([float(v) for v in b.split("-")]) for b in buckets]
        for ax, key in zip(axes, keys):
            ax.plot(x, [stats[b][key] for b in buckets], marker="o", label=LABELS[m])
    for ax, title in zip(axes, ("PSNR (dB)", "SSIM", "hole PSNR (dB)", "sharpness (photo = 1)", "edge F1")):
        ax.set_xlabel("hole ratio (bucket centre)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"{results['protocol']['images']} images, {results['protocol']['size']} px")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(results: dict, out: str | Path) -> list[Path]:
    """results.json (protocol + means), samples.json (per-image scores, compact), results.md, the plot."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {k: results[k] for k in ("protocol", "methods")}
    (out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    per_image = {k: results[k] for k in ("samples", "image_files") if k in results}
    (out / "samples.json").write_text(json.dumps(per_image, separators=(",", ":")) + "\n")
    table = write_markdown(results, out / "results.md")
    return [out / "results.json", out / "samples.json", table, write_plot(results, out / "psnr_vs_hole.png")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of images (searched recursively)")
    parser.add_argument("--weights", default=None, help="generator .safetensors; omit or 'none' for OpenCV only")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--limit", type=int, default=None, help="first N images only")
    parser.add_argument("--masks", type=Path, default=None, help="saved bucket masks (default: made in OUT/masks)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0, help="mask seed when the masks are generated")
    parser.add_argument("--per-bucket", type=int, default=50, help="masks per bucket when generated")
    parser.add_argument("--edges", default="auto", choices=("auto", "hed", "gradient"), help="soft-edge detector")
    parser.add_argument("--examples", type=int, default=2, help="save comparison grids of the first N images")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    from inpaint.weights import WeightsError

    try:
        mask_dir = args.masks
        if mask_dir is None:
            mask_dir = args.out / "masks"
            save_bucket_masks(mask_dir, args.size, args.per_bucket, args.seed)
        masks = load_bucket_masks(mask_dir)
        results = evaluate(args.data, masks, args.weights, size=args.size, limit=args.limit,
                           detector=None if args.edges == "auto" else args.edges, progress=not args.quiet,
                           examples=args.examples, examples_dir=args.out / "examples", threads=args.threads or None)
    except (FileNotFoundError, ValueError, WeightsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    manifest = mask_dir / "manifest.json"
    results["protocol"]["masks"] = {"dir": str(mask_dir), "generated": args.masks is None,
                                    **({k: v for k, v in json.loads(manifest.read_text()).items()
                                        if k in ("seed", "size", "per_bucket")} if manifest.is_file() else {})}
    for path in write_report(results, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
