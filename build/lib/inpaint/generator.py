"""The sketch-guided partial-convolution U-Net generator.

Image path: the PConv U-Net of Liu et al. 2018 in the layout of naoto0804's
reimplementation. Encoder: 7×7, 5×5, 5×5, then 3×3 partial convs, all stride 2 (7 levels
at 256 px, 8 at 512 px), BN + ReLU (no BN on the first). Decoder: ×2 of features and
masks (nearest, or bilinear among valid pixels: `upsample_masked`), concatenated with the
encoder skip (features and masks), 3×3 partial conv, BN + LeakyReLU(0.2); the last layer
also sees the input image and mask and has no BN/activation. `width` scales every channel
count, so the paper-size model (width 1, about 33 M parameters) and the small CPU model
(width 0.5, about 8 M) are the same code.

Sketch path: a partial conv zeroes every hole pixel of its input, and the hole is exactly
where the sketch and colour hints live, so they cannot ride along with the image
channels. They get their own ordinary-conv encoder over
[sketch, colour RGB, colour-hint mask, hole mask, faithfulness level as a constant plane],
and its feature at each of the finest `sketch_levels` resolutions, from level `sketch_from`
on (0 = full resolution), is concatenated to the matching decoder layer's input as
always-valid channels (mask 1). Why `sketch_from`: a line that reaches the full-resolution
last layer has a one-conv path to a dark pixel (ink); from a coarser level on, the decoder
must turn it into a part's edges.

Why concatenation rather than SPADE-style modulation: (1) the decoder's partial convs see
the line positions directly, pixel for pixel, which is what makes a 1-px stroke steer a
boundary, whereas a per-channel affine modulation of normalised features has to learn
to route spatial detail through scale and shift; (2) the mask arithmetic stays exact:
sketch channels are valid everywhere, so they enter sum(1) and sum(M) alike and the
renormalisation of the image channels is untouched; (3) it costs one extra input slice
per decoder conv, cheap enough for a 2-core CPU. The image never enters the sketch
encoder, so the whole generator stays independent of the values inside the hole.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .contract import Guide
from .partialconv import PartialConv2d

ENCODER_CHANNELS = (64, 128, 256, 512, 512, 512, 512, 512)
ENCODER_KERNELS = (7, 5, 5, 3, 3, 3, 3, 3)
SKETCH_CHANNELS = (16, 32, 64, 64, 64, 64, 64, 64)
GUIDE_CHANNELS = 7  # sketch, colour RGB, colour-hint mask, hole mask, level
UPSAMPLE_MODES = ("nearest", "bilinear")


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture hyper-parameters; saved next to the weights."""

    width: float = 1.0
    layer_size: int = 7
    sketch_levels: int = 5
    sketch_width: float = 1.0
    resolution: int = 256
    upsample: str = "nearest"  # decoder's 2× step: "nearest" (every model up to stage 13) or "bilinear"
    sketch_from: int = 0  # the finest decoder level given sketch features (0 = full resolution)

    def __post_init__(self) -> None:
        if not 4 <= self.layer_size <= len(ENCODER_CHANNELS):
            raise ValueError(f"layer_size must be in [4, {len(ENCODER_CHANNELS)}], got {self.layer_size}")
        if not 0 <= self.sketch_levels <= self.layer_size:
            raise ValueError(f"sketch_levels must be in [0, layer_size], got {self.sketch_levels}")
        if self.sketch_levels and not 0 <= self.sketch_from < self.sketch_levels:
            raise ValueError(f"sketch_from must be in [0, sketch_levels), got {self.sketch_from}")
        if self.resolution % (2**self.layer_size):
            raise ValueError(f"resolution {self.resolution} is not divisible by 2**layer_size")
        if self.upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {self.upsample!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GeneratorConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def encoder_channels(self) -> list[int]:
        return [max(8, round(c * self.width)) for c in ENCODER_CHANNELS[: self.layer_size]]

    def sketch_channels(self) -> list[int]:
        return [max(4, round(c * self.sketch_width)) for c in SKETCH_CHANNELS[: self.sketch_levels]]

    def sketch_joins(self, level: int) -> bool:
        """Whether decoder level `level` (0 = full resolution) is given the sketch features."""
        return self.sketch_from <= level < self.sketch_levels


class PConvBlock(nn.Module):
    """Partial conv → optional BN → optional activation, carrying the mask along."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, bn: bool, activation: nn.Module | None):
        super().__init__()
        self.conv = PartialConv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=not bn)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.activation = activation

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._after(*self.conv(x, mask))

    def forward_groups(self, groups: list[tuple[torch.Tensor, torch.Tensor | None]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Over concatenated inputs with one-channel masks each (see PartialConv2d.forward_groups)."""
        return self._after(*self.conv.forward_groups(groups))

    def _after(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bn is not None:
            x = self.bn(x)
        if self.activation is not None:
            x = self.activation(x)
        return x, mask


class SketchEncoder(nn.Module):
    """Ordinary convs over the guide planes; one feature map per resolution 1, 1/2, 1/4, …"""

    def __init__(self, channels: list[int]):
        super().__init__()
        stages = []
        cin = GUIDE_CHANNELS
        for level, cout in enumerate(channels):
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride=1 if level == 0 else 2, padding=1)]
            layers.append(nn.LeakyReLU(0.2))
            if level >= 2:  # coarse levels are cheap: give them a wider receptive field
                layers += [nn.Conv2d(cout, cout, 3, padding=1), nn.LeakyReLU(0.2)]
            stages.append(nn.Sequential(*layers))
            cin = cout
        self.stages = nn.ModuleList(stages)

    def forward(self, guide: torch.Tensor) -> list[torch.Tensor]:
        features = []
        x = guide
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class SketchPConvUNet(nn.Module):
    def __init__(self, config: GeneratorConfig = GeneratorConfig()):
        super().__init__()
        self.config = config
        self.freeze_encoder_bn = False
        enc = config.encoder_channels()
        sk = config.sketch_channels()
        levels = config.layer_size

        self.encoder = nn.ModuleList()
        cin = 3
        for i in range(levels):
            self.encoder.append(PConvBlock(cin, enc[i], ENCODER_KERNELS[i], 2, bn=i > 0, activation=nn.ReLU()))
            cin = enc[i]

        # decoder[i] produces the map at the resolution of encoder level i-1 (i = 0 → full size)
        self.decoder = nn.ModuleList()
        for i in range(levels):
            c_up = enc[i]
            c_skip = enc[i - 1] if i > 0 else 3 + 1  # the last layer sees the image and the mask
            c_sketch = sk[i] if config.sketch_joins(i) else 0
            last = i == 0
            cout = 3 if last else enc[i - 1]
            self.decoder.append(
                PConvBlock(c_up + c_skip + c_sketch, cout, 3, 1, bn=not last, activation=None if last else nn.LeakyReLU(0.2))
            )
        self.sketch_encoder = SketchEncoder(sk) if sk else None

    def train(self, mode: bool = True) -> "SketchPConvUNet":
        """Like nn.Module.train, but keeps the encoder's BN statistics fixed when
        `freeze_encoder_bn` is set (the paper's fine-tuning stage)."""
        super().train(mode)
        if mode and self.freeze_encoder_bn:
            for block in self.encoder:
                if block.bn is not None:
                    block.bn.eval()
        return self

    def forward(self, image: torch.Tensor, valid: torch.Tensor, guide: Guide | None = None) -> torch.Tensor:
        """image B×3 in [-1,1]; valid B×1 (1 = known); the user's guide (inpaint.contract).
        Returns the raw prediction B×3 (`composite` keeps the known pixels)."""
        sketch_features: list[torch.Tensor] = []
        if self.sketch_encoder is not None:
            sketch_features = self.sketch_encoder((guide or Guide()).planes(valid))

        # Each skip is a list of (features, one-channel mask or None = always valid) groups. The
        # last layer sees the image (masked) and the mask itself as an always-valid feature.
        skips = [[(image, valid), (valid.to(image.dtype), None)]]
        h, m = image, valid
        for block in self.encoder:
            h, m = block(h, m)
            skips.append([(h, m)])

        (h, m), = skips.pop()
        for i in reversed(range(len(self.decoder))):
            h, m = upsample_masked(h, m, self.config.upsample)
            groups = [(h, m), *skips.pop()]
            if sketch_features and self.config.sketch_joins(i):
                groups.append((sketch_features[i], None))
            h, m = self.decoder[i].forward_groups(groups)
        return h


def upsample_masked(h: torch.Tensor, m: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's 2× step of features h and their one-channel mask m (1 = valid).

    The mask is always upsampled nearest. "nearest" copies each feature into its 2×2 block;
    "bilinear" interpolates among the *valid* coarse neighbours only (normalised by the
    interpolated mask, as a partial conv renormalises), so values the encoder left in the
    hole never leak in. Why offer bilinear: a stack of nearest steps under an adversarial
    loss prints a period-8 grid into large fills (`evaluation.quality.grid`)."""
    m_up = F.interpolate(m, scale_factor=2.0, mode="nearest")
    if mode == "nearest":
        return F.interpolate(h, scale_factor=2.0, mode="nearest"), m_up
    weight = F.interpolate(m, scale_factor=2.0, mode="bilinear", align_corners=False)
    h_up = F.interpolate(h * m, scale_factor=2.0, mode="bilinear", align_corners=False)
    # where m_up is 1 the nearest coarse pixel is valid, so weight >= 9/16
    return h_up / weight.clamp(min=0.5) * m_up, m_up


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
