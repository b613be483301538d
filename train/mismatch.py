"""Training samples whose sketch is another face's part, as people draw: there is no truth.

A user who sketches a new mouth draws one that is not the photo's. A sample here masks one
face's mouth, nose or eyes and gives as the sketch a *donor* face's lines of that part,
moved onto the face by the landmarks (`evaluation.transfer.transfer_case`, the transfer test's
warp). No photo matches that sketch, so such a sample is marked `mismatched` and the loss
scores its hole only with the adversarial term and a line-following term, never with L1 or
VGG terms against the original face (`train.objective`).
"""
from __future__ import annotations

import numpy as np
import torch

from evaluation.transfer import PARTS, transfer_case

from .sample_parts import crop_around, sample_dict


def mismatched_sample(image: np.ndarray, landmarks: np.ndarray, donor: tuple[np.ndarray, np.ndarray, np.ndarray],
                      rng: np.random.Generator, crop: int, level_power: float = 1.0) -> dict[str, torch.Tensor]:
    """One sample: `image`'s part masked, the donor's (image, lines, landmarks) lines of it as
    the sketch; a `crop`-px window around the hole when `crop` (else the whole face)."""
    part = PARTS[int(rng.integers(len(PARTS)))]
    donor_image, donor_lines, donor_landmarks = donor
    case = transfer_case(image, landmarks, donor_image, donor_lines, donor_landmarks, part)
    hole, sketch = case.hole, case.sketch
    if crop and image.shape[0] > crop:
        window = crop_around(hole, crop, rng)
        image, hole, sketch = image[window], hole[window], sketch[window]
    level = float(rng.uniform(0.0, 1.0)) ** level_power
    empty = np.zeros(hole.shape, bool)
    return sample_dict(np.ascontiguousarray(image), hole, sketch, np.zeros((*hole.shape, 3), np.uint8), empty, level,
                       mismatched=True)
