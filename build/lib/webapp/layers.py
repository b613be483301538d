"""The ImageEditor's value, split into what the engine reads (`inpaint.inputs` owns the rules).

Gradio's ImageEditor returns `{"background", "layers", "composite"}` with each layer an RGBA
image at canvas size; a stroke is alpha > 127. The layers are handed to the engine as they
arrived: `inpaint.inputs.read_inputs` decodes and checks them once.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

LAYER_NAMES = ("Mask", "Sketch", "Color")


def split_editor_value(value: dict | None) -> tuple[Image.Image, list[Image.Image | None]]:
    """(background, [Mask, Sketch, Color]) from an ImageEditor value; missing layers are None.
    Raises ValueError when there is no photo."""
    if not value or value.get("background") is None:
        raise ValueError("upload a photo first: drop it on the canvas, or pick an example below")
    layers = list(value.get("layers") or [])[: len(LAYER_NAMES)]
    layers += [None] * (len(LAYER_NAMES) - len(layers))
    return value["background"], layers


def region_layer(region: np.ndarray, rgba: tuple[int, int, int, int]) -> np.ndarray:
    """An RGBA layer painted `rgba` where `region`, transparent elsewhere."""
    layer = np.zeros(region.shape + (4,), np.uint8)
    layer[region] = rgba
    return layer
