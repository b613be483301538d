"""Training curves from a run's TensorBoard logs, as a PNG (for the model card and README).

    python -m train.curves RUN_DIR --out docs/training_curve.png [--smooth 0.9]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

PANELS = (("loss/hole", "loss/valid"), ("loss/total",), ("loss/perceptual", "loss/style"), ("train/img_per_s",),
          ("val/sharpness", "val/sharpness_sketch", "val/edge_f1_sketch", "val/transfer_f1"))


def read_scalars(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """tag → (steps, values), merged over every event file of the run (resumed runs write several)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    merged: dict[str, dict[int, float]] = {}
    for events in sorted((run_dir / "tb").glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            merged.setdefault(tag, {}).update({e.step: e.value for e in accumulator.Scalars(tag)})
    return {tag: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)])) for tag, v in merged.items()}


def smooth(values: np.ndarray, factor: float) -> np.ndarray:
    """TensorBoard-style exponential moving average."""
    out, last = np.empty_like(values, dtype=np.float64), values[0] if len(values) else 0.0
    for i, v in enumerate(values):
        last = factor * last + (1 - factor) * v
        out[i] = last
    return out


def plot(scalars: dict, out: Path, factor: float = 0.9) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [tags for tags in PANELS if any(tag in scalars for tag in tags)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, tags in zip(axes[0], panels):
        for tag in tags:
            if tag in scalars:
                steps, values = scalars[tag]
                if tag.startswith("val/"):  # a few fixed evaluations: points, not a noisy curve
                    ax.plot(steps, values, marker="o", label=tag.split("/")[-1], linewidth=1.5)
                    continue
                (line,) = ax.plot(steps, smooth(values, factor), label=tag.split("/")[-1], linewidth=1.5)
                ax.plot(steps, values, alpha=0.25, linewidth=0.8, color=line.get_color())
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if tags[0].startswith("loss"):
            ax.set_yscale("log")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.curves", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--smooth", type=float, default=0.9)
    args = p.parse_args(argv)
    scalars = read_scalars(args.run_dir)
    if not scalars:
        print(f"error: no TensorBoard scalars under {args.run_dir / 'tb'}", file=sys.stderr)
        return 2
    print(plot(scalars, args.out, args.smooth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
