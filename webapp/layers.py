"""The editor's value as the engine wants it: the photo, plus Mask / Sketch / Color at the photo's size.

Gradio's ImageEditor returns `{"background", "layers", "composite"}` with each layer an RGBA
image at canvas size; a stroke is alpha > 127. With `fixed_canvas=False` (as here) the canvas is
the photo's own size, so layers normally match it exactly. If they do not (a canvas smaller than
the photo), they are scaled up with nearest / any-coverage resampling — never bilinearly, which
would leave a grey rim around a hole — and only when the aspect ratio agrees, so a layer drawn
for another picture is refused rather than stretched.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from inpaint.imageio import layer_size, to_rgb
from sketch.strokes import color_hints, layer_to_binary, resize_hints, resize_max

LAYER_NAMES = ("Mask", "Sketch", "Color")
ASPECT_TOLERANCE = 0.01  # relative; a layer's w/h may differ from the photo's by this much


@dataclass
class EditInputs:
    """What one edit needs, every map at the photo's size."""

    photo: np.ndarray  # H×W×3 uint8 RGB
    mask: np.ndarray  # bool H×W, True = redraw
    sketch: np.ndarray | None = None  # bool H×W, True = stroke
    color: np.ndarray | None = None  # H×W×4 uint8 RGBA, alpha 255 = hint

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.photo.shape[1], self.photo.shape[0]


def photo_rgb(image: Image.Image | np.ndarray) -> np.ndarray:
    """The photo as RGB, transparent areas flattened on white (the editor exports RGBA, and the
    colour under alpha 0 is arbitrary). Raises ValueError for images over the engine's limits."""
    if isinstance(image, Image.Image) and image.mode in ("RGBA", "LA", "PA"):
        alpha = image.getchannel("A")
        if alpha.getextrema()[0] < 255:
            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    return to_rgb(image)


def _check_aspect(what: str, layer_size: tuple[int, int], size: tuple[int, int]) -> None:
    (lw, lh), (w, h) = layer_size, size
    if abs(lw / lh - w / h) > ASPECT_TOLERANCE * (w / h):
        raise ValueError(f"the {what} is {lw}×{lh} but the photo is {w}×{h}; draw it on the same picture")


def binary_at(layer: Image.Image | np.ndarray, size: tuple[int, int], what: str) -> np.ndarray:
    """Marked pixels of a layer (alpha > 127, or luminance > 127 without alpha) at `size`
    (width, height); scaled with `resize_max` (any coverage down, nearest up) if needed."""
    _check_aspect(what, layer_size(layer), size)
    binary = layer_to_binary(layer)
    return binary if binary.shape[::-1] == size else resize_max(binary, size)


def hints_at(layer: Image.Image | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Colour hints as an RGBA array at `size`: alpha 255 where hinted, 0 elsewhere."""
    _check_aspect("Color layer", layer_size(layer), size)
    rgb, hint = color_hints(layer)
    if hint.shape[::-1] != size:
        rgb, hint = resize_hints(rgb, hint, size)
    return np.dstack([rgb, np.where(hint, 255, 0).astype(np.uint8)])


def edit_inputs(
    photo: Image.Image | np.ndarray,
    mask: Image.Image | np.ndarray | None,
    sketch: Image.Image | np.ndarray | None = None,
    color: Image.Image | np.ndarray | None = None,
) -> EditInputs:
    """Check and size everything for one edit. Raises ValueError with a message for the user."""
    rgb = photo_rgb(photo)
    size = (rgb.shape[1], rgb.shape[0])
    if mask is None:
        raise ValueError("no mask was given: paint the region to redraw on the Mask layer")
    hole = binary_at(mask, size, "Mask layer")
    if not hole.any():
        raise ValueError("the Mask layer is empty: paint over the part of the face to redraw "
                         "(or click a face-part button) and run again")
    strokes = None if sketch is None else binary_at(sketch, size, "Sketch layer")
    hints = None if color is None else hints_at(color, size)
    return EditInputs(rgb, hole, strokes if strokes is not None and strokes.any() else None,
                      hints if hints is not None and hints[..., 3].any() else None)


def split_editor_value(value: dict | None) -> tuple[Image.Image, list[Image.Image | None]]:
    """(background, [Mask, Sketch, Color]) from an ImageEditor value; missing layers are None.
    Raises ValueError when there is no photo."""
    if not value or value.get("background") is None:
        raise ValueError("upload a photo first: drop it on the canvas, or pick an example below")
    layers = list(value.get("layers") or [])[: len(LAYER_NAMES)]
    layers += [None] * (len(LAYER_NAMES) - len(layers))
    return value["background"], layers


def canvas_inputs(value: dict | None) -> EditInputs:
    """`edit_inputs` for the editor's value (layers in LAYER_NAMES order)."""
    background, (mask, sketch, color) = split_editor_value(value)
    return edit_inputs(background, mask, sketch, color)


def region_layer(region: np.ndarray, rgba: tuple[int, int, int, int]) -> np.ndarray:
    """An RGBA layer painted `rgba` where `region`, transparent elsewhere."""
    layer = np.zeros(region.shape + (4,), np.uint8)
    layer[region] = rgba
    return layer
