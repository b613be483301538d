"""Generator weights: safetensors + a JSON config, found by path, in `inpaint/checkpoints/`, or on the Hub.

A checkpoint is two files with one stem: `NAME.safetensors` (tensors) and `NAME.json`
(architecture, resolution, training summary, format version). The config is also copied
into the safetensors header metadata, so a lone `.safetensors` still loads. Nothing here
unpickles: weights are read with `safetensors` only.

Storage dtypes: fp32, fp16, or "int8": every convolution kernel stored as int8 with one
fp32 scale per output channel (symmetric, `KEY` + `KEY.int8_scale`), everything else fp16,
dequantised to fp32 at load. That keeps the 6.9 M-parameter default under the Hugging Face
Hub's 10 MiB limit for files outside Git LFS; the measured quality cost is in the model card.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .generator import GeneratorConfig, SketchPConvUNet

FORMAT_VERSION = 2  # 2: int8 storage (version-1 files still load)
SCALE_SUFFIX = ".int8_scale"
DTYPES = ("float32", "float16", "int8")
ARCHITECTURE = "sketch-pconv-unet"
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"  # package data: found wherever inpaint is installed
DEFAULT_NAME = "default"
HUB_REPO_ENV = "SKETCHFACE_WEIGHTS_REPO"


class WeightsError(ValueError):
    """Weights that exist but cannot be used (corrupt, truncated, wrong architecture)."""


@dataclass
class Checkpoint:
    config: GeneratorConfig
    state_dict: dict[str, torch.Tensor]
    source: str
    name: str
    meta: dict = field(default_factory=dict)


def quantize_int8(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel int8: (int8 tensor, fp32 scale per channel), so that
    `q * scale` (scale broadcast over dim 0) is the weight to within half a step."""
    flat = weight.detach().float().reshape(weight.shape[0], -1)
    scale = flat.abs().amax(dim=1).clamp(min=1e-12) / 127.0
    q = torch.round(flat / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q.reshape(weight.shape), scale


def dequantize(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict with int8 kernels (and their scales) turned back into fp32 tensors."""
    out = {}
    for key, value in tensors.items():
        if key.endswith(SCALE_SUFFIX):
            continue
        scale = tensors.get(key + SCALE_SUFFIX)
        if scale is not None:
            value = value.float() * scale.float().reshape(-1, *([1] * (value.ndim - 1)))
        out[key] = value
    return out


def save_checkpoint(
    model: SketchPConvUNet, path: str | Path, training: dict | None = None, half: bool = True,
    dtype: str | None = None,
) -> Path:
    """Write `path` (.safetensors) and its `.json` config; returns the safetensors path.
    `dtype` is one of DTYPES (default: "float16" with `half`, else "float32")."""
    dtype = dtype or ("float16" if half else "float32")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "architecture": ARCHITECTURE,
        "config": model.config.to_dict(),
        "resolution": model.config.resolution,
        "dtype": dtype,
        "training": training or {},
    }
    tensors = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu().contiguous()
        if dtype == "int8" and value.is_floating_point() and value.ndim == 4:
            tensors[key], tensors[key + SCALE_SUFFIX] = quantize_int8(value)
        elif dtype != "float32" and value.is_floating_point():
            tensors[key] = value.half()
        else:
            tensors[key] = value
    save_file(tensors, str(path), metadata={"sketchface": json.dumps(meta)})
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return path


def _read_meta(path: Path) -> dict:
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        try:
            return json.loads(sidecar.read_text())
        except json.JSONDecodeError as exc:
            raise WeightsError(f"{sidecar}: config is not valid JSON ({exc})") from None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            header = (handle.metadata() or {}).get("sketchface")
    except (SafetensorError, OSError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    if header is None:
        raise WeightsError(f"{path}: no {sidecar.name} next to it and no config in its header")
    return json.loads(header)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and validate a checkpoint file; any problem is one WeightsError saying what was expected."""
    path = Path(path)
    if path.is_dir():
        path = path / f"{DEFAULT_NAME}.safetensors"
    if path.suffix != ".safetensors":
        raise WeightsError(f"{path}: expected a .safetensors file (pickled checkpoints are never loaded)")
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    meta = _read_meta(path)
    if meta.get("architecture") != ARCHITECTURE:
        raise WeightsError(f"{path}: architecture {meta.get('architecture')!r}, expected {ARCHITECTURE!r}")
    if int(meta.get("format_version", -1)) > FORMAT_VERSION:
        raise WeightsError(f"{path}: format version {meta.get('format_version')} is newer than {FORMAT_VERSION}")
    try:
        config = GeneratorConfig.from_dict(meta.get("config", {}))
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: bad architecture config ({exc})") from None
    try:
        tensors = dequantize(load_file(str(path)))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise WeightsError(f"{path}: truncated or corrupt safetensors file ({exc})") from None
    check_state_dict(tensors, config, str(path))
    return Checkpoint(config, tensors, str(path), path.stem, meta)


def check_state_dict(tensors: dict[str, torch.Tensor], config: GeneratorConfig, source: str) -> None:
    reference = SketchPConvUNet(config).state_dict()
    expected = {k: tuple(v.shape) for k, v in reference.items()}
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    wrong = [k for k in expected if k in tensors and tuple(tensors[k].shape) != expected[k]]
    unscaled = [k for k, v in tensors.items()
                if k in reference and reference[k].is_floating_point() and not v.is_floating_point()]
    if unscaled:
        raise WeightsError(f"{source}: {unscaled[0]} is stored as {tensors[unscaled[0]].dtype} without its "
                           f"{SCALE_SUFFIX} tensor; the file is incomplete")
    if missing or extra or wrong:
        detail = []
        if missing:
            detail.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if extra:
            detail.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
        if wrong:
            k = wrong[0]
            detail.append(f"{len(wrong)} of the wrong shape (e.g. {k}: {tuple(tensors[k].shape)} vs {expected[k]})")
        raise WeightsError(
            f"{source}: tensors do not match a {ARCHITECTURE} with {config.to_dict()}: " + "; ".join(detail)
        )


def build_generator(checkpoint: Checkpoint) -> SketchPConvUNet:
    model = SketchPConvUNet(checkpoint.config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in checkpoint.state_dict.items()})
    return model.eval()


def download_from_hub(repo_id: str, cache_dir: str | Path | None = None, revision: str | None = None) -> Path:
    """Fetch `default.safetensors` (+ its `.json`) from a Hub model repo; honours HF_HUB_OFFLINE."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    kwargs = {"repo_id": repo_id, "cache_dir": cache_dir, "revision": revision}
    try:
        weights = hf_hub_download(filename=f"{DEFAULT_NAME}.safetensors", **kwargs)
    except (LocalEntryNotFoundError, EntryNotFoundError, HfHubHTTPError, OSError, ValueError) as exc:
        raise WeightsError(f"hub:{repo_id}: could not get {DEFAULT_NAME}.safetensors ({type(exc).__name__}: {exc})") from None
    try:
        hf_hub_download(filename=f"{DEFAULT_NAME}.json", **kwargs)
    except (LocalEntryNotFoundError, EntryNotFoundError, HfHubHTTPError, OSError, ValueError):
        pass  # the header carries the config too
    return Path(weights)


def resolve_weights(weights: str | Path | None = None, cache_dir: str | Path | None = None) -> tuple[Path | None, str]:
    """(where to load from, why nothing was found). Order: explicit path or "hub:owner/name" →
    inpaint/checkpoints/ → the Hub repo in $SKETCHFACE_WEIGHTS_REPO → (None, reason). An explicit
    choice that fails raises; only the default search ends in None."""
    if weights is not None:
        text = str(weights)
        if text.startswith("hub:"):
            return download_from_hub(text[4:], cache_dir), ""
        return Path(text), ""
    local = CHECKPOINT_DIR / f"{DEFAULT_NAME}.safetensors"
    if local.is_file():
        return local, ""
    repo = os.environ.get(HUB_REPO_ENV)
    if repo:
        try:
            return download_from_hub(repo, cache_dir), ""
        except WeightsError as exc:
            return None, f" ({exc})"
    return None, ""
