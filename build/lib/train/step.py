"""One training step: the generator's update (+ EMA), then the discriminator's.

`TrainState` holds everything a step reads and updates; `train.fit` builds it, saves and
restores it, and calls `train_step` in its loop (so do the benchmarks, on a synthetic batch).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from inpaint.contract import composite
from inpaint.generator import SketchPConvUNet

from .adversarial import R1, discriminator_terms
from .config import Recipe
from .discriminator import PatchDiscriminator
from .losses import ReconstructionTerms
from .objective import generator_objective
from .state import update_ema


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN has bf16 kernels for this CPU (AVX-512 BF16 or AMX); elsewhere it emulates them."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return torch.backends.cpu.get_cpu_capability() not in ("DEFAULT", "AVX2")


def autocast(recipe: Recipe, device: torch.device):
    if recipe.run.precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@dataclass
class TrainState:
    """The networks, their optimizers and the step. `g_model`/`d_model` are what the step
    calls: the networks themselves, or their DDP wrappers when several processes train."""

    recipe: Recipe
    device: torch.device
    generator: SketchPConvUNet
    ema: SketchPConvUNet
    opt_g: torch.optim.Optimizer
    reconstruction: ReconstructionTerms
    disc: PatchDiscriminator | None = None
    opt_d: torch.optim.Optimizer | None = None
    g_model: torch.nn.Module | None = None
    d_model: torch.nn.Module | None = None
    step: int = 0

    def __post_init__(self) -> None:
        self.g_model = self.g_model or self.generator
        self.d_model = self.d_model or self.disc


def train_step(state: TrainState, batch: dict) -> tuple[bool, dict, torch.Tensor]:
    """One generator update (+ EMA) and one discriminator update at `state.step`; a
    non-finite loss or gradient skips the update. Returns (updated, loss terms with their
    `total`, the composite)."""
    recipe, loss = state.recipe, state.recipe.loss
    image, valid, guide = batch["image"], batch["valid"], batch["guide"]
    with autocast(recipe, state.device):
        pred = state.g_model(image, valid, guide)
        comp = composite(image, valid, pred)
        total, terms = generator_objective(loss, batch, pred, comp, state.reconstruction, state.d_model)
    terms["total"] = total
    state.opt_g.zero_grad(set_to_none=True)
    finite = bool(torch.isfinite(total))
    if finite:
        total.backward()
        limit = recipe.optim.clip or float("inf")
        terms["grad_norm"] = torch.nn.utils.clip_grad_norm_(state.generator.parameters(), limit)
        finite = bool(torch.isfinite(terms["grad_norm"]))
    if not finite:
        state.opt_g.zero_grad(set_to_none=True)
        return False, terms, comp
    state.opt_g.step()
    update_ema(state.ema, state.generator, recipe.optim.ema, state.step)

    if state.d_model is not None:  # real images against the composite; only its hole is fake (LaMa)
        with autocast(recipe, state.device):
            d_terms = discriminator_terms(state.d_model, comp, image, 1.0 - valid, guide.sketch,
                                          R1(loss.r1, loss.r1_every), state.step, loss.inked_fakes,
                                          1.0 - batch["mismatched"])
        state.opt_d.zero_grad(set_to_none=True)
        if torch.isfinite(d_terms["d_total"]):
            d_terms["d_total"].backward()
            state.opt_d.step()
        terms.update(d_terms)
    return True, terms, comp
