"""Training state on disk: one file, written atomically (temp file + rename), resumable exactly.

The file holds the generator, its EMA, the discriminator, both optimizers, the step and
the torch RNG state. It is written and read only by this toolkit (`torch.load` with
`weights_only=True`); shipped weights go through `train.export` to safetensors instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

STATE_FILE = "last.pt"


def save_state(run_dir: Path, state: dict) -> Path:
    path = Path(run_dir) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def load_state(run_dir: Path) -> dict | None:
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float, step: int) -> None:
    """ema ← d·ema + (1 − d)·model for parameters, with d = min(decay, (1 + step) / (10 + step)):
    the warm-up keeps a short run's EMA from remembering the random initialisation (at
    decay 0.999 the initial weights would still count 15 % after 1,900 steps). Buffers
    (BN statistics) are copied."""
    decay = min(decay, (1.0 + step) / (10.0 + step))
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p.detach(), 1.0 - decay)
    for e, b in zip(ema.buffers(), model.buffers()):
        e.copy_(b)
