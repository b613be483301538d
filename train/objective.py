"""The generator's objective: every term, each with its recipe weight, added in one place.

    total = valid·L1_known + hole·L1_hole + perceptual·L_perc + style·L_style + tv·L_tv
          + structure·(1 − SSIM_hole) + follow·L_lines + adversarial·L_adv + feature_matching·L_fm

The terms themselves live where their maths is: train/losses.py (reconstruction, lines) and
train/adversarial.py (the discriminator's). A weight of 0 leaves its term out of the total;
a term whose network is absent (no VGG, no discriminator) is not computed at all.
"""
from __future__ import annotations

import torch

from .adversarial import generator_terms
from .config import LossSection
from .discriminator import PatchDiscriminator
from .losses import ReconstructionTerms, line_following, structure_loss


def generator_objective(
    w: LossSection, batch: dict, pred: torch.Tensor, comp: torch.Tensor,
    reconstruction: ReconstructionTerms, disc: PatchDiscriminator | None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(total, terms) for one batch: `pred` the network's output, `comp` its composite."""
    image, valid, sketch = batch["image"], batch["valid"], batch["guide"].sketch
    hole = 1.0 - valid
    truth = 1.0 - batch["mismatched"]  # 0 where the sketch is another face's part: no truth in the hole
    terms = reconstruction(image, valid, pred, comp, truth)
    total = w.valid * terms["valid"] + w.hole * terms["hole"] + w.tv * terms["tv"]
    if "perceptual" in terms:
        total = total + w.perceptual * terms["perceptual"] + w.style * terms["style"]
    if w.structure > 0:
        terms["structure"] = structure_loss(comp, image, hole, truth, colour=w.structure_colour)
        total = total + w.structure * terms["structure"]
    if w.follow > 0:
        asked = torch.ones_like(truth) if w.follow_oracle else batch["mismatched"]
        terms["follow"] = line_following(comp, sketch, hole, asked)
        total = total + w.follow * terms["follow"]
    if disc is not None:
        terms.update(generator_terms(disc, comp, image, hole, sketch, truth))
        total = total + w.adversarial * terms["g_adv"] + w.feature_matching * terms["feature_matching"]
    return total, terms
