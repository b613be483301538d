"""Finding and loading converted HED weights (safetensors + JSON config; never pickles).

Lookup order of `load_hed`:
1. an explicit `path` (a directory holding `hed.safetensors` [+ `hed.json`], or the
   `.safetensors` file itself). When given it is the only place looked at;
2. the cache directory `$SKETCHFACE_CACHE/hed/` (default `~/.cache/sketchface/hed/`),
   where `python -m sketch.hed_convert` writes;
3. a Hugging Face Hub repo (argument `hub_repo`, else env `SKETCHFACE_HED_REPO`), files
   `hed.safetensors` and `hed.json`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

WEIGHTS_NAME = "hed.safetensors"
CONFIG_NAME = "hed.json"
FORMAT_VERSION = 1
HUB_ENV = "SKETCHFACE_HED_REPO"
CACHE_ENV = "SKETCHFACE_CACHE"
CONVERT_HINT = "run `python -m sketch.hed_convert` to create them"


class HedWeightsError(RuntimeError):
    """HED weights exist but cannot be used (corrupt, truncated, wrong architecture)."""


class HedWeightsNotFoundError(HedWeightsError, FileNotFoundError):
    """No HED weights were found in any of the places looked at."""


def cache_dir() -> Path:
    """Default directory of converted HED weights: `$SKETCHFACE_CACHE/hed` or `~/.cache/sketchface/hed`."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "sketchface"
    return Path(root).expanduser() / "hed"


def _split(path: Path) -> tuple[Path, Path]:
    """(weights file, config file) for a directory or a weights-file path."""
    if path.is_dir():
        return path / WEIGHTS_NAME, path / CONFIG_NAME
    return path, path.with_name(CONFIG_NAME)


def find_weights(path: str | os.PathLike | None = None, hub_repo: str | None = None) -> tuple[Path, Path | None]:
    """Locate (weights, config or None) following the lookup order of the module docstring."""
    if path is not None:
        weights, config = _split(Path(path).expanduser())
        if not weights.is_file():
            raise HedWeightsNotFoundError(f"expected HED weights `{WEIGHTS_NAME}` at {weights}; {CONVERT_HINT}")
        return weights, config if config.is_file() else None
    weights, config = cache_dir() / WEIGHTS_NAME, cache_dir() / CONFIG_NAME
    if weights.is_file():
        return weights, config if config.is_file() else None
    repo = hub_repo or os.environ.get(HUB_ENV)
    if not repo:
        raise HedWeightsNotFoundError(
            f"no HED weights: expected {weights} (cache, set ${CACHE_ENV} to move it) or a Hub repo "
            f"(argument hub_repo or ${HUB_ENV}) holding {WEIGHTS_NAME} and {CONFIG_NAME}; {CONVERT_HINT}")
    return _from_hub(repo)


def _from_hub(repo: str) -> tuple[Path, Path]:
    from huggingface_hub import hf_hub_download

    try:
        weights = Path(hf_hub_download(repo, WEIGHTS_NAME))
        config = Path(hf_hub_download(repo, CONFIG_NAME))
    except Exception as error:  # network, missing repo or file: all mean "not found here"
        raise HedWeightsNotFoundError(
            f"could not download {WEIGHTS_NAME} and {CONFIG_NAME} from the Hub repo {repo!r}: {error}") from error
    return weights, config


def read_config(config: Path) -> dict:
    """The JSON config written by the converter, checked for architecture and format version."""
    from .hed import ARCHITECTURE

    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError) as error:
        raise HedWeightsError(f"unreadable HED config {config}: {error}") from error
    if data.get("architecture") != ARCHITECTURE or data.get("format_version") != FORMAT_VERSION:
        raise HedWeightsError(
            f"{config} describes architecture {data.get('architecture')!r} format "
            f"{data.get('format_version')!r}; expected {ARCHITECTURE!r} format {FORMAT_VERSION}")
    return data


def load_state_dict(weights: Path) -> dict:
    """Tensors of a safetensors file; a truncated or corrupt file raises `HedWeightsError`."""
    from safetensors.torch import load_file

    try:
        return load_file(str(weights))
    except Exception as error:  # SafetensorError, OSError, header JSON errors
        raise HedWeightsError(
            f"{weights} is not a readable safetensors file ({error}); expected the HED weights written by "
            f"`python -m sketch.hed_convert` — delete it and convert again") from error


def load_hed(path: str | os.PathLike | None = None, hub_repo: str | None = None, device: str = "cpu"):
    """A `HED` in eval mode with converted weights (see the module docstring for where they are looked for)."""
    from .hed import HED

    weights, config = find_weights(path, hub_repo)
    if config is not None:
        read_config(config)
    state = load_state_dict(weights)
    model = HED()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise HedWeightsError(f"{weights} does not hold HED (VGG16) weights: {error}") from error
    return model.to(device).eval()
