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
import contextlib
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
from .data import CacheSource, InpaintingSamples, StepBatches, open_source
from .adversarial import R1, discriminator_terms, generator_terms
from .discriminator import PatchDiscriminator
from .losses import InpaintingLoss, VGGFeatures, line_following
from .samples import sample_grid
from .state import init_weights, load_state, save_state, update_ema

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
                   help="a new run's discriminator starts from these weights (train.export --discriminator)")
    p.add_argument("--device", default="auto", help="cpu, cuda, or auto")
    p.add_argument("--threads", type=int, help="torch CPU threads (1 avoids OpenMP stalls on a busy machine)")
    p.add_argument("--vgg", default="auto",
                   help="VGG16 weights for the perceptual/style losses: auto, imagenet, hed, random, "
                        "or a .safetensors written by train.pack")
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


def autocast(recipe: Recipe, device: torch.device):
    if recipe.run.precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN has bf16 kernels for this CPU (AVX-512 BF16 or AMX); elsewhere it emulates them."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return torch.backends.cpu.get_cpu_capability() not in ("DEFAULT", "AVX2")


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


def train_step(generator, g_model, d_model, ema, opt_g, opt_d, criterion, batch, recipe: Recipe,
               device: torch.device, step: int) -> tuple[bool, dict]:
    """One generator update (+ EMA) and one discriminator update; a non-finite loss or
    gradient skips the update. Returns (updated, loss terms)."""
    hole = 1.0 - batch["valid"]
    loss = recipe.loss
    with autocast(recipe, device):
        pred = g_model(batch["image"], batch["valid"], batch["sketch"], batch["color"],
                       batch["color_mask"], batch["level"])
        truth = 1.0 - batch["mismatched"]  # 0 where the sketch is another face's part: no truth in the hole
        terms = criterion(batch["image"], batch["valid"], pred, truth)
        if loss.follow > 0:
            asked = torch.ones_like(truth) if loss.follow_oracle else batch["mismatched"]
            terms["follow"] = line_following(terms["comp"], batch["sketch"], hole, asked)
            terms["total"] = terms["total"] + loss.follow * terms["follow"]
        if d_model is not None:
            terms.update(generator_terms(d_model, terms["comp"], batch["image"], hole, batch["sketch"], truth))
            terms["total"] = (terms["total"] + loss.adversarial * terms["g_adv"]
                              + loss.feature_matching * terms["feature_matching"])
    opt_g.zero_grad(set_to_none=True)
    finite = bool(torch.isfinite(terms["total"]))
    if finite:
        terms["total"].backward()
        limit = recipe.optim.clip or float("inf")
        terms["grad_norm"] = torch.nn.utils.clip_grad_norm_(generator.parameters(), limit)
        finite = bool(torch.isfinite(terms["grad_norm"]))
    if not finite:
        opt_g.zero_grad(set_to_none=True)
        return False, terms
    opt_g.step()
    update_ema(ema, generator, recipe.optim.ema, step)

    if d_model is not None:  # real images against the composite; only its hole is fake (LaMa)
        r1 = R1(loss.r1, loss.r1_every)
        with autocast(recipe, device):
            d_terms = discriminator_terms(d_model, terms["comp"], batch["image"], hole, batch["sketch"], r1, step,
                                          loss.inked_fakes, truth)
        opt_d.zero_grad(set_to_none=True)
        if torch.isfinite(d_terms["d_total"]):
            d_terms["d_total"].backward()
            opt_d.step()
        terms.update(d_terms)
    return True, terms


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    rank, world, device = setup_distributed(args.device)
    main_process = rank == 0
    run_dir: Path = args.out
    state = load_state(run_dir) if args.resume else None
    if state is None and (run_dir / "last.pt").exists():
        raise SystemExit(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if args.resume and state is None:
        log.warning("--resume: nothing to resume in %s, starting a new run", run_dir)

    # -- recipe ----------------------------------------------------------------------------
    recipe = Recipe.from_dict(state["recipe"]) if state else load_recipe(args.recipe)
    for assignment in args.overrides:
        recipe.override(assignment)
    if args.steps is not None:
        recipe.optim.steps = args.steps
    recipe.validate()
    fit_precision_to_cpu(recipe, device)
    torch.manual_seed(recipe.run.seed)
    if main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2) + "\n")

    # -- data, models, losses, optimizers ------------------------------------------------------
    source = open_source(args.data, recipe.model.resolution)
    dataset = InpaintingSamples(source, recipe.model.resolution, recipe.data, recipe.run.seed)
    generator = SketchPConvUNet(recipe.model.generator_config())
    memory_format = torch.channels_last if recipe.run.channels_last else torch.contiguous_format
    generator = generator.to(device, memory_format=memory_format)
    ema = copy.deepcopy(generator).requires_grad_(False).eval()
    disc = None
    if recipe.loss.adversarial > 0:
        disc = PatchDiscriminator(width=recipe.loss.disc_width).to(device, memory_format=memory_format)
    features = VGGFeatures(args.vgg) if recipe.loss.perceptual > 0 or recipe.loss.style > 0 else None
    criterion = InpaintingLoss(recipe.loss, features).to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=recipe.optim.lr, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=recipe.optim.disc_lr, betas=(0.5, 0.999)) if disc else None

    step, skipped, images_seen, wall = 0, 0, 0, 0.0
    init = state.get("init") if state else None  # what a run started with --init grew from
    if state:
        generator.load_state_dict(state["generator"])
        ema.load_state_dict(state["ema"])
        opt_g.load_state_dict(state["opt_g"])
        if disc is not None and state.get("disc"):
            disc.load_state_dict(state["disc"])
            opt_d.load_state_dict(state["opt_d"])
        torch.set_rng_state(state["torch_rng"])
        step, skipped, images_seen, wall = state["step"], state["skipped"], state["images_seen"], state["wall"]
        log.info("resumed %s at step %d", run_dir, step)
    elif args.init is not None:
        from inpaint.weights import read_checkpoint

        checkpoint = read_checkpoint(args.init)
        mine = generator.config
        if dataclasses.replace(checkpoint.config, upsample=mine.upsample, sketch_from=mine.sketch_from) != mine:
            raise SystemExit(f"--init {args.init}: its architecture {checkpoint.config} is not the recipe's")
        try:
            weights = init_weights(checkpoint.state_dict, generator)
        except ValueError as exc:
            raise SystemExit(f"--init {args.init}: {exc}") from exc
        generator.load_state_dict(weights)
        ema.load_state_dict(weights)
        init = {"file": args.init.name, "training": checkpoint.meta.get("training") or {}}
        log.info("new run initialised from %s", args.init)
    if not state and args.init_disc is not None:
        if disc is None:
            raise SystemExit(f"--init-disc {args.init_disc}: this recipe has no discriminator (loss.adversarial = 0)")
        from safetensors.torch import load_file

        try:
            disc.load_state_dict({k: v.float() for k, v in load_file(str(args.init_disc)).items()})
        except (RuntimeError, OSError) as exc:
            raise SystemExit(f"--init-disc {args.init_disc}: {str(exc).splitlines()[0]}") from None
        log.info("discriminator initialised from %s", args.init_disc)

    g_model = DistributedDataParallel(generator) if world > 1 else generator
    d_model = DistributedDataParallel(disc) if world > 1 and disc is not None else disc
    writer = None
    if main_process:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run_dir / "tb"))
        log.info("recipe %s, %d images (%s edges), VGG: %s, device %s × %d",
                 recipe.name, len(source), getattr(source, "detector", "?"),
                 features.source if features else "unused", device, world)

    def snapshot() -> dict:
        return {
            "step": step, "skipped": skipped, "images_seen": images_seen, "wall": wall,
            "generator": generator.state_dict(), "ema": ema.state_dict(), "opt_g": opt_g.state_dict(),
            "disc": disc.state_dict() if disc else {}, "opt_d": opt_d.state_dict() if opt_d else {},
            "torch_rng": torch.get_rng_state(), "recipe": recipe.to_dict(),
            "vgg": features.source if features else "unused", "data_size": len(source),
            "edges": getattr(source, "detector", "?"), "world": world, "device": str(device), "init": init,
        }

    validation = None
    if main_process and recipe.run.validate_every:
        validation = make_validation(args.data, recipe)

    def validate() -> None:
        scores = validation.run(ema)
        for name, value in scores.items():
            writer.add_scalar(f"val/{name}", value, step)
        with open(run_dir / "validation.jsonl", "a") as handle:
            handle.write(json.dumps({"step": step, **{k: round(v, 4) for k, v in scores.items()}}) + "\n")
        log.info("step %d validation: %s", step, ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))

    if validation is not None and not state:
        validate()  # where the run starts from
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally` on a kill

    # -- the loop ------------------------------------------------------------------------------
    loader, loader_res = None, None
    progress = tqdm(total=recipe.optim.steps, initial=step, disable=not main_process, unit="step", dynamic_ncols=True)
    window_start, window_images = time.perf_counter(), 0
    try:
        deadline = time.monotonic() + 60 * args.minutes if args.minutes else float("inf")
        while step < recipe.optim.steps and time.monotonic() < deadline:
            tick = time.perf_counter()
            resolution = resolution_at(recipe, step)
            if resolution != loader_res:
                dataset.resolution = resolution
                loader, loader_res = make_loader(dataset, recipe, step, rank, world), resolution
            batch = {k: v.to(device, non_blocking=True) for k, v in next(loader).items()}
            for key in ("image", "valid", "sketch", "color", "color_mask"):
                batch[key] = batch[key].contiguous(memory_format=memory_format)
            lr = warmed(lr_at(recipe, step), recipe, step)
            for group in opt_g.param_groups:
                group["lr"] = lr
            if opt_d is not None:
                for group in opt_d.param_groups:
                    group["lr"] = warmed(recipe.optim.disc_lr, recipe, step)
            generator.freeze_encoder_bn = step >= recipe.optim.finetune_from
            generator.train()

            finite, terms = train_step(generator, g_model, d_model, ema, opt_g, opt_d, criterion, batch, recipe, device,
                                       step)
            if not finite:
                skipped += 1
                log.warning("step %d: non-finite loss or gradient, update skipped (%d so far)", step, skipped)

            step += 1
            images_seen += batch["image"].shape[0] * world
            window_images += batch["image"].shape[0] * world
            wall += time.perf_counter() - tick
            if main_process:
                progress.update(1)
                if step % recipe.run.log_every == 0 or step == recipe.optim.steps:
                    rate = window_images / (time.perf_counter() - window_start)
                    window_start, window_images = time.perf_counter(), 0
                    progress.set_postfix(loss=f"{float(terms['total'].detach()):.3f}", img_s=f"{rate:.1f}", res=resolution)
                    for name, value in terms.items():
                        if name != "comp" and torch.is_tensor(value) and value.numel() == 1:
                            writer.add_scalar(f"loss/{name}", float(value.detach()), step)
                    writer.add_scalar("train/lr", lr, step)
                    writer.add_scalar("train/img_per_s", rate, step)
                    writer.add_scalar("train/skipped", skipped, step)
                if step % recipe.run.sample_every == 0:
                    grid = sample_grid(batch, terms["comp"].detach())
                    writer.add_image("samples", grid, step)
                    (run_dir / "samples").mkdir(exist_ok=True)
                    from torchvision.utils import save_image

                    save_image(grid, run_dir / "samples" / f"{step:07d}.png")
                if validation is not None and step % recipe.run.validate_every == 0:
                    validate()
                if step % recipe.run.checkpoint_every == 0:
                    save_state(run_dir, snapshot())
    finally:
        loader = None  # stop the loader's workers before the last save, so none can die during it
        if main_process:
            save_state(run_dir, snapshot())
            progress.close()
            if writer is not None:
                writer.close()
            log.info("saved %s at step %d (%d images, %.0f s)", run_dir / "last.pt", step, images_seen, wall)
        signal.signal(signal.SIGTERM, previous_handler)
        if world > 1:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
