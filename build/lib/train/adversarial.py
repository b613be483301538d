"""The adversarial part of the generator's and the discriminator's losses (LaMa's recipe).

* Mask-aware targets: only the hole is fake. A composite's patch is scored fake in
  proportion to how much of it is hole (the hole, area-pooled to the score map) and real
  for the rest, so the discriminator learns what a *fill* looks like, not where the hole
  is; the generator is pushed only where it drew.
* Non-saturating logistic loss, and R1 (Mescheder et al. 2018): γ/2 · E‖∇ D(real)‖², on
  the real images only, lazily every `r1_every` steps with the weight scaled to match
  (StyleGAN2), the regulariser that keeps an unnormalised discriminator stable.
* Inked fakes (optional, `inked_fakes`): the real image with its own sketch painted onto
  the hole as soft dark strokes is shown as a fake too. Edge F1 against the drawing rewards
  exactly that ink, and a discriminator that sees the sketch could even learn that dark
  pixels on the lines mean "real"; this teaches it that a line drawn as ink is not a photo.
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


def paint_ink(image: torch.Tensor, hole: torch.Tensor, sketch: torch.Tensor, generator: torch.Generator | None = None
              ) -> torch.Tensor:
    """`image` with `sketch` painted onto the hole as soft strokes 2–3 px wide, each sample in
    its own dark colour and strength (how a fill that inks its sketch looks)."""
    b = image.shape[0]
    line = sketch.float()
    stroke = torch.maximum(line, 0.5 * F.max_pool2d(line, 3, stride=1, padding=1)) * hole.float()  # soft edges
    strength = 0.45 + 0.45 * torch.rand(b, 1, 1, 1, generator=generator).to(image.device)
    ink = -1.0 + 0.5 * torch.rand(b, 3, 1, 1, generator=generator).to(image.device)  # dark, a random hue
    alpha = (stroke * strength).to(image.dtype)
    return image * (1 - alpha) + ink.to(image.dtype) * alpha


def _per_sample(weight: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | float:
    return 1.0 if weight is None else weight.float().reshape(-1, 1, 1, 1).to(like.device)


def generator_terms(disc: PatchDiscriminator, comp: torch.Tensor, image: torch.Tensor, hole: torch.Tensor,
                    sketch: torch.Tensor, truth: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """{"g_adv", "feature_matching"} for the composite `comp` (gradients flow into it).
    Feature matching compares with `image`, so it skips samples whose `truth` (B) is 0."""
    fake, fake_features = disc(comp, hole, sketch)
    with torch.no_grad():
        _, real_features = disc(image, hole, sketch)
    g_adv = _masked_mean(F.softplus(-fake.float()), hole_fraction(hole, fake))
    keep = _per_sample(truth, hole)
    matching = sum(_masked_mean((f.float() - r.float()).abs(), hole_fraction(hole, f) * keep)
                   for f, r in zip(fake_features, real_features)) / len(fake_features)
    return {"g_adv": g_adv, "feature_matching": matching}


def discriminator_terms(disc: PatchDiscriminator, comp: torch.Tensor, image: torch.Tensor, hole: torch.Tensor,
                        sketch: torch.Tensor, r1: R1, step: int, inked_fakes: float = 0.0,
                        truth: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """{"d_real", "d_fake", "d_inked", "r1", "d_total"}; `comp` is detached here. With
    `inked_fakes` > 0 the real image inked with its sketch (`paint_ink`) is a fake too,
    with that weight (only where the sketch has lines in the hole). Where `truth` (B) is 0
    the sketch is not the real image's, so the real image is shown without it."""
    regularise = r1.gamma > 0 and step % r1.every == 0
    real_input = image.detach().requires_grad_(regularise)
    real, _ = disc(real_input, hole, sketch * _per_sample(truth, sketch))
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
    terms["d_inked"] = real.new_zeros(())
    own = sketch * _per_sample(truth, sketch)  # a real face inked with its own lines
    if inked_fakes > 0 and bool((own * hole).any()):
        inked, _ = disc(paint_ink(image.detach(), hole, own), hole, own)
        lined = hole_fraction((own * hole > 0).float(), inked) > 0  # score-map cells whose patch holds a line
        terms["d_inked"] = _masked_mean(F.softplus(inked.float()), lined.float())
    terms["d_total"] = terms["d_real"] + terms["d_fake"] + terms["r1"] + inked_fakes * terms["d_inked"]
    return terms
