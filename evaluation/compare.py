"""Compare two evaluation reports image by image: is the new model measurably better?

    python -m evaluation.compare OLD_REPORT_DIR NEW_REPORT_DIR [--methods pconv pconv+sketch]

Both reports come from `evaluation.evaluate` on the same images and masks (their file lists
must match). Every image is scored by both models under the same mask, so the
comparison is paired: per bucket, and pooled over the summary buckets, it prints the mean
difference (new − old), the share of images the new model scores higher, and the p-value
of a two-sided Wilcoxon signed-rank test (SciPy). A gain is "measurable" when p < 0.05.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from holes.masks import BUCKETS, bucket_name

from .evaluate import HEADLINE

# Hole PSNR is left out: known pixels are copied from the input, so per image it differs from
# the whole-image PSNR by a constant (10·log10 of the hole share) and its paired differences match.
METRICS = ("psnr", "ssim")
SIGNIFICANT = 0.05


def load_samples(report: str | Path) -> dict:
    path = Path(report)
    path = path / "samples.json" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no per-image scores at {path} (run evaluation.evaluate to make them)")
    report = json.loads(path.read_text())
    if not isinstance(report, dict) or "samples" not in report:
        raise ValueError(f"{path} has no per-image 'samples' (not a evaluation.evaluate samples.json)")
    return report


def paired_rows(old: list[float], new: list[float]) -> dict[str, float]:
    """Mean difference, share improved and Wilcoxon p of one set of paired scores."""
    a, b = np.asarray(old, dtype=np.float64), np.asarray(new, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"paired scores need equal, non-empty lengths (got {a.size} and {b.size})")
    diff = b - a
    p = float(wilcoxon(b, a).pvalue) if np.any(diff != 0) else 1.0
    return {"n": int(a.size), "mean_diff": float(diff.mean()), "better": float((diff > 0).mean()), "p": p}


def compare(old: dict, new: dict, methods: tuple[str, ...] = ("pconv", "pconv+sketch")) -> dict:
    """{method: {bucket: {metric: paired_rows}}}, with the pooled HEADLINE bucket last."""
    if old.get("image_files") != new.get("image_files"):
        raise ValueError("the two reports were not made on the same images; re-run evaluation.evaluate with the same --data")
    lo, hi = HEADLINE
    out: dict = {}
    for method in methods:
        if method not in old["samples"] or method not in new["samples"]:
            raise ValueError(f"method {method!r} is missing from one of the reports")
        before, after = old["samples"][method], new["samples"][method]
        buckets = [bucket_name(*b) for b in BUCKETS if bucket_name(*b) in before and bucket_name(*b) in after]
        pooled = [bucket_name(*b) for b in BUCKETS if b[0] >= lo and b[1] <= hi and bucket_name(*b) in buckets]
        rows = {b: {m: paired_rows(before[b][m], after[b][m]) for m in METRICS} for b in buckets}
        if pooled:
            rows[bucket_name(lo, hi)] = {
                m: paired_rows([v for b in pooled for v in before[b][m]], [v for b in pooled for v in after[b][m]])
                for m in METRICS
            }
        out[method] = rows
    return out


def to_markdown(result: dict) -> str:
    lines = []
    for method, rows in result.items():
        lines += [f"### {method} (new − old)", "", "| bucket | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
        for bucket, cells in rows.items():
            text = [
                f"{c['mean_diff']:+.4f} ({100 * c['better']:.0f} % better, p={c['p']:.2g}{'' if c['p'] < SIGNIFICANT else ', n.s.'})"
                for c in (cells[m] for m in METRICS)
            ]
            lines.append(f"| ({bucket.replace('-', ', ')}] | " + " | ".join(text) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.compare", description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path, help="report folder (or samples.json) of the current model")
    parser.add_argument("new", type=Path, help="report folder (or samples.json) of the candidate")
    parser.add_argument("--methods", nargs="+", default=["pconv", "pconv+sketch"])
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    try:
        result = compare(load_samples(args.old), load_samples(args.new), tuple(args.methods))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(to_markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
