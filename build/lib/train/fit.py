"""Train the sketch-guided PConv U-Net.

    python -m train.fit --data CACHE_OR_DIR --recipe cpu-small --out RUN_DIR [--steps N] [--resume] [key=value …]
    torchrun --nproc_per_node=N -m train.fit …        (DDP: gloo on CPU, NCCL on GPUs)

Readable top to bottom: set-up, then one loop of (generator step, discriminator step, EMA,
logging, checkpoint). Phase 1 trains with BN on; from `finetune_from` the encoder's BN is
frozen and the learning rate drops (Liu et al.). A checkpoint is written every
`checkpoint_every` steps and on exit (also on Ctrl-C / SIGTERM); `--resume` continues
exactly where it stopped.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from inpaint.generator import SketchPConvUNet

from .config import Recipe, load_recipe
from .data import CacheSource, InpaintingSamples, StepBatches, batch_to, open_source
from .discriminator import PatchDiscriminator
from .losses import ReconstructionTerms, VGGFeatures
from .samples import sample_grid
from .state import init_weights, load_state, save_state
from .step import TrainState, cpu_has_native_bf16, train_step

log = logging.getLogger("train")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m train.fit", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a cache from train.prepare, or a folder of images")
    p.add_argument("--recipe", default="cpu-small", help="recipe name (train/recipes/NAME.toml) or path")
    p.add_argument("--out", required=True, type=Path, help="run directory (checkpoints, TensorBoard, samples)")
    p.add_argument("--steps", type=int, help="train until this step (overrides optim.steps)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--init", type=Path, help="a new run starts from these exported weights (.safetensors)")
    p.add_argument("--init-disc", type=Path,
                   help="a new run's discriminator starts from these weights (release.export --discriminator)")
    p.add_argument("--device", default="auto", help="cpu, cuda, or auto")
    p.add_argument("--threads", type=int, help="torch CPU threads (1 avoids OpenMP stalls on a busy machine)")
    p.add_argument("--vgg", default="auto",
                   help="VGG16 weights for the perceptual/style losses: auto, imagenet, hed, random, "
                        "or a .safetensors written by release.pack")
    p.add_argument("--minutes", type=float, help="stop (and save) after this much wall-clock time")
    p.add_argument("overrides", nargs="*", help="recipe overrides, e.g. batch_size=4 loss.adversarial=0.1")
    return p.parse_args(argv)


def setup_distributed(device_arg: str) -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available() and device_arg in ("auto", "cuda")
    if world > 1:
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def fit_precision_to_cpu(recipe: Recipe, device: torch.device) -> None:
    """On a CPU without native bf16 (AVX2 only), bf16 autocast is emulated: a 256-px
    `cpu-small` step took 40 s instead of 5 s in fp32. Fall back to fp32 there, and to
    contiguous tensors, which ran 20 % faster than channels_last in fp32 on that CPU."""
    if device.type != "cpu" or recipe.run.precision != "bf16" or cpu_has_native_bf16():
        return
    log.warning("this CPU has no native bf16 (%s): training in fp32 with contiguous tensors instead",
                torch.backends.cpu.get_cpu_capability())
    recipe.run.precision = "fp32"
    recipe.run.channels_last = False


def resolution_at(recipe: Recipe, step: int) -> int:
    if recipe.data.low_res and step < recipe.data.low_res_steps:
        return recipe.data.low_res
    return recipe.model.resolution


def lr_at(recipe: Recipe, step: int) -> float:
    """Phase 1: lr. Fine-tuning: lr_finetune, annealed (half cosine) to 0 at anneal_to if set."""
    o = recipe.optim
    if step < o.finetune_from:
        return o.lr
    if o.anneal_to <= o.finetune_from:
        return o.lr_finetune
    progress = min(1.0, (step - o.finetune_from) / (o.anneal_to - o.finetune_from))
    return o.lr_finetune * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_loader(dataset: InpaintingSamples, recipe: Recipe, step: int, rank: int, world: int):
    d = recipe.data
    batches = StepBatches(step, d.batch_size, rank, world, d.full_every if d.crop else 0, d.full_batch)
    workers = recipe.data.workers
    # Workers start from a fork server, not a fork of this process: a child forked after the
    # parent ran multi-threaded OpenMP (torch with 2+ threads) hangs in its first parallel op.
    return iter(DataLoader(dataset, batch_sampler=batches, num_workers=workers,
                           persistent_workers=False, prefetch_factor=4 if workers else None,
                           worker_init_fn=_init_worker if workers else None,
                           multiprocessing_context="forkserver" if workers else None))


def _init_worker(_: int) -> None:
    """Loader workers do NumPy/OpenCV work on one thread each (more threads only contend), and
    ignore SIGTERM: a kill sent to the whole process group (`pkill -f`, `kill -- -PGID`, a job
    scheduler) must reach only the main process, which saves and then shuts them down; a worker
    dying first would abort that save."""
    import cv2

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def warmed(lr: float, recipe: Recipe, step: int) -> float:
    """Linear warm-up over the first `optim.warmup` steps of this run's schedule."""
    warmup = recipe.optim.warmup
    return lr * min(1.0, (step + 1) / warmup) if warmup else lr


def make_validation(data: str, recipe: Recipe):
    """The in-loop validation on the cache's held-out faces, or None (with a warning) without them."""
    from .validation import Validation

    try:
        source = open_source(data, recipe.model.resolution, split="val")
        if not isinstance(source, CacheSource):
            raise ValueError("in-loop validation needs a prepared cache (held-out faces with landmarks)")
        return Validation(source, recipe.run.validate_images)
    except ValueError as exc:
        log.warning("no in-loop validation: %s", exc)
        return None


def read_recipe(args: argparse.Namespace, saved: dict | None, device: torch.device) -> Recipe:
    """The run's recipe: a resumed run's own, else the named one; then the command line's overrides."""
    recipe = Recipe.from_dict(saved["recipe"]) if saved else load_recipe(args.recipe)
    for assignment in args.overrides:
        recipe.override(assignment)
    if args.steps is not None:
        recipe.optim.steps = args.steps
    recipe.validate()
    fit_precision_to_cpu(recipe, device)
    return recipe


def build_state(recipe: Recipe, device: torch.device, vgg: str, world: int) -> TrainState:
    """Fresh networks, optimizers and loss terms for `recipe` (DDP-wrapped when `world` > 1)."""
    memory_format = torch.channels_last if recipe.run.channels_last else torch.contiguous_format
    generator = SketchPConvUNet(recipe.model.generator_config()).to(device, memory_format=memory_format)
    ema = copy.deepcopy(generator).requires_grad_(False).eval()
    disc = opt_d = None
    if recipe.loss.adversarial > 0:
        disc = PatchDiscriminator(width=recipe.loss.disc_width).to(device, memory_format=memory_format)
        opt_d = torch.optim.Adam(disc.parameters(), lr=recipe.optim.disc_lr, betas=(0.5, 0.999))
    features = VGGFeatures(vgg) if recipe.loss.perceptual > 0 or recipe.loss.style > 0 else None
    reconstruction = ReconstructionTerms(features, recipe.loss.perceptual_size).to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=recipe.optim.lr, betas=(0.9, 0.999))
    g_model = DistributedDataParallel(generator) if world > 1 else None
    d_model = DistributedDataParallel(disc) if world > 1 and disc is not None else None
    return TrainState(recipe, device, generator, ema, opt_g, reconstruction, disc, opt_d, g_model, d_model)


def restore(state: TrainState, saved: dict) -> dict:
    """`state` as a saved run left it; returns the run's counters."""
    state.generator.load_state_dict(saved["generator"])
    state.ema.load_state_dict(saved["ema"])
    state.opt_g.load_state_dict(saved["opt_g"])
    if state.disc is not None and saved.get("disc"):
        state.disc.load_state_dict(saved["disc"])
        state.opt_d.load_state_dict(saved["opt_d"])
    torch.set_rng_state(saved["torch_rng"])
    state.step = saved["step"]
    return {k: saved[k] for k in ("skipped", "images_seen", "wall")}


def initialise(state: TrainState, init: Path | None, init_disc: Path | None) -> dict | None:
    """A new run's networks from exported weights (`--init`, `--init-disc`); returns what it
    grew from, for the run's record."""
    grew_from = None
    if init is not None:
        from inpaint.weights import read_checkpoint

        checkpoint = read_checkpoint(init)
        mine = state.generator.config
        if dataclasses.replace(checkpoint.config, upsample=mine.upsample, sketch_from=mine.sketch_from) != mine:
            raise SystemExit(f"--init {init}: its architecture {checkpoint.config} is not the recipe's")
        try:
            weights = init_weights(checkpoint.state_dict, state.generator)
        except ValueError as exc:
            raise SystemExit(f"--init {init}: {exc}") from exc
        state.generator.load_state_dict(weights)
        state.ema.load_state_dict(weights)
        grew_from = {"file": init.name, "training": checkpoint.meta.get("training") or {}}
        log.info("new run initialised from %s", init)
    if init_disc is not None:
        if state.disc is None:
            raise SystemExit(f"--init-disc {init_disc}: this recipe has no discriminator (loss.adversarial = 0)")
        from safetensors.torch import load_file

        try:
            state.disc.load_state_dict({k: v.float() for k, v in load_file(str(init_disc)).items()})
        except (RuntimeError, OSError) as exc:
            raise SystemExit(f"--init-disc {init_disc}: {str(exc).splitlines()[0]}") from None
        log.info("discriminator initialised from %s", init_disc)
    return grew_from


def snapshot(state: TrainState, counters: dict, record: dict) -> dict:
    """What `save_state` writes: networks, optimizers, RNG, counters and the run's record."""
    return {
        "step": state.step, **counters,
        "generator": state.generator.state_dict(), "ema": state.ema.state_dict(), "opt_g": state.opt_g.state_dict(),
        "disc": state.disc.state_dict() if state.disc else {}, "opt_d": state.opt_d.state_dict() if state.opt_d else {},
        "torch_rng": torch.get_rng_state(), "recipe": state.recipe.to_dict(), **record,
    }


def set_learning_rates(state: TrainState) -> float:
    recipe, step = state.recipe, state.step
    lr = warmed(lr_at(recipe, step), recipe, step)
    for group in state.opt_g.param_groups:
        group["lr"] = lr
    if state.opt_d is not None:
        for group in state.opt_d.param_groups:
            group["lr"] = warmed(recipe.optim.disc_lr, recipe, step)
    return lr


class RunLog:
    """What the main process writes while it trains: TensorBoard scalars, sample grids and the
    in-loop validation (`validation.jsonl`)."""

    def __init__(self, run_dir: Path, recipe: Recipe, validation, world: int = 1):
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir, self.recipe, self.validation, self.world = run_dir, recipe, validation, world
        self.writer = SummaryWriter(str(run_dir / "tb"))
        self.window_start, self.window_images = time.perf_counter(), 0

    def step(self, state: TrainState, terms: dict, comp: torch.Tensor, batch: dict, lr: float, skipped: int,
             progress: tqdm) -> None:
        step, run = state.step, self.recipe.run
        self.window_images += batch["image"].shape[0] * self.world
        progress.update(1)
        if step % run.log_every == 0 or step == self.recipe.optim.steps:
            rate = self.window_images / (time.perf_counter() - self.window_start)
            self.window_start, self.window_images = time.perf_counter(), 0
            progress.set_postfix(loss=f"{float(terms['total'].detach()):.3f}", img_s=f"{rate:.1f}",
                                 res=batch["image"].shape[-1])
            for name, value in terms.items():
                if torch.is_tensor(value) and value.numel() == 1:
                    self.writer.add_scalar(f"loss/{name}", float(value.detach()), step)
            for name, value in (("lr", lr), ("img_per_s", rate), ("skipped", skipped)):
                self.writer.add_scalar(f"train/{name}", value, step)
        if step % run.sample_every == 0:
            from torchvision.utils import save_image

            grid = sample_grid(batch, comp.detach())
            self.writer.add_image("samples", grid, step)
            (self.run_dir / "samples").mkdir(exist_ok=True)
            save_image(grid, self.run_dir / "samples" / f"{step:07d}.png")
        if self.validation is not None and step % run.validate_every == 0:
            self.validate(state)

    def validate(self, state: TrainState) -> None:
        scores = self.validation.run(state.ema)
        for name, value in scores.items():
            self.writer.add_scalar(f"val/{name}", value, state.step)
        with open(self.run_dir / "validation.jsonl", "a") as handle:
            handle.write(json.dumps({"step": state.step, **{k: round(v, 4) for k, v in scores.items()}}) + "\n")
        log.info("step %d validation: %s", state.step, ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))

    def close(self) -> None:
        self.writer.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    rank, world, device = setup_distributed(args.device)
    main_process = rank == 0
    run_dir: Path = args.out
    saved = load_state(run_dir) if args.resume else None
    if saved is None and (run_dir / "last.pt").exists():
        raise SystemExit(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if args.resume and saved is None:
        log.warning("--resume: nothing to resume in %s, starting a new run", run_dir)

    recipe = read_recipe(args, saved, device)
    torch.manual_seed(recipe.run.seed)
    if main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2) + "\n")
    source = open_source(args.data, recipe.model.resolution)
    dataset = InpaintingSamples(source, recipe.model.resolution, recipe.data, recipe.run.seed)
    state = build_state(recipe, device, args.vgg, world)
    if saved:
        counters, grew_from = restore(state, saved), saved.get("init")
        log.info("resumed %s at step %d", run_dir, state.step)
    else:
        counters, grew_from = {"skipped": 0, "images_seen": 0, "wall": 0.0}, initialise(state, args.init, args.init_disc)
    features = state.reconstruction.features
    record = {"vgg": features.source if features else "unused", "data_size": len(source),
              "edges": getattr(source, "detector", "?"), "world": world, "device": str(device), "init": grew_from}
    memory_format = torch.channels_last if recipe.run.channels_last else torch.contiguous_format

    run_log = None
    if main_process:
        validation = make_validation(args.data, recipe) if recipe.run.validate_every else None
        run_log = RunLog(run_dir, recipe, validation, world)
        log.info("recipe %s, %d images (%s edges), VGG: %s, device %s × %d",
                 recipe.name, len(source), record["edges"], record["vgg"], device, world)
        if validation is not None and not saved:
            run_log.validate(state)  # where the run starts from
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally` on a kill

    loader, loader_res = None, None
    progress = tqdm(total=recipe.optim.steps, initial=state.step, disable=not main_process, unit="step",
                    dynamic_ncols=True)
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else float("inf")
    try:
        while state.step < recipe.optim.steps and time.monotonic() < deadline:
            tick = time.perf_counter()
            resolution = resolution_at(recipe, state.step)
            if resolution != loader_res:
                dataset.resolution = resolution
                loader, loader_res = make_loader(dataset, recipe, state.step, rank, world), resolution
            batch = batch_to(next(loader), device, memory_format)
            lr = set_learning_rates(state)
            state.generator.freeze_encoder_bn = state.step >= recipe.optim.finetune_from
            state.generator.train()

            updated, terms, comp = train_step(state, batch)
            if not updated:
                counters["skipped"] += 1
                log.warning("step %d: non-finite loss or gradient, update skipped (%d so far)",
                            state.step, counters["skipped"])
            state.step += 1
            counters["images_seen"] += batch["image"].shape[0] * world
            counters["wall"] += time.perf_counter() - tick
            if run_log is not None:
                run_log.step(state, terms, comp, batch, lr, counters["skipped"], progress)
                if state.step % recipe.run.checkpoint_every == 0:
                    save_state(run_dir, snapshot(state, counters, record))
    finally:
        loader = None  # stop the loader's workers before the last save, so none can die during it
        if main_process:
            save_state(run_dir, snapshot(state, counters, record))
            progress.close()
            run_log.close()
            log.info("saved %s at step %d (%d images, %.0f s)", run_dir / "last.pt", state.step,
                     counters["images_seen"], counters["wall"])
        signal.signal(signal.SIGTERM, previous_handler)
        if world > 1:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
