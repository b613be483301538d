"""Partial convolution (Liu et al., "Image Inpainting for Irregular Holes Using Partial
Convolutions", ECCV 2018, eq. 1-2), with NVIDIA's semantics.

For each window with mask sum sum(M):

    out      = W^T (X ⊙ M) · sum(1) / sum(M) + b    if sum(M) > 0, else 0
    new_mask = 1                                     if sum(M) > 0, else 0

`mask` is B×1×H×W (one mask shared by all channels; sum(1) = kh·kw) or B×C×H×W (one
mask per input channel, NVIDIA's multi_channel; sum(1) = C·kh·kw). 1 marks a valid pixel.

Hole pixels are selected out with `torch.where`, not multiplied by zero, so the output
does not depend on what the hole holds, even NaN or inf.

The mask arithmetic runs in fp32 outside autocast on every call (no cached ratio), so
the layer is safe under mixed precision, re-entrant, and the ones-kernel is a
non-persistent buffer that follows `.to()` and DDP without appearing in checkpoints.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PartialConv2d(nn.Conv2d):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups=1, bias=bias)
        self.register_buffer("ones_kernel", torch.ones(1, 1, *self.kernel_size), persistent=False)

    def mask_ratio(self, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(sum(1)/sum(M) where sum(M) > 0 else 0, new_mask), both B×1×H'×W' in fp32."""
        with torch.autocast(device_type=mask.device.type, enabled=False):
            m = mask.detach().float()
            channels = m.shape[1]
            if channels not in (1, self.in_channels):
                raise ValueError(f"mask must have 1 or {self.in_channels} channels, got {channels}")
            if channels > 1:
                m = m.sum(dim=1, keepdim=True)  # the window sum is linear, so sum channels first
            count = F.conv2d(m, self.ones_kernel.float(), None, self.stride, self.padding, self.dilation)
            new_mask = (count > 0.5).float()
            window = float(channels * self.kernel_size[0] * self.kernel_size[1])
            ratio = window / count.clamp(min=1.0) * new_mask
        return ratio, new_mask

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ratio, new_mask = self.mask_ratio(mask)
        masked = torch.where(mask > 0.5, x, torch.zeros((), dtype=x.dtype, device=x.device))
        raw = F.conv2d(masked, self.weight, None, self.stride, self.padding, self.dilation)
        out = raw * ratio.to(raw.dtype)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1).to(out.dtype) * new_mask.to(out.dtype)
        return out, new_mask
