"""The public API: `Editor.load()` once, then `editor.edit(image, mask, ...)` per photo.

edit() = read the inputs → choose a frame (aligned face, crop around the mask, or the
whole image) → sample image, hole, sketch and colour into it → the engine fills the hole →
sample the result back → blend it into the original inside the mask plus a narrow feather
band. Every pixel farther than the band from the mask is returned byte-identical.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from sketch.strokes import color_hints, layer_to_binary

from .engines import FrameInputs, PConvEngine, TeleaEngine
from .frame import Frame, from_frame, hints_to_frame, mask_to_frame, to_frame
from .framing import plan_frame
from .imageio import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, ImageLike, layer_size, oriented, to_rgb
from .weights import build_generator, read_checkpoint, resolve_weights

log = logging.getLogger("inpaint")

FALLBACK_WARNING = (
    "No trained weights were found, so the classical OpenCV Telea fill is in use: "
    "it ignores sketches and colour hints."
)


@dataclass
class EditInfo:
    """What the last edit() did, for logs and the app's status line."""

    engine: str
    path: str  # "empty", "full", "crop" or "aligned"
    note: str = ""
    frame_scale: float = 1.0
    feather: int = 0
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    ms: dict[str, float] = field(default_factory=dict)


class Editor:
    def __init__(
        self,
        engine: PConvEngine | TeleaEngine,
        max_side: int = DEFAULT_MAX_SIDE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        warning: str = "",
    ):
        self.engine_impl = engine
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.warning = warning
        self.last_info: EditInfo | None = None

    @property
    def engine(self) -> str:
        """"pconv" when a trained network runs, "telea" for the classical fallback."""
        return self.engine_impl.kind

    @property
    def model_name(self) -> str:
        return self.engine_impl.name

    @classmethod
    def load(
        cls,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        cache_dir: str | Path | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> "Editor":
        """weights: None (checkpoints/default, then the Hub repo in $SKETCHFACE_WEIGHTS_REPO,
        then the Telea fallback), a .safetensors path, or "hub:owner/name". An explicit
        choice that cannot be loaded raises WeightsError; only "nothing found" falls back."""
        path, reason = resolve_weights(weights, cache_dir)
        if path is None:
            warning = FALLBACK_WARNING + reason
            log.warning(warning)
            return cls(TeleaEngine(), max_side, max_pixels, warning)
        checkpoint = read_checkpoint(path)
        engine = PConvEngine(build_generator(checkpoint), checkpoint.name, device)
        log.info("loaded %s from %s", checkpoint.name, checkpoint.source)
        return cls(engine, max_side, max_pixels)

    # -- inputs -----------------------------------------------------------------------------
    def _check_layer(self, layer: ImageLike, what: str, width: int, height: int) -> ImageLike:
        if not isinstance(layer, (Image.Image, np.ndarray)):
            raise ValueError(f"{what} must be a PIL image or a numpy array, not {type(layer).__name__}")
        layer = oriented(layer)
        if layer_size(layer) != (width, height):
            w, h = layer_size(layer)
            raise ValueError(f"{what} is {w}×{h} but the image is {width}×{height}; they must match")
        return layer

    # -- the edit ---------------------------------------------------------------------------
    def edit(
        self,
        image: ImageLike,
        mask: ImageLike,
        sketch: ImageLike | None = None,
        color: ImageLike | None = None,
        faithfulness: float = 0.5,
        align: bool = True,
    ) -> Image.Image:
        """Redraw the masked region of `image`; returns a PIL RGB image of the same size.

        mask: > 127 (or alpha > 127) = redraw. sketch: same rule, marked = stroke.
        color: RGBA, alpha > 127 = a colour hint of that RGB. faithfulness in [0, 1]:
        0 = follow the sketch exactly, 1 = loosely. Raises ValueError on bad input."""
        clock = time.perf_counter()
        if not 0.0 <= float(faithfulness) <= 1.0:
            raise ValueError(f"faithfulness must be in [0, 1], got {faithfulness}")
        rgb = to_rgb(image, self.max_side, self.max_pixels)
        height, width = rgb.shape[:2]
        hole = layer_to_binary(self._check_layer(mask, "mask", width, height))
        strokes = None if sketch is None else layer_to_binary(self._check_layer(sketch, "sketch", width, height))
        hints = None if color is None else color_hints(self._check_layer(color, "color", width, height))
        ms = {"read": 1000 * (time.perf_counter() - clock)}

        if not hole.any():
            self.last_info = EditInfo(self.model_name, "empty", "empty mask: image returned unchanged", ms=ms)
            return Image.fromarray(rgb)

        clock = time.perf_counter()
        frame, note = plan_frame(rgb, hole, self.engine_impl.resolution, align)
        ms["detect"] = 1000 * (time.perf_counter() - clock)  # choosing the frame: face detection
        clock = time.perf_counter()
        inputs = FrameInputs(to_frame(rgb, frame), mask_to_frame(hole, frame), level=float(faithfulness))
        if strokes is not None and strokes.any():
            inputs.sketch = mask_to_frame(strokes, frame, threshold=0.2) & inputs.hole
        if hints is not None and hints[1].any():
            inputs.color, inputs.color_mask = hints_to_frame(*hints, frame)
            inputs.color_mask &= inputs.hole
        ms["frame"] = 1000 * (time.perf_counter() - clock)

        clock = time.perf_counter()
        filled = self.engine_impl.predict(inputs)
        ms["engine"] = 1000 * (time.perf_counter() - clock)

        clock = time.perf_counter()
        feather = feather_width(frame)
        out, box = paste_back(rgb, hole, filled, frame, feather)
        ms["paste"] = 1000 * (time.perf_counter() - clock)
        self.last_info = EditInfo(self.model_name, frame.kind, note, frame.scale, feather, box, ms)
        return Image.fromarray(out)


def feather_width(frame: Frame) -> int:
    """A band of about 1.5 frame pixels, in image pixels (2–16): wide enough to hide the
    seam of an upsampled prediction, narrow enough to keep the edit local."""
    return int(np.clip(round(1.5 / frame.scale), 2, 16))


def paste_back(
    rgb: np.ndarray, hole: np.ndarray, filled: np.ndarray, frame: Frame, feather: int
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Blend the frame result into a copy of `rgb`: weight 1 on the hole, falling linearly
    to 0 at `feather` px outside it; pixels with weight 0 are not written at all."""
    height, width = hole.shape
    ys, xs = np.nonzero(hole)
    x0, y0 = max(0, xs.min() - feather - 1), max(0, ys.min() - feather - 1)
    x1, y1 = min(width, xs.max() + feather + 2), min(height, ys.max() + feather + 2)
    box = (int(x0), int(y0), int(x1), int(y1))
    region_hole = hole[y0:y1, x0:x1]
    distance = cv2.distanceTransform((~region_hole).astype(np.uint8), cv2.DIST_L2, 5)
    weight = np.clip(1.0 - distance / (feather + 1.0), 0.0, 1.0)
    back = from_frame(filled, frame, box)
    original = rgb[y0:y1, x0:x1].astype(np.float32)
    blended = np.clip(np.rint(weight[..., None] * back + (1.0 - weight[..., None]) * original), 0, 255)
    out = rgb.copy()
    touched = weight > 0
    out[y0:y1, x0:x1][touched] = blended[touched].astype(np.uint8)
    return out, box
