"""The network's contract: what goes into the generator, what comes out, and how it is kept.

Every caller of a network (the editor's engine, the training loop, the data loader, the
in-loop validation, the benchmarks) uses these, so a change to the contract is one change:

* images are B×3 tensors in [-1, 1]; masks and sketches B×1 planes in {0, 1}
  (`image_tensor`, `plane_tensor`, and back with `to_uint8`);
* `valid` is 1 on known pixels, 0 in the hole;
* a `Guide` carries what the user asked for inside the hole: sketch lines, colour hints
  and how loosely to follow them;
* the network predicts every pixel, and `composite` keeps the known ones from the input.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import torch


def image_tensor(images: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
    """uint8 RGB, H×W×3 or a batch of them → float32 B×3×H×W in [-1, 1] (on the CPU).

    NumPy does the arithmetic: in loader workers torch's thread pool would only contend."""
    x = np.asarray(images if isinstance(images, np.ndarray) else np.stack(images)).astype(np.float32)
    x = x / np.float32(127.5) - np.float32(1.0)  # as torch divides: the same floats on either side
    x = x[None] if x.ndim == 3 else x
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def plane_tensor(planes: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
    """bool (or {0, 1}) H×W or a batch of them → float32 B×1×H×W."""
    x = np.asarray(planes if isinstance(planes, np.ndarray) else np.stack(planes)).astype(np.float32)
    x = x[None] if x.ndim == 2 else x
    return torch.from_numpy(np.ascontiguousarray(x[:, None]))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """B×3×H×W in [-1, 1] (any float dtype, any device) → uint8 B×H×W×3, rounded."""
    out = ((images.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return out.permute(0, 2, 3, 1).cpu().numpy()


def composite(image: torch.Tensor, valid: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
    """M·I + (1−M)·pred: known pixels from the input, the hole from the prediction."""
    return torch.where(valid > 0.5, image, prediction.to(image.dtype))


class Guide(NamedTuple):
    """What the user asked for inside the hole, as the sketch branch reads it.

    sketch B×1 in {0, 1} (1 = a line); color B×3 in [-1, 1] where color_mask B×1 is 1 (a
    colour hint of that RGB); level a float or a B tensor in [0, 1] (0 = follow the sketch
    exactly, 1 = loosely). A field left None means "nothing given". A NamedTuple, so the
    data loader's default collate batches per-sample guides field by field."""

    sketch: torch.Tensor | None = None
    color: torch.Tensor | None = None
    color_mask: torch.Tensor | None = None
    level: float | torch.Tensor = 0.5

    @classmethod
    def from_arrays(cls, sketch: np.ndarray | None = None, color: np.ndarray | None = None,
                    color_mask: np.ndarray | None = None, level: float = 0.5) -> "Guide":
        """From frame-sized arrays (bool sketch and colour mask, uint8 RGB colour), one image
        or a batch; colour without its mask (or the mask without colour) is no hint."""
        hints = color is not None and color_mask is not None
        return cls(None if sketch is None else plane_tensor(sketch),
                   image_tensor(color) if hints else None,
                   plane_tensor(color_mask) if hints else None, level)

    def to(self, device: torch.device | str, memory_format: torch.memory_format = torch.contiguous_format) -> "Guide":
        def move(t):
            return t if not torch.is_tensor(t) else t.to(device, non_blocking=True).contiguous(
                memory_format=memory_format if t.ndim == 4 else torch.contiguous_format)
        return Guide(*(move(t) for t in self))

    def planes(self, valid: torch.Tensor) -> torch.Tensor:
        """The sketch branch's input: B×7×H×W = sketch, colour (0 off the hints), colour
        mask, hole, level."""
        b, _, h, w = valid.shape
        zeros = valid.new_zeros(b, 1, h, w)
        sketch = zeros if self.sketch is None else self.sketch.to(valid.dtype)
        color_mask = zeros if self.color_mask is None else self.color_mask.to(valid.dtype)
        color = valid.new_zeros(b, 3, h, w) if self.color is None else self.color.to(valid.dtype) * color_mask
        level = torch.as_tensor(self.level, dtype=valid.dtype, device=valid.device).reshape(-1, 1, 1, 1)
        return torch.cat([sketch, color, color_mask, 1.0 - valid, level.expand(b, 1, h, w)], dim=1)
