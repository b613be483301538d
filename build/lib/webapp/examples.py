"""The example edits under webapp/examples/ (built by examples/make_examples.py): the astronaut photo,
and for each edit a Mask, Sketch and Color layer.

The editor is given only the photo (an example value with layers would come back renamed and
misplaced, see client_js); the layers follow as data URLs, drawn into the named layers once the
photo has loaded.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .files import png_data_url
from .layers import LAYER_NAMES

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"  # package data
PHOTO = EXAMPLES_DIR / "astronaut.png"


@dataclass(frozen=True)
class Example:
    key: str
    label: str
    faithfulness: float


EXAMPLES = (Example("smile", "Wider smile", 0.2), Example("brows", "Arched brows", 0.3))


def layer_path(key: str, layer: str) -> Path:
    return EXAMPLES_DIR / f"astronaut_{key}_{layer.lower()}.png"


@functools.lru_cache(maxsize=len(EXAMPLES))
def layer_urls(key: str) -> tuple[str, ...]:
    """One data URL per layer (LAYER_NAMES order) of the example `key`; "" for an empty layer
    and for every layer when `key` is not an example (a photo the user uploaded)."""
    if key not in {example.key for example in EXAMPLES}:
        return ("",) * len(LAYER_NAMES)
    urls = []
    for layer in LAYER_NAMES:
        array = np.asarray(Image.open(layer_path(key, layer)).convert("RGBA"))
        urls.append(png_data_url(array) if array[..., 3].any() else "")
    return tuple(urls)
