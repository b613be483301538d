"""The learned way to find a reshape's field: a small network that reads the photo's own
lines and the sketch's lines in the hole and predicts the backward field between them, the
way DeepWarp (Ganin et al. 2016) predicts a warp field to redirect gaze.

It is trained self-supervised (`train.flow_fit`): a random smooth move of a face part gives
the target, the target's lines (HED or pen-like) the sketch, the face's own lines the
source, and the known field the answer. `FlowRegistration` wraps it as a `Registration` for
the editor (`inpaint.reshape.register` is the classical one); the field it predicts is
faded to exactly zero at the hole's edge and unfolded as the classical field is, and the
network's hole is found the same way.

Inputs (`line_channels`): both line maps thinned to centre lines inside the hole and
blurred a little (so a 3-px pen and a 1-px HED line read alike), and the hole. The field is
predicted at a quarter of the resolution (fields are smooth) and upsampled.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .part_maps import MIN_LINE_PIXELS
from .reshape import Reshape, centre_lines, fade, network_hole, unfold

LINE_BLUR = 1.0  # frame px
PAD = 16  # frame px of context around the hole's box
MULTIPLE = 16  # the network halves the resolution four times


@dataclass(frozen=True)
class FlowNetConfig:
    widths: tuple[int, ...] = (24, 32, 48, 64, 96)
    flow_scale: float = 8.0  # frame px per unit of the head's output

    @classmethod
    def from_dict(cls, values: dict) -> "FlowNetConfig":
        return cls(widths=tuple(int(w) for w in values["widths"]), flow_scale=float(values["flow_scale"]))

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


class FlowNet(nn.Module):
    """(own lines, sketch lines, hole) N×3×H×W → backward field N×2×H×W in frame px
    (H and W multiples of 16)."""

    def __init__(self, config: FlowNetConfig = FlowNetConfig()):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(_conv(3, w[0]), _conv(w[0], w[1], 2))  # 1/2
        self.down = nn.ModuleList([nn.Sequential(_conv(w[i], w[i + 1], 2), _conv(w[i + 1], w[i + 1]))
                                   for i in range(1, len(w) - 1)])  # 1/4, 1/8, 1/16
        self.up = nn.ModuleList([_conv(w[i + 1] + w[i], w[i]) for i in range(len(w) - 2, 1, -1)])  # to 1/8, 1/4
        self.head = nn.Sequential(_conv(w[2], w[2]), nn.Conv2d(w[2], 2, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        skips = [self.stem(x)]
        for layer in self.down:
            skips.append(layer(skips[-1]))
        y = skips.pop()
        for layer in self.up:
            skip = skips.pop()
            up = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = layer(torch.cat([up, skip], 1))
        flow = self.head(y).float() * self.config.flow_scale
        return F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)


def line_channels(own: np.ndarray, sketch: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """3×H×W float32: the own and the sketch's centre lines in the hole (blurred, peak ≈ 1), the hole."""
    def soft(lines: np.ndarray) -> np.ndarray:
        blurred = cv2.GaussianBlur(centre_lines(lines, hole).astype(np.float32), (0, 0), LINE_BLUR)
        return np.minimum(1.0, blurred * float(np.sqrt(2 * np.pi) * LINE_BLUR)).astype(np.float32)

    return np.stack([soft(own), soft(sketch), hole.astype(np.float32)])


def padded_box(hole: np.ndarray) -> tuple[int, int, int, int]:
    """The hole's box with PAD around it, grown to multiples of MULTIPLE (may reach beyond the frame)."""
    ys, xs = np.nonzero(hole)
    x0, y0, x1, y1 = xs.min() - PAD, ys.min() - PAD, xs.max() + 1 + PAD, ys.max() + 1 + PAD
    grow_x, grow_y = -(x1 - x0) % MULTIPLE, -(y1 - y0) % MULTIPLE
    return x0 - grow_x // 2, y0 - grow_y // 2, x1 + grow_x - grow_x // 2, y1 + grow_y - grow_y // 2


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """image[..., y0:y1, x0:x1] (channels first), zeros beyond the image."""
    x0, y0, x1, y1 = box
    h, w = image.shape[-2:]
    out = np.zeros(image.shape[:-2] + (y1 - y0, x1 - x0), image.dtype)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    out[..., sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[..., sy0:sy1, sx0:sx1]
    return out


class FlowRegistration:
    """A `Registration` (own lines, sketch, hole, landmarks, faithfulness → Reshape) that asks
    the flow network for the field. Read-only once built: safe to call from many threads."""

    def __init__(self, network: FlowNet):
        self.network = network.eval()

    def predict(self, own: np.ndarray, sketch: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """The network's backward field over the frame (H×W×2 float32), before fading."""
        box = padded_box(hole)
        x = torch.from_numpy(crop(line_channels(own, sketch, hole), box))[None]
        with torch.inference_mode():
            flow = self.network(x)[0].numpy()
        x0, y0, x1, y1 = box
        h, w = hole.shape
        field = np.zeros((h, w, 2), np.float32)
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        field[sy0:sy1, sx0:sx1] = flow[:, sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0].transpose(1, 2, 0)
        return field

    def __call__(self, own: np.ndarray, sketch: np.ndarray, hole: np.ndarray, landmarks: np.ndarray | None = None,
                 faithfulness: float = 0.0, scale: float = 1.0) -> Reshape:
        """The network reads the lines at the frame's scale (it was trained there): maps of a
        finer frame are brought down for it, and its field back up."""
        own_lines, sketch_lines = centre_lines(own, hole), centre_lines(sketch, hole)
        counts = (int(sketch_lines.sum()), int(own_lines.sum()))
        field = np.zeros(hole.shape + (2,), np.float32)
        if min(counts) < MIN_LINE_PIXELS * scale:
            return Reshape(field, hole.copy(), 0.0, *counts)
        if not np.array_equal(own_lines, sketch_lines):
            size = (round(hole.shape[1] / scale), round(hole.shape[0] / scale))
            coarse = [cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
                      for m in (own, sketch, hole)]
            predicted = cv2.resize(self.predict(*coarse), hole.shape[::-1], interpolation=cv2.INTER_LINEAR) * scale
            field = unfold(predicted * (fade(hole) * (1.0 - faithfulness))[..., None])
        net_hole, matched = network_hole(own_lines, sketch_lines, field, hole, scale)
        return Reshape(field, net_hole, matched, *counts)
