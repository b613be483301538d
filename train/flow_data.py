"""Samples for the flow network (`inpaint.flownet`): a training face, a random move of one of
its parts (`train.flow_moves`), and the lines a user would give for the moved face.

The sketch is the moved face's lines (the face's cached HED lines carried by the move), as
HED lines with a little jitter and a few erased patches (`sketch.synthesis`), or as the
app's pen draws them (`sketch.pen`: simplified, broken, a hand's wobble). The own lines
are the face's lines in the hole. The crop is CROP px around the hole, at the frame's
scale (the cache's faces are aligned 256-px frames). Everything random about sample n
comes from a generator seeded with (seed, n), so a resumed run sees the same samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from inpaint.flownet import crop, line_channels
from inpaint.reshape import remap_frame
from sketch.pen import PenParams, pen_sketch
from sketch.synthesis import SketchParams, synthesize_sketch

from .flow_moves import random_move

CROP = 128
JITTER = 16  # px the crop's centre wanders from the hole's
PEN_PROB = 0.5
PEN = PenParams(warp=(0.0, 1.5))
HED = SketchParams(warp_min=0.0, warp_max=1.0, radius_max=0.0, erase_max=2, erase_size=(4.0, 12.0), band=0.0)


@dataclass(frozen=True)
class FlowSample:
    inputs: np.ndarray  # 3×CROP×CROP float32 (`inpaint.flownet.line_channels`)
    field: np.ndarray  # 2×CROP×CROP float32: the true backward field
    source: np.ndarray  # 3×CROP×CROP float32 in [0, 1]: the face
    target: np.ndarray  # ... and the moved face
    hole: np.ndarray  # 1×CROP×CROP float32


def user_lines(moved_lines: np.ndarray, hole: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The moved face's lines as a user gives them: pen strokes or jittered HED lines."""
    if rng.random() < PEN_PROB:
        return pen_sketch(moved_lines, hole, rng, PEN)
    return synthesize_sketch(moved_lines, hole, float(rng.uniform(0, 1)), rng, HED)


def crop_box(hole: np.ndarray, rng: np.random.Generator) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    cx = int(np.clip((xs.min() + xs.max()) // 2 + rng.integers(-JITTER, JITTER + 1), CROP // 2, w - CROP // 2))
    cy = int(np.clip((ys.min() + ys.max()) // 2 + rng.integers(-JITTER, JITTER + 1), CROP // 2, h - CROP // 2))
    return cx - CROP // 2, cy - CROP // 2, cx + CROP // 2, cy + CROP // 2


def flow_sample(image: np.ndarray, lines: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator) -> FlowSample:
    """One sample from a face (uint8 S×S×3), its thin lines (bool) and landmarks (68×2)."""
    move = random_move(landmarks, lines.shape, rng)
    moved_lines = remap_frame(lines.astype(np.float32), move.field) > 0.25
    sketch = user_lines(moved_lines, move.hole, rng)
    target = remap_frame(image, move.field, cv2.INTER_CUBIC)
    box = crop_box(move.hole, rng)
    channels = line_channels(lines & move.hole, sketch & move.hole, move.hole)
    as_float = lambda rgb: rgb.transpose(2, 0, 1).astype(np.float32) / 255.0  # noqa: E731
    return FlowSample(crop(channels, box), crop(move.field.transpose(2, 0, 1), box), crop(as_float(image), box),
                      crop(as_float(target), box), crop(move.hole[None].astype(np.float32), box))


class FlowSamples(torch.utils.data.Dataset):
    """Sample n of a `train.data.CacheSource`'s faces with landmarks, seeded with (seed, n)."""

    def __init__(self, source, seed: int = 0, length: int = 10**9):
        self.source, self.seed, self.length = source, seed, length
        marks = source.landmarks[source.index] if source.landmarks is not None else np.zeros((0,))
        self.usable = np.flatnonzero(np.isfinite(np.asarray(marks)).all(axis=(1, 2)))
        if self.usable.size == 0:
            raise ValueError("the cache holds no faces with landmarks")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, n))
        image, lines, landmarks = self.source.get(int(self.usable[rng.integers(self.usable.size)]))
        sample = flow_sample(image, lines, landmarks, rng)
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sample.__dict__.items()}
