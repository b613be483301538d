"""What fills the hole inside the frame: the trained network, or OpenCV's Telea when there are no weights.

Both take and return frame-sized uint8 arrays, so the editor's framing, compositing and
paste-back are the same whichever runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .contract import Guide, composite, image_tensor, plane_tensor, to_uint8
from .generator import SketchPConvUNet
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

    def guide(self) -> Guide:
        return Guide.from_arrays(self.sketch, self.color, self.color_mask, float(self.level))


class PConvEngine:
    """The sketch-guided partial-conv U-Net. With `serving` (the default) it runs the
    inference form of the trained network (`inpaint.serving`: BN folded, sub-pixel decoder,
    one memory layout), which computes the same fill to float rounding in less time; the
    trained module stays in `.model`. Without it, the module itself runs as it is (a
    network in training, scored by the in-loop validation)."""

    kind = "pconv"

    def __init__(self, model: SketchPConvUNet, name: str, device: str | torch.device | None = None,
                 serving: bool = True):
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device).eval() if serving else model
        self.network = ServingUNet.from_generator(self.model) if serving else self.model
        self.name = name
        self.resolution = model.config.resolution

    @torch.inference_mode()
    def predict_batch(self, batch: list[FrameInputs]) -> list[np.ndarray]:
        """The frames filled at once (one size, one level): known pixels kept, uint8."""
        image = image_tensor([f.image for f in batch]).to(self.device)
        valid = 1.0 - plane_tensor([f.hole for f in batch]).to(self.device)
        guides = [f.guide() for f in batch]
        if len({f.level for f in batch}) != 1:
            raise ValueError("a batch of frames shares one level")
        fields = []
        for i in range(3):
            given = [g[i] for g in guides]
            fields.append(None if any(t is None for t in given) else torch.cat(given).to(self.device))
        guide = Guide(*fields, level=batch[0].level)
        extra = {"hole_only": True} if isinstance(self.network, ServingUNet) else {}  # the composite keeps the rest
        prediction = self.network(image, valid, guide, **extra)
        return list(to_uint8(composite(image, valid, prediction)))

    def predict(self, inputs: FrameInputs) -> np.ndarray:
        return self.predict_batch([inputs])[0]


class TeleaEngine:
    """Classical fallback: OpenCV's Telea inpainting; ignores sketch and colour hints."""

    kind = "telea"

    def __init__(self, resolution: int = 512, radius: int = 5):
        self.name = "opencv-telea"
        self.resolution = resolution
        self.radius = radius

    def predict(self, inputs: FrameInputs) -> np.ndarray:
        hole = inputs.hole.astype(np.uint8) * 255
        return cv2.inpaint(np.ascontiguousarray(inputs.image), hole, self.radius, cv2.INPAINT_TELEA)

    def predict_batch(self, batch: list[FrameInputs]) -> list[np.ndarray]:
        return [self.predict(f) for f in batch]
