"""Training state on disk: one file, written atomically (temp file + rename), resumable exactly.

The file holds the generator, its EMA, the discriminator, both optimizers, the step and
the torch RNG state. It is written and read only by this toolkit (`torch.load` with
`weights_only=True`); shipped weights go through `release.export` to safetensors instead.
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


def init_weights(source: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """`source` (another generator's weights) fitted to `model`'s shapes, for `train.fit --init`.

    Tensors of the same shape are taken as they are. A decoder conv that lost its sketch
    input (`sketch_from` raised) keeps its leading input channels: the sketch features are
    the last group of its input, so the network starts as the old one without them. Any
    other change of shape is refused."""
    target = model.state_dict()
    if set(source) != set(target):
        raise ValueError(f"different layers: {sorted(set(source) ^ set(target))[:4]}")
    fitted = {}
    for key, value in source.items():
        want = target[key].shape
        if value.shape == want:
            fitted[key] = value.float()
        elif key.startswith("decoder.") and value.ndim == 4 and value.shape[0] == want[0] and value.shape[1] > want[1] \
                and value.shape[2:] == want[2:]:
            fitted[key] = value[:, : want[1]].float()
        else:
            raise ValueError(f"{key}: shape {tuple(value.shape)}, the recipe's is {tuple(want)}")
    return fitted
