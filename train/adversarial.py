"""The adversarial part of the generator's and the discriminator's losses (LaMa's recipe).

* Mask-aware targets: only the hole is fake. A composite's patch is scored fake in
  proportion to how much of it is hole (the hole, area-pooled to the score map) and real
  for the rest, so the discriminator learns what a *fill* looks like, not where the hole
  is; the generator is pushed only where it drew.
* Non-saturating logistic loss, and R1 (Mescheder et al. 2018): γ/2 · E‖∇ D(real)‖², on
  the real images only, lazily every `r1_every` steps with the weight scaled to match
  (StyleGAN2), the regulariser that keeps an unnormalised discriminator stable.
* Feature matching (pix2pixHD): L1 between the discriminator's hidden activations on the
  composite and on the real image, weighted by the hole at each layer's scale: a dense,
  stable signal that says *how* the fill differs from a photo.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .discriminator import PatchDiscriminator


@dataclass(frozen=True)
class R1:
    """The discriminator's regulariser: weight γ, applied every `every` steps (lazily)."""

    gamma: float = 1.0
    every: int = 4


def hole_fraction(hole: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The hole (B×1×H×W, 1 = generated) area-pooled to `like`'s spatial size."""
    return F.adaptive_avg_pool2d(hole.float(), like.shape[-2:])


def _masked_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (values * weight).sum() / weight.sum().clamp_min(1e-6)


def generator_terms(disc: PatchDiscriminator, comp: torch.Tensor, image: torch.Tensor, hole: torch.Tensor,
                    sketch: torch.Tensor) -> dict[str, torch.Tensor]:
    """{"g_adv", "feature_matching"} for the composite `comp` (gradients flow into it)."""
    fake, fake_features = disc(comp, hole, sketch)
    with torch.no_grad():
        _, real_features = disc(image, hole, sketch)
    g_adv = _masked_mean(F.softplus(-fake.float()), hole_fraction(hole, fake))
    matching = sum(_masked_mean((f.float() - r.float()).abs(), hole_fraction(hole, f))
                   for f, r in zip(fake_features, real_features)) / len(fake_features)
    return {"g_adv": g_adv, "feature_matching": matching}


def discriminator_terms(disc: PatchDiscriminator, comp: torch.Tensor, image: torch.Tensor, hole: torch.Tensor,
                        sketch: torch.Tensor, r1: R1, step: int) -> dict[str, torch.Tensor]:
    """{"d_real", "d_fake", "r1", "d_total"}; `comp` is detached here."""
    regularise = r1.gamma > 0 and step % r1.every == 0
    real_input = image.detach().requires_grad_(regularise)
    real, _ = disc(real_input, hole, sketch)
    fake, _ = disc(comp.detach(), hole, sketch)
    real, fake = real.float(), fake.float()
    fraction = hole_fraction(hole, fake)
    terms = {
        "d_real": F.softplus(-real).mean(),
        "d_fake": (fraction * F.softplus(fake) + (1 - fraction) * F.softplus(-fake)).mean(),
    }
    if regularise:
        (grad,) = torch.autograd.grad(real.sum(), real_input, create_graph=True)
        terms["r1"] = grad.float().pow(2).flatten(1).sum(1).mean() * (r1.gamma / 2 * r1.every)
    else:
        terms["r1"] = real.new_zeros(())
    terms["d_total"] = terms["d_real"] + terms["d_fake"] + terms["r1"]
    return terms
