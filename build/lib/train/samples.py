"""Sample grids for TensorBoard and the run folder: input with hole, sketch and hints, output, target."""
from __future__ import annotations

import torch
from torchvision.utils import make_grid


def sample_grid(batch: dict, comp: torch.Tensor, rows: int = 4) -> torch.Tensor:
    """A 3×H×W image in [0, 1]: per sample, [masked input | sketch + colour hints | output | target]."""
    n = min(rows, comp.shape[0])
    image = (batch["image"][:n].float().cpu() + 1) / 2
    valid = batch["valid"][:n].float().cpu()
    guide = batch["guide"]
    sketch = guide.sketch[:n].float().cpu()
    hints = (guide.color[:n].float().cpu() + 1) / 2
    hint_mask = guide.color_mask[:n].float().cpu()
    masked = image * valid + (1 - valid) * 0.5
    shown = torch.ones_like(image) * (1 - valid) * 0.9 + image * valid * 0.3
    shown = shown * (1 - hint_mask) + hints * hint_mask
    shown = shown * (1 - sketch)  # strokes in black
    output = ((comp[:n].float().cpu() + 1) / 2).clamp(0, 1)
    tiles = torch.stack([masked, shown, output, image], dim=1).flatten(0, 1)
    return make_grid(tiles, nrow=4, padding=2, pad_value=1.0)
