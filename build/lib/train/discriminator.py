"""The patch discriminator: is each ~54-px patch of [image, hole, sketch] a real photo?

pix2pix's PatchGAN shape (Isola et al. 2017): three 4×4 stride-2 convs, then two 3×3
stride-1 convs, LeakyReLU, no normalisation (stability comes from R1, see
`train.adversarial`). Its receptive field is 54 px, the size of a mouth or an eye in a
256-px aligned face, so it judges parts, not the whole head; the output map has one score
per 8×8 block. It sees the hole mask and the sketch, so it can tell a fill that ignores
the drawing from one that follows it. `forward` also returns every hidden activation, for
feature matching.
"""
from __future__ import annotations

import torch
from torch import nn

CHANNELS = (64, 128, 256, 512)
STRIDE = 8  # input pixels per output score


def receptive_field() -> int:
    """Input pixels that one output score sees (54)."""
    kernels_strides = [(4, 2), (4, 2), (4, 2), (3, 1), (3, 1)]
    field, jump = 1, 1
    for kernel, stride in kernels_strides:
        field += (kernel - 1) * jump
        jump *= stride
    return field


class PatchDiscriminator(nn.Module):
    def __init__(self, width: float = 0.5, in_channels: int = 5):
        super().__init__()
        widths = [max(8, round(c * width)) for c in CHANNELS]
        layers, cin = [], in_channels
        for cout in widths[:3]:
            layers.append(nn.Conv2d(cin, cout, 4, stride=2, padding=1))
            cin = cout
        layers.append(nn.Conv2d(cin, widths[3], 3, padding=1))
        self.hidden = nn.ModuleList(layers)
        self.score = nn.Conv2d(widths[3], 1, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, image: torch.Tensor, hole: torch.Tensor,
                sketch: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """image B×3 in [-1,1], hole B×1 (1 = generated), sketch B×1 or None →
        (scores B×1×H/8×W/8, hidden activations)."""
        if sketch is None:
            sketch = torch.zeros_like(hole)
        x = torch.cat([image, hole.to(image.dtype), sketch.to(image.dtype)], dim=1)
        features = []
        for layer in self.hidden:
            x = self.act(layer(x))
            features.append(x)
        return self.score(x), features
