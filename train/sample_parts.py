"""What every training sample is made of, shared by the loader (`train.data`) and the
mismatched samples (`train.mismatch`): a window around the hole, and the dict the loader batches."""
from __future__ import annotations

import numpy as np
import torch

from inpaint.contract import Guide, image_tensor, plane_tensor


def crop_around(hole: np.ndarray, side: int, rng: np.random.Generator) -> tuple[slice, slice]:
    """A side×side window holding the hole's centre (jittered by a quarter side), inside the image."""
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    cy, cx = (ys.mean(), xs.mean()) if ys.size else (h / 2, w / 2)
    cy, cx = cy + rng.uniform(-0.25, 0.25) * side, cx + rng.uniform(-0.25, 0.25) * side
    top = int(np.clip(round(cy - side / 2), 0, h - side))
    left = int(np.clip(round(cx - side / 2), 0, w - side))
    return slice(top, top + side), slice(left, left + side)


def sample_dict(image: np.ndarray, hole: np.ndarray, sketch: np.ndarray, color: np.ndarray,
                color_mask: np.ndarray, level: float, mismatched: bool) -> dict:
    """A training sample as the loader batches it: image C×H×W in [-1, 1], valid 1×H×W, the
    `Guide` (colour zero off its hints), and whether the sketch is another face's."""
    hints = plane_tensor(color_mask)[0]
    guide = Guide(plane_tensor(sketch)[0], image_tensor(color)[0] * hints, hints, torch.tensor(level))
    return {"image": image_tensor(image)[0], "valid": plane_tensor(~hole)[0], "guide": guide,
            "mismatched": torch.tensor(float(mismatched))}
