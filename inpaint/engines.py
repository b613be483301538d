"""What fills the hole inside the frame: the trained network, or OpenCV's Telea when there are no weights.

Both take and return frame-sized uint8 arrays, so the editor's framing, compositing and
paste-back are the same whichever runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .generator import SketchPConvUNet, composite
from .serving import ServingUNet


@dataclass
class FrameInputs:
    """Everything an engine needs, already sampled into the frame (size×size)."""

    image: np.ndarray  # uint8 ×3
    hole: np.ndarray  # bool, True = redraw
    sketch: np.ndarray | None = None  # bool, True = stroke
    color: np.ndarray | None = None  # uint8 ×3
    color_mask: np.ndarray | None = None  # bool
    level: float = 0.5  # 0 = follow the sketch exactly, 1 = loosely


class PConvEngine:
    """The sketch-guided partial-conv U-Net. With `serving` (the default) it runs the
    inference form of the trained network (`inpaint.serving`: BN folded, sub-pixel decoder,
    one memory layout), which computes the same fill to float rounding in less time; the
    trained module stays in `.model`."""

    def __init__(self, model: SketchPConvUNet, name: str, device: str | torch.device = "cpu", serving: bool = True):
        self.model = model.to(device).eval()
        self.network = ServingUNet.from_generator(self.model) if serving else self.model
        self.device = torch.device(device)
        self.name = name
        self.resolution = model.config.resolution
        self.kind = "pconv"

    def _tensor(self, array: np.ndarray, scale_to_signed: bool) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
        t = t.float().unsqueeze(0)
        t = t.permute(0, 3, 1, 2) if t.ndim == 4 else t.unsqueeze(0)
        return t / 127.5 - 1.0 if scale_to_signed else t

    @torch.inference_mode()
    def predict(self, inputs: FrameInputs) -> np.ndarray:
        image = self._tensor(inputs.image, True)
        valid = self._tensor(~inputs.hole, False)
        sketch = None if inputs.sketch is None else self._tensor(inputs.sketch, False)
        color = color_mask = None
        if inputs.color is not None and inputs.color_mask is not None:
            color = self._tensor(inputs.color, True)
            color_mask = self._tensor(inputs.color_mask, False)
        extra = {"hole_only": True} if isinstance(self.network, ServingUNet) else {}  # the composite keeps the rest
        prediction = self.network(image, valid, sketch, color, color_mask, float(inputs.level), **extra)
        out = composite(image, valid, prediction)
        out = ((out.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        return out[0].permute(1, 2, 0).cpu().numpy()


class TeleaEngine:
    """Classical fallback: OpenCV's Telea inpainting; ignores sketch and colour hints."""

    def __init__(self, resolution: int = 512, radius: int = 5):
        self.name = "opencv-telea"
        self.resolution = resolution
        self.radius = radius
        self.kind = "telea"

    def predict(self, inputs: FrameInputs) -> np.ndarray:
        hole = inputs.hole.astype(np.uint8) * 255
        return cv2.inpaint(np.ascontiguousarray(inputs.image), hole, self.radius, cv2.INPAINT_TELEA)
