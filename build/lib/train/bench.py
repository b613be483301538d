"""Training throughput: `python -m train.bench [--steps 6] [--recipes cpu-small paper]`.

For each recipe and each resolution it trains at, the images per second of the full
training step (generator, its losses, the discriminator when the recipe has one, EMA),
the same with only the L1/TV terms (to show what the VGG losses cost), and the loader's
samples per second; each row in a fresh subprocess so its peak RSS is its own. The VGG
weights are random here: the cost does not depend on them.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from torch.utils.data import default_collate

from .config import load_recipe
from .data import batch_to, make_sample
from .fit import build_state, fit_precision_to_cpu
from .step import train_step


def _synthetic_pair(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    return image, rng.random((size, size)) < 0.03


def run_row(recipe_name: str, resolution: int, losses: str, steps: int) -> dict:
    recipe = load_recipe(recipe_name)
    if losses == "l1":
        recipe.loss.perceptual = recipe.loss.style = recipe.loss.adversarial = 0.0
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    fit_precision_to_cpu(recipe, device)  # measure what train.fit would run
    state = build_state(recipe, device, "random", world=1)
    state.generator.train()

    image, lines = _synthetic_pair(resolution, 0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    samples = [make_sample(image, lines, rng, resolution, recipe.data) for _ in range(recipe.data.batch_size * 4)]
    loader_rate = len(samples) / (time.perf_counter() - start)
    batch = default_collate(samples[: recipe.data.batch_size])
    batch = batch_to(batch, device, torch.channels_last if recipe.run.channels_last else torch.contiguous_format)

    times = []
    for _ in range(steps + 1):  # the first step warms up kernels and is not counted
        tick = time.perf_counter()
        train_step(state, batch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - tick)
    rate = recipe.data.batch_size / float(np.median(times[1:]))
    return {"recipe": recipe_name, "resolution": resolution, "losses": losses, "img_s": rate,
            "loader_img_s": loader_rate, "batch": recipe.data.batch_size,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--recipes", nargs="+", default=["cpu-small", "sharp", "paper"])
    p.add_argument("--row", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.row:
        print(json.dumps(run_row(args.row[0], int(args.row[1]), args.row[2], args.steps)))
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'CPU'} "
          f"({torch.backends.cpu.get_cpu_capability()})")
    print(f"{'recipe':<11}{'res':>5}{'batch':>6}{'losses':>8}{'train img/s':>13}{'loader img/s':>14}{'peak MB':>9}")
    for name in args.recipes:
        recipe = load_recipe(name)
        resolutions = sorted({r for r in (recipe.data.low_res, recipe.model.resolution) if r})
        if recipe.data.crop:  # samples are crops of the model-resolution image
            resolutions = [recipe.model.resolution]
        for resolution in resolutions:
            for losses in ("full", "l1"):
                cmd = [sys.executable, "-m", "train.bench", "--steps", str(args.steps), "--row", name,
                       str(resolution), losses]
                row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                print(f"{name:<11}{resolution:>5}{row['batch']:>6}{losses:>8}{row['img_s']:>13.1f}"
                      f"{row['loader_img_s']:>14.0f}{row['peak_mb']:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
