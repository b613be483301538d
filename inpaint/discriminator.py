"""SN-PatchGAN discriminator (Yu et al., DeepFill v2; used by SC-FEGAN) over
[image, hole mask, sketch]: six 5×5 stride-2 spectrally normalised convs; every
element of the output map is one patch's real/fake score (hinge loss in training)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

PATCH_CHANNELS = (64, 128, 256, 256, 256, 256)


class PatchDiscriminator(nn.Module):
    def __init__(self, width: float = 1.0, in_channels: int = 5):
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for i, c in enumerate(PATCH_CHANNELS):
            cout = max(8, round(c * width))
            layers.append(spectral_norm(nn.Conv2d(cin, cout, 5, stride=2, padding=2)))
            if i < len(PATCH_CHANNELS) - 1:
                layers.append(nn.LeakyReLU(0.2))
            cin = cout
        self.net = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, hole: torch.Tensor, sketch: torch.Tensor | None = None) -> torch.Tensor:
        """image B×3 in [-1,1], hole B×1 (1 = generated region), sketch B×1 or None → B×C×H/64×W/64."""
        if sketch is None:
            sketch = torch.zeros_like(hole)
        return self.net(torch.cat([image, hole.to(image.dtype), sketch.to(image.dtype)], dim=1))
