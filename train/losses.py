"""The reconstruction terms of Liu et al. 2018 (PConv), unweighted; train/objective.py adds
them up with the adversarial terms (train/adversarial.py):

    L = valid·L_valid + hole·L_hole + perceptual·L_perc + style·(L_style_out + L_style_comp) + tv·L_tv

with perceptual and style terms on VGG16 pool1–3 features of both the raw output and the
composite, and total variation over the 1-px dilation of the hole. Paper weights: 1, 6,
0.05, 120, 0.1.

Which VGG16: torchvision's ImageNet weights when they are already in the torch cache
(nothing is downloaded); otherwise the VGG16 backbone of the HED weights (`sketch.load_hed`),
which was fine-tuned for edges, not ImageNet classification; otherwise random weights
(tests). `VGGFeatures.source` says which, and the training log and model card repeat it.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


log = logging.getLogger(__name__)

VGG_STAGES = ((3, 64, 2), (64, 128, 2), (128, 256, 3))  # up to pool3
TORCHVISION_FILE = "vgg16-397923af.pth"
TORCHVISION_CONVS = (0, 2, 5, 7, 10, 12, 14)  # indices of those convs in torchvision's vgg16().features
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
# Caffe VGGs take 0–255 inputs, ~57.6× (= 255 × ImageNet's mean std 0.226) what torchvision's
# normalised inputs are; ReLU convs are nearly homogeneous, so dividing the features by it puts
# the loss weights (tuned by Liu et al. on ImageNet VGG) back on their intended scale.
CAFFE_FEATURE_SCALE = 255.0 * 0.226


class VGGFeatures(nn.Module):
    """Frozen VGG16 conv1_1 … pool3; forward(image in [-1, 1]) → [pool1, pool2, pool3]."""

    def __init__(self, source: str = "auto"):
        super().__init__()
        self.stages = nn.ModuleList(
            nn.ModuleList(nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1) for i in range(n))
            for cin, cout, n in VGG_STAGES
        )
        self.source = self._load(source)
        self.caffe = self.source == "hed"
        self.requires_grad_(False)
        self.eval()

    def save(self, path: str | Path) -> Path:
        """These weights as fp16 safetensors, loadable as `VGGFeatures(path)` where the HED
        weights are not (a lent GPU machine)."""
        from safetensors.torch import save_file

        path = Path(path)
        tensors = {k: v.half().contiguous() for k, v in self.state_dict().items()}
        save_file(tensors, str(path), metadata={"source": self.source})
        return path

    def _convs(self) -> list[nn.Conv2d]:
        return [conv for stage in self.stages for conv in stage]

    def _load(self, source: str) -> str:
        if source.endswith(".safetensors"):  # written by `save`
            from safetensors import safe_open
            from safetensors.torch import load_file

            with safe_open(source, "pt") as handle:
                saved = (handle.metadata() or {}).get("source", "?")
            self.load_state_dict({k: v.float() for k, v in load_file(source).items()})
            log.info("perceptual/style VGG16 from %s (%s weights)", source, saved)
            return saved
        if source in ("auto", "imagenet"):
            path = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE
            if path.is_file():
                from torchvision.models import VGG16_Weights, vgg16

                features = vgg16(weights=VGG16_Weights.IMAGENET1K_V1).features
                for conv, index in zip(self._convs(), TORCHVISION_CONVS):
                    conv.load_state_dict(features[index].state_dict())
                return "imagenet"
            if source == "imagenet":
                raise FileNotFoundError(f"no torchvision VGG16 weights at {path}")
        if source in ("auto", "hed"):
            try:
                from sketch import load_hed

                hed = load_hed()
            except (FileNotFoundError, RuntimeError, ValueError) as exc:
                if source == "hed":
                    raise
                log.warning("no ImageNet VGG16 and no HED weights (%s): perceptual/style use RANDOM features", exc)
                return "random"
            for conv, hed_conv in zip(self._convs(), [c for stage in hed.stages[:3] for c in stage]):
                conv.load_state_dict(hed_conv.state_dict())
            log.warning("perceptual/style losses use the HED VGG16 backbone (edge-tuned, not ImageNet)")
            return "hed"
        if source == "random":
            return "random"
        raise ValueError(f"unknown VGG source {source!r}")

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image + 1.0) / 2.0
        if self.caffe:  # BGR, 0–255, minus the Caffe mean
            mean = x.new_tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
            x = x.flip(1) * 255.0 - mean
        else:
            x = (x - x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
        features = []
        for stage in self.stages:
            for conv in stage:
                x = F.relu(conv(x))
            x = F.max_pool2d(x, 2)
            features.append(x / CAFFE_FEATURE_SCALE if self.caffe else x)
        return features


def gram(feature: torch.Tensor) -> torch.Tensor:
    """Gram matrix normalised by C·H·W (the paper's K_p), in fp32."""
    b, c, h, w = feature.shape
    f = feature.float().reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def total_variation(comp: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Smoothness across neighbouring pixels that both lie in the hole dilated by 1 px."""
    region = F.max_pool2d(hole, 3, stride=1, padding=1)
    horizontal = (comp[..., :, 1:] - comp[..., :, :-1]).abs() * region[..., :, 1:] * region[..., :, :-1]
    vertical = (comp[..., 1:, :] - comp[..., :-1, :]).abs() * region[..., 1:, :] * region[..., :-1, :]
    return (horizontal.sum() + vertical.sum()) / comp.numel()


def line_following(comp: torch.Tensor, sketch: torch.Tensor, hole: torch.Tensor, weight: torch.Tensor,
                   scale: float = 0.2) -> torch.Tensor:
    """1 − mean tanh(|∇ grey| / scale) on the sketch's pixels in the hole, averaged over the
    samples by `weight` (B). The gradient is a central difference, so it is large where the
    line is a *step* between two regions (the edge of a lip, a lid) and zero on the middle
    of a thin dark stroke painted along the line. It can still be gamed: a stroke laid one
    pixel beside the line puts a step on it (arm f of the ink study, docs/training-log.md),
    so it is used only for samples without a truth, next to the adversarial term."""
    grey = comp.float().mean(1, keepdim=True)
    padded = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    gx = padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]
    gy = padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]
    strength = torch.tanh(torch.sqrt(gx * gx + gy * gy + 1e-8) / scale)
    lines = sketch.float() * hole.float()
    count = lines.flatten(1).sum(1)
    missing = ((1 - strength) * lines).flatten(1).sum(1) / count.clamp_min(1)
    weight = weight.float() * (count > 0).float()
    return (missing * weight).sum() / weight.sum().clamp_min(1e-6)


def structure_loss(comp: torch.Tensor, image: torch.Tensor, hole: torch.Tensor, weight: torch.Tensor,
                   window: int = 7, colour: bool = False) -> torch.Tensor:
    """1 − local SSIM (grey, or with `colour` per RGB channel; `window`-px box, Wang et al.'s
    constants) of the composite against the truth, averaged over the hole's pixels (and
    channels) and then over the samples by `weight` (B). On grey alone the hue in the hole is
    free: fills drifted green where the truth has a mouth (ink arms h–l).
    A line drawn darker or sharper than the truth's edge lowers the contrast and structure
    factors, so unlike an edge-tuned VGG it does not pay for ink; unlike L1 it does not pay
    for a blur that keeps the mean."""
    a, b = (x.float() * 0.5 + 0.5 if colour else x.float().mean(1, keepdim=True) * 0.5 + 0.5 for x in (comp, image))
    def box(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, window, stride=1, padding=window // 2, count_include_pad=False)
    mu_a, mu_b = box(a), box(b)
    var_a, var_b = box(a * a) - mu_a ** 2, box(b * b) - mu_b ** 2
    cov = box(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    region = hole.float()
    per_sample = ((1 - ssim).mean(1, keepdim=True) * region).flatten(1).sum(1) / region.flatten(1).sum(1).clamp_min(1)
    weight = weight.float()
    return (per_sample * weight).sum() / weight.sum().clamp_min(1e-6)


def _per_sample(values: torch.Tensor) -> torch.Tensor:
    return values.flatten(1).mean(1)


class ReconstructionTerms(nn.Module):
    """The PConv terms against the true image, unweighted (train.objective weighs them):
    `valid` and `hole` L1, `tv` and, with a VGG, `perceptual` and `style`."""

    def __init__(self, features: VGGFeatures | None = None, perceptual_size: int = 0):
        super().__init__()
        self.features = features
        self.perceptual_size = perceptual_size

    def forward(self, image: torch.Tensor, valid: torch.Tensor, pred: torch.Tensor, comp: torch.Tensor,
                truth: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """`comp` is the composite of `pred` (inpaint.contract.composite). `truth` (B, default
        all 1) says per sample whether `image` is the truth inside the hole; where it is 0 (a
        mismatched sketch, `train.mismatch`) the hole, perceptual and style terms skip that
        sample (the known pixels still count)."""
        pred, comp = pred.float(), comp.float()
        hole = 1.0 - valid
        truth = pred.new_ones(pred.shape[0]) if truth is None else truth.float()
        share = truth / truth.sum().clamp_min(1e-6) if truth.sum() > 0 else truth  # weights of a mean over samples

        def weighted(values: torch.Tensor) -> torch.Tensor:
            return (_per_sample(values) * share).sum()

        terms = {
            "valid": (valid * (pred - image)).abs().mean(),
            "hole": weighted(hole * (pred - image).abs()),
            "tv": total_variation(comp, hole),
        }
        if self.features is not None:
            size = self.perceptual_size
            both, target = torch.cat([pred, comp]), image
            if size and size != image.shape[-1]:
                both = F.interpolate(both, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
                target = F.interpolate(target, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            with torch.no_grad():
                target_features = self.features(target)
            perceptual = style = 0.0
            for f, t in zip(self.features(both), target_features):
                f_out, f_comp = f.float().chunk(2)
                t = t.float()
                perceptual = perceptual + weighted((f_out - t).abs()) + weighted((f_comp - t).abs())
                g = gram(t)
                style = style + weighted((gram(f_out) - g).abs()) + weighted((gram(f_comp) - g).abs())
            terms["perceptual"], terms["style"] = perceptual, style
        return terms
