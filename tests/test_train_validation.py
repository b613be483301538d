"""The in-loop validation: fixed cases on held-out faces, scored on what a person sees."""
import math

import numpy as np
import torch

from inpaint import GeneratorConfig, SketchPConvUNet
from train.validation import Validation


class _Faces:
    """Two held-out faces: the astronaut and her mirror image (landmarks mirrored too)."""

    def __init__(self, image, landmarks, lines):
        mirrored = np.c_[image.shape[1] - 1 - landmarks[:, 0], landmarks[:, 1]]
        self.faces = [(image, landmarks, lines), (image[:, ::-1].copy(), mirrored, lines[:, ::-1].copy())]
        self.faces.append((image, np.full((68, 2), np.nan), lines))  # a centre crop: skipped

    def __len__(self):
        return len(self.faces)

    def get(self, i):
        image, landmarks, lines = self.faces[i]
        return image, lines, landmarks


def test_validation_scores_a_model_and_leaves_it_training(aligned_astronaut):
    validation = Validation(_Faces(*aligned_astronaut), count=8)
    assert len(validation.images) == 2 and 0.3 < validation.ceiling_f1 <= 1.0
    torch.manual_seed(0)
    model = SketchPConvUNet(GeneratorConfig(width=0.125)).train()
    scores = validation.run(model)
    assert model.training
    assert set(scores) >= {"sharpness", "sharpness_sketch", "edge_f1_sketch", "transfer_f1", "hole_psnr", "large_grid",
                           "lip_colour", "transfer_structure", "transfer_ink", "transfer_structure_telea",
                           "transfer_ink_unedited"}
    assert scores["transfer_structure_telea"] < 1 and abs(scores["transfer_ink_unedited"]) < 30
    assert all(math.isfinite(v) for v in scores.values())
    assert validation.run(model) == scores  # fixed cases, deterministic model: the same numbers
