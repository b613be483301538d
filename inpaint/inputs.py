"""Reading one edit's inputs, once, with one rule per input and one message per problem.

The API, the CLI and the app all hand `read_inputs` what they were given (PIL images,
arrays, file paths or bytes, exactly as they arrived); nothing is decoded or checked twice.

* photo: any PIL mode or array layout, EXIF orientation applied, transparency flattened
  on white; its ICC profile and EXIF are kept for the result.
* mask, sketch: alpha > 127 marks a pixel (luminance > 127 without a meaningful alpha).
  A layer at the photo's size is used as is; one of the same aspect ratio but another
  size (a canvas drawn smaller than the photo) is scaled with any-coverage / nearest
  resampling, never bilinearly; another aspect ratio is refused.
* color: RGBA, alpha > 127 = a hint of that RGB, sized by the same rule.
* faithfulness: a number from 0 (follow the sketch exactly) to 1 (loosely).
* reference, parts, reference_mode: another photo and the parts to take from it
  (`inpaint/reference.py`). Its mask and lines stand in for a mask or sketch not given (a
  given layer is used as it is: the app sends back the reference's layers as the user left
  them). With "pixels" (the default) its own pixels are moved in (`inpaint/transplant.py`)
  and its colour dabs are not hints: dabs sent back unchanged are dropped, a colour the
  user painted stays. With "lines" its dabs stand in for colour hints not given, and the
  network draws the part from the lines and dabs.
* An empty mask is refused: there is nothing to redraw. A mask over most of the photo
  (> `LARGE_MASK`) and a file of several frames (first frame used) are warned about.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from sketch.strokes import color_hints, layer_to_binary, resize_hints, resize_max

from .imageio import (DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, Metadata, Source, as_image, layer_size, photo_metadata,
                      pixels_to_rgb)
from .reference import REFERENCE_PARTS, ReferenceLayers, reference_layers

ASPECT_TOLERANCE = 0.01  # relative: a layer's w/h may differ from the photo's by this much
LARGE_MASK = 0.6  # a mask over more of the photo than this gets a warning


@dataclass(frozen=True)
class EditInputs:
    """Everything one edit needs, every map at the photo's size."""

    photo: np.ndarray  # H×W×3 uint8 RGB
    hole: np.ndarray  # bool H×W, True = redraw
    strokes: np.ndarray | None  # bool H×W, True = sketch line; None when there are none
    hints: tuple[np.ndarray, np.ndarray] | None  # (RGB H×W×3, bool H×W); None when there are none
    faithfulness: float
    metadata: Metadata
    reference: ReferenceLayers | None = None  # what a reference photo gave (inpaint/reference.py)
    reference_mode: str = "pixels"  # "pixels": its own pixels moved in; "lines": its lines and dabs drawn

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the user should know about these inputs: metadata dropped, frames ignored, a
        mask over most of the photo."""
        coverage = float(self.hole.mean())
        large = (f"the mask covers {coverage:.0%} of the photo: a region that large is redrawn from little of "
                 f"the photo around it and comes back as a smooth guess; mask only what should change",)
        matched = self.reference.warnings if self.reference is not None else ()
        return self.metadata.warnings + matched + (large if coverage > LARGE_MASK else ())


MODES = ("auto", "reshape", "redraw")
REFERENCE_MODES = ("pixels", "lines")


def _choice(value: object, choices: tuple[str, ...], what: str) -> str:
    """One of `choices` (None or "" means the first)."""
    if value is None or value == "":
        return choices[0]
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {value!r}")
    return str(value)


def read_mode(value: object) -> str:
    """An edit's mode (see `Editor.edit`); None means "auto"."""
    return _choice(value, MODES, "mode")


def read_reference_mode(value: object) -> str:
    """What a reference gives (see the module docstring); None means "pixels"."""
    return _choice(value, REFERENCE_MODES, "reference_mode")


def read_faithfulness(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"faithfulness must be a number from 0 to 1, not {value!r}") from None
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ValueError(f"faithfulness must be from 0 (follow the sketch exactly) to 1 (loosely), not {number:g}")
    return number


def _sized(source: Source, what: str, size: tuple[int, int], limits: tuple[int, int]):
    """The layer decoded (upright), with its aspect ratio checked against the photo's."""
    try:
        layer = as_image(source, *limits)
    except ValueError as exc:
        raise ValueError(f"the {what}: {exc}") from None
    (lw, lh), (w, h) = layer_size(layer), size
    if abs(lw / lh - w / h) > ASPECT_TOLERANCE * (w / h):
        raise ValueError(f"the {what} is {lw}×{lh} but the photo is {w}×{h}; they must match")
    return layer


def read_marks(source: Source | None, what: str, size: tuple[int, int],
               limits: tuple[int, int] = (DEFAULT_MAX_SIDE, DEFAULT_MAX_PIXELS)) -> np.ndarray | None:
    """A mask or sketch layer as bool H×W at `size` (width, height); None stays None."""
    if source is None:
        return None
    layer = _sized(source, what, size, limits)
    try:
        marks = layer_to_binary(layer)
    except ValueError as exc:
        raise ValueError(f"the {what}: {exc}") from None
    return marks if marks.shape[::-1] == size else resize_max(marks, size)


def read_hints(source: Source | None, size: tuple[int, int],
               limits: tuple[int, int] = (DEFAULT_MAX_SIDE, DEFAULT_MAX_PIXELS)) -> tuple[np.ndarray, np.ndarray] | None:
    """Colour hints (RGB, bool hint mask) at `size`; None stays None."""
    if source is None:
        return None
    layer = _sized(source, "color layer", size, limits)
    try:
        rgb, hint = color_hints(layer)
    except ValueError as exc:
        raise ValueError(f"the color layer: {exc}") from None
    return (rgb, hint) if hint.shape[::-1] == size else resize_hints(rgb, hint, size)


def read_inputs(
    image: Source,
    mask: Source | None,
    sketch: Source | None = None,
    color: Source | None = None,
    faithfulness: object = 0.5,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    reference: Source | None = None,
    parts: Sequence[str] = (),
    reference_mode: object = "pixels",
) -> EditInputs:
    """Decode and check one edit's inputs (see the module docstring). Raises ValueError."""
    level = read_faithfulness(faithfulness)
    reference_mode = read_reference_mode(reference_mode)
    limits = (max_side, max_pixels)
    if image is None:
        raise ValueError("no photo was given")
    photo = as_image(image, *limits)
    metadata = photo_metadata(photo) if isinstance(photo, Image.Image) else Metadata()
    rgb = pixels_to_rgb(photo)
    size = (rgb.shape[1], rgb.shape[0])
    if reference is None and parts:
        read_reference(None, parts, rgb, limits)  # says that the reference is missing
    if mask is None and reference is None:
        raise ValueError("no mask was given: mark the region to redraw (white or opaque pixels)")
    hole = read_marks(mask, "mask", size, limits)
    if hole is not None and not hole.any() and reference is None:
        raise ValueError("the mask is empty: mark the region to redraw (white or opaque pixels)")
    strokes = read_marks(sketch, "sketch", size, limits)
    hints = read_hints(color, size, limits)
    taken = read_reference(reference, parts, rgb, limits)
    if taken is not None:
        hole, strokes, hints = with_reference(taken, hole, strokes, hints, reference_mode)
    return EditInputs(rgb, hole, strokes if strokes is not None and strokes.any() else None,
                      hints if hints is not None and hints[1].any() else None, level, metadata, taken, reference_mode)


def read_reference(reference: Source | None, parts: Sequence[str], photo: np.ndarray,
                   limits: tuple[int, int]) -> ReferenceLayers | None:
    """The layers `parts` of the reference photo give (None without a reference)."""
    parts = [parts] if isinstance(parts, str) else list(parts or ())
    if reference is None:
        if parts:
            raise ValueError(f"parts ({', '.join(parts)}) were named but no reference photo was given")
        return None
    if not parts:
        raise ValueError(f"a reference photo was given but no part to take from it; choose from {', '.join(REFERENCE_PARTS)}")
    try:
        image = pixels_to_rgb(as_image(reference, *limits))
    except ValueError as exc:
        raise ValueError(f"the reference: {exc}") from None
    from .face import FaceDetectorUnavailable

    try:
        return reference_layers(photo, image, parts)
    except FaceDetectorUnavailable as exc:
        raise ValueError(f"face detection is not available here ({exc}), so a reference cannot be matched") from None


def with_reference(taken: ReferenceLayers, hole: np.ndarray | None, strokes: np.ndarray | None,
                   hints: tuple[np.ndarray, np.ndarray] | None, reference_mode: str = "pixels"):
    """The layers of the edit: each given layer as it is, the reference's where none was
    given (an empty mask counts as none); in "pixels" mode the reference's dabs are no
    hints, and a given colour layer loses the dabs it holds unchanged."""
    hole = taken.mask if hole is None or not hole.any() else hole
    strokes = taken.sketch if strokes is None else strokes
    if reference_mode == "lines":
        return hole, strokes, (taken.color, taken.color_mask) if hints is None else hints
    if hints is None:
        return hole, strokes, None
    rgb, given = hints
    dab = taken.color_mask & (rgb == taken.color).all(2)
    return hole, strokes, (rgb, given & ~dab)
