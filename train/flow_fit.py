"""Train the reshape's flow network (`inpaint.flownet`), self-supervised on the training faces.

    python -m train.flow_fit --cache ~/.cache/sketchface/data/faces256-aligned-hed-2k \
        --run ~/.cache/sketchface/runs/flow/f1 --steps 6000 [--export inpaint/checkpoints/flow.safetensors]

Each sample is a face, a random smooth move of one of its parts and the moved face's lines
as a user gives them (`train.flow_data`). The loss, each term added explicitly:

* field: L1 between the predicted and the true backward field, over the hole;
* pixels: L1 between the face pulled through the predicted field and the moved face, over the hole;
* smooth: L1 of the predicted field's spatial differences, over the hole.

Held-out faces (`train.data`'s split) are scored at fixed steps: the end-point error over
the hole, beside the error of predicting no move. TensorBoard logs go to the run folder;
the run resumes from its last state. bf16 autocast where the CPU has it natively.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from inpaint.flownet import FlowNet, FlowNetConfig
from inpaint.flowweights import save_flow_weights

from .data import CacheSource
from .flow_data import FlowSamples
from .state import load_state, save_state

FIELD_WEIGHT, PIXEL_WEIGHT, SMOOTH_WEIGHT = 1.0, 5.0, 0.1
VAL_SAMPLES = 96


def schedule(step: int, steps: int, warmup: int = 200) -> float:
    """The learning rate's factor: a linear warm-up, then a cosine to zero at `steps`."""
    return float(min(1.0, (step + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * min(1.0, step / steps))))


def pull(image: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
    """image N×C×H×W sampled at p + field[p] (field N×2×H×W in px)."""
    n, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=field.dtype), torch.arange(w, dtype=field.dtype), indexing="ij")
    gx = (xs + field[:, 0]) / (w - 1) * 2 - 1
    gy = (ys + field[:, 1]) / (h - 1) * 2 - 1
    return F.grid_sample(image, torch.stack([gx, gy], -1), mode="bilinear", padding_mode="border", align_corners=True)


def fade(hole: torch.Tensor) -> torch.Tensor:
    """1 inside the hole, 0 on its edge pixels and beyond: a 3×3 erosion of the hole, what the
    shipped weights were trained with (`inpaint.reshape.fade`, applied at inference, is 0.5 on
    the edge pixels)."""
    return -F.max_pool2d(-hole, 3, 1, 1)


def losses(net: FlowNet, batch: dict[str, torch.Tensor], autocast: bool) -> dict[str, torch.Tensor]:
    hole = batch["hole"]
    area = hole.sum().clamp(min=1)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        predicted = net(batch["inputs"])
    predicted = predicted.float() * fade(hole)
    field = ((predicted - batch["field"]).abs().sum(1, keepdim=True) * hole).sum() / area
    pixels = ((pull(batch["source"], predicted) - batch["target"]).abs().mean(1, keepdim=True) * hole).sum() / area
    dx = (predicted[..., :, 1:] - predicted[..., :, :-1]).abs().sum(1, keepdim=True) * hole[..., :, 1:]
    dy = (predicted[..., 1:, :] - predicted[..., :-1, :]).abs().sum(1, keepdim=True) * hole[..., 1:, :]
    smooth = (dx.sum() + dy.sum()) / area
    return {"field": field, "pixels": pixels, "smooth": smooth,
            "total": FIELD_WEIGHT * field + PIXEL_WEIGHT * pixels + SMOOTH_WEIGHT * smooth}


@torch.no_grad()
def validate(net: FlowNet, batches: list[dict[str, torch.Tensor]], autocast: bool) -> dict[str, float]:
    """End-point error over the hole (px), and that of predicting no move."""
    net.eval()
    errors, still = [], []
    for batch in batches:
        hole = batch["hole"][:, 0] > 0
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            predicted = net(batch["inputs"]).float() * fade(batch["hole"])
        errors.append(torch.linalg.vector_norm(predicted - batch["field"], dim=1)[hole])
        still.append(torch.linalg.vector_norm(batch["field"], dim=1)[hole])
    net.train()
    return {"epe": float(torch.cat(errors).mean()), "epe_still": float(torch.cat(still).mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.flow_fit", description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="a train.prepare cache with landmarks")
    parser.add_argument("--run", type=Path, required=True, help="run folder (resumed when it holds a state)")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--every", type=int, default=250, help="validate and save every this many steps")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export", type=Path, help="write the final weights here (safetensors)")
    args = parser.parse_args(argv)

    from torch.utils.tensorboard import SummaryWriter

    from .step import cpu_has_native_bf16

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    autocast = cpu_has_native_bf16()
    net = FlowNet(FlowNetConfig())
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: schedule(step, args.steps))
    args.run.mkdir(parents=True, exist_ok=True)
    step = 0
    if (state := load_state(args.run)) is not None:
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
    train = FlowSamples(CacheSource(args.cache, "train"), seed=args.seed)
    val = FlowSamples(CacheSource(args.cache, "val"), seed=10**6 + args.seed)
    val_batches = [torch.utils.data.default_collate([val[n] for n in range(i, i + args.batch)])
                   for i in range(0, VAL_SAMPLES, args.batch)]
    order = torch.utils.data.Subset(train, range(step * args.batch, args.steps * args.batch))
    loader = torch.utils.data.DataLoader(order, batch_size=args.batch, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    writer = SummaryWriter(args.run / "tb")
    print(f"flow net: {sum(p.numel() for p in net.parameters()):,} parameters, bf16 autocast {autocast}, "
          f"from step {step}", flush=True)
    clock, first = time.perf_counter(), step
    scores: dict[str, float] = {}
    with tqdm(total=args.steps, initial=step, desc="flow net", mininterval=30) as progress:
        for batch in loader:
            terms = losses(net, batch, autocast)
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            progress.update(1)
            for name, value in terms.items():
                writer.add_scalar(f"train/{name}", float(value.detach()), step)
            if step % args.every == 0 or step == args.steps:
                scores = validate(net, val_batches, autocast)
                for name, value in scores.items():
                    writer.add_scalar(f"val/{name}", value, step)
                rate = ((step - first) * args.batch) / max(1e-6, time.perf_counter() - clock)
                print(f"step {step} images {step * args.batch}: val EPE {scores['epe']:.3f} px "
                      f"(no move {scores['epe_still']:.3f}); train field {terms['field'].item():.3f} "
                      f"pixels {terms['pixels'].item():.4f}; {rate:.1f} img/s", flush=True)
                save_state(args.run, {"net": net.state_dict(), "optimizer": optimizer.state_dict(),
                                      "scheduler": scheduler.state_dict(), "step": step})
                save_flow_weights(net, args.run / f"flow-{step:06d}.safetensors")
    writer.close()
    if args.export is not None:
        summary = {"steps": step, "batch": args.batch, "images": step * args.batch, "lr": args.lr,
                   "seed": args.seed, "cache": str(args.cache), "bf16": autocast, **scores}
        save_flow_weights(net, args.export, summary)
        print(f"wrote {args.export}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
