"""Export a run's EMA generator as shipped weights (safetensors + JSON config).

    python -m release.export RUN_DIR --out inpaint/checkpoints/NAME.safetensors [--dtype int8|float16|float32] [--raw]
    python -m release.export WEIGHTS.safetensors --out inpaint/checkpoints/NAME.safetensors [--dtype int8]
    python -m release.export RUN_DIR --discriminator --out NAME.disc.safetensors

The second form re-stores exported weights (e.g. a GPU burst's fp16 file) in another
storage dtype, keeping their training record. The third writes the run's discriminator
(fp16), so that a later run (`train.fit --init-disc`) continues the adversarial game where
this one stopped instead of starting against a fresh discriminator.
"""
from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from inpaint.generator import SketchPConvUNet
from inpaint.weights import DTYPES, save_checkpoint

from train.config import Recipe
from train.state import load_state


def export(run_dir: Path, out: Path, dtype: str = "int8", raw: bool = False) -> Path:
    state = load_state(run_dir)
    if state is None:
        raise ValueError(f"{run_dir}: no training state (last.pt) to export")
    recipe = Recipe.from_dict(state["recipe"])
    model = SketchPConvUNet(recipe.model.generator_config())
    model.load_state_dict(state["generator" if raw else "ema"])
    training = {
        "recipe": recipe.name,
        "steps": state["step"],
        "images_seen": state["images_seen"],
        "wall_hours": round(state["wall"] / 3600, 2),
        "device": state.get("device", "?"),
        "processes": state.get("world", 1),
        "host_cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "weights": "generator" if raw else f"EMA (decay {recipe.optim.ema})",
        "train_images": state.get("data_size"),
        "edges": state.get("edges"),
        "perceptual_vgg": state.get("vgg"),
        "skipped_steps": state["skipped"],
        "recipe_fields": recipe.to_dict(),
    }
    training.update(lineage(state, training))
    return save_checkpoint(model.eval(), out, training=training, dtype=dtype)


def restore(weights: Path, out: Path, dtype: str = "int8") -> Path:
    """Exported weights (any storage dtype) written again in `dtype`, with their training record."""
    from inpaint.weights import build_generator, read_checkpoint

    checkpoint = read_checkpoint(weights)
    training = dict(checkpoint.meta.get("training") or {})
    training["stored_from"] = {"file": weights.name, "dtype": checkpoint.meta.get("dtype", "?")}
    return save_checkpoint(build_generator(checkpoint).eval(), out, training=training, dtype=dtype)


def export_discriminator(run_dir: Path, out: Path) -> Path:
    """The run's discriminator as fp16 safetensors, with its width in the header."""
    from safetensors.torch import save_file

    state = load_state(run_dir)
    if state is None or not state.get("disc"):
        raise ValueError(f"{run_dir}: no discriminator in its training state (an L1-only recipe?)")
    recipe = Recipe.from_dict(state["recipe"])
    tensors = {k: v.half().contiguous() for k, v in state["disc"].items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"disc_width": str(recipe.loss.disc_width), "step": str(state["step"])})
    return out


def lineage(state: dict, training: dict) -> dict:
    """For a run started with `--init`: the weights it grew from, and totals over every stage."""
    init = state.get("init")
    if not init:
        return {}
    before = init.get("training", {})
    totals = {
        f"total_{key}": round(training[key] + before.get(f"total_{key}", before.get(key, 0)), 2)
        for key in ("steps", "images_seen", "wall_hours")
    }
    return {**totals, "initialised_from": {"file": init.get("file"), **before}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m release.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, help="a run directory (its last.pt), or exported .safetensors weights")
    p.add_argument("--out", required=True, type=Path, help="e.g. inpaint/checkpoints/default.safetensors")
    p.add_argument("--dtype", default="int8", choices=DTYPES,
                   help="storage: int8 kernels with per-channel scales (default; the shipped form), float16 or float32")
    p.add_argument("--raw", action="store_true", help="export the raw generator instead of its EMA")
    p.add_argument("--discriminator", action="store_true", help="export the run's discriminator (fp16) instead")
    args = p.parse_args(argv)
    try:
        if args.discriminator:
            path = export_discriminator(args.run_dir, args.out)
            print(f"wrote {path}")
            return 0
        if args.run_dir.suffix == ".safetensors":
            if args.raw:
                raise ValueError("--raw applies to a run directory, not to exported weights")
            path = restore(args.run_dir, args.out, dtype=args.dtype)
        else:
            path = export(args.run_dir, args.out, dtype=args.dtype, raw=args.raw)
    except (ValueError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
