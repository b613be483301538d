"""The public API: `Editor.load()` once, then `editor.edit(image, mask, ...)` per photo.

edit() = read the inputs → choose a frame (aligned face, crop around the mask, or the
whole image) → sample image, hole, sketch and colour into it → **warp** (reshape: the
photo's own lines registered to the sketch, the part moved by that field; `inpaint/reshape.py`)
→ the engine fills the hole (in a reshape, only the pixels the move cannot supply) →
sample the result back → blend it into the original inside the mask plus a narrow feather
band (a reshape moves the full-resolution photo's own pixels). Every pixel farther than the
band from the mask is returned byte-identical.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import cv2
import numpy as np
from PIL import Image

from .detail import context_margin, refine
from .engines import FrameInputs, PConvEngine, TeleaEngine
from .generator import GeneratorConfig, SketchPConvUNet
from .frame import Frame, from_frame, hints_to_frame, mask_box, mask_from_frame, mask_to_frame, to_frame
from .framing import plan_frame
from .hints import follow_colour_hints
from .imageio import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, Source
from .inputs import EditInputs, read_inputs, read_mode
from .reshape import Reshape, register, remap_frame, warp_photo
from .weights import build_generator, read_checkpoint, resolve_weights

if TYPE_CHECKING:
    from sketch.edges import EdgeDetector

# own lines, sketch, hole (bool frame maps), the face's landmarks in the frame, faithfulness → Reshape
Registration = Callable[[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None", float], Reshape]

log = logging.getLogger("inpaint")
BLEND_ROWS = 256  # rows blended at a time at paste-back

FALLBACK_WARNING = (
    "No trained weights were found, so the classical OpenCV Telea fill is in use: "
    "it ignores sketches, and colour hints only tint its fill."
)


@dataclass(frozen=True)
class EditInfo:
    """What one edit() did, for logs and the app's status line."""

    model_name: str  # the weights' name, or "opencv-telea" for the classical fallback
    path: str  # "full", "crop" or "aligned"
    note: str = ""
    frame_scale: float = 1.0
    feather: int = 0
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    ms: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # usable but imperfect input, e.g. a malformed EXIF block
    sketch_pixels: int = 0  # sketch-line and colour-hint pixels inside the hole, in the frame:
    hint_pixels: int = 0  # what the network was given (0 = an unguided fill)
    reference: str = ""  # which parts came from a reference photo, and how well the faces matched
    mode: str = "redraw"  # what ran: "reshape" (the photo's own part moved) or "redraw"
    mode_note: str = ""  # why, and how much of the sketch the photo's own lines matched


@dataclass(frozen=True)
class EditResult:
    """An edited photo and what was done to it (`Editor.edit(..., return_info=True)`)."""

    image: Image.Image
    info: EditInfo


class Editor:
    """Loaded once, then shared: `edit` keeps no state between calls, so one Editor serves
    many threads at once (the face detector is per thread, see inpaint/face/detect.py)."""

    def __init__(
        self,
        engine: PConvEngine | TeleaEngine,
        max_side: int = DEFAULT_MAX_SIDE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        warning: str = "",
        detail: bool = True,
        follow_hints: bool = True,
        edges: "EdgeDetector | str | None" = None,
        registration: Registration = register,
    ):
        self._engine = engine
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.warning = warning
        self.detail = detail  # full-resolution detail and colour matching at paste-back (inpaint/detail.py)
        self.follow_hints = follow_hints  # the fill shifted toward the colour hints (inpaint/hints.py)
        self.edges = edges  # the photo's own lines for a reshape: sketch.get_detector's choice (None = auto)
        self.registration = registration  # own lines, sketch, hole, landmarks, faithfulness → Reshape

    @property
    def kind(self) -> str:
        """"pconv" when a trained network runs, "telea" for the classical fallback."""
        return self._engine.kind

    @property
    def model_name(self) -> str:
        return self._engine.name

    @property
    def resolution(self) -> int:
        """The side of the frame the engine fills."""
        return self._engine.resolution

    @property
    def network_config(self) -> GeneratorConfig | None:
        """The trained network's architecture (None for the classical fallback)."""
        model = getattr(self._engine, "model", None)
        return None if model is None else model.config

    def with_options(self, *, detail: bool | None = None, follow_hints: bool | None = None,
                     registration: Registration | None = None,
                     edges: "EdgeDetector | str | None" = None) -> "Editor":
        """The same loaded engine with other steps around the network (for benchmarks that
        compare them, and tests): the detail and colour-hint steps, another way to find a
        reshape's field, or another detector of the photo's own lines ("hed", "gradient")."""
        return Editor(self._engine, self.max_side, self.max_pixels, self.warning,
                      self.detail if detail is None else detail,
                      self.follow_hints if follow_hints is None else follow_hints,
                      self.edges if edges is None else edges,
                      self.registration if registration is None else registration)

    @classmethod
    def from_network(cls, network: SketchPConvUNet, name: str = "network", *, serving: bool = True,
                     detail: bool = True, follow_hints: bool = True) -> "Editor":
        """An editor around a network in memory (a run's EMA, a candidate being judged). With
        `serving` it runs a folded copy, as `load` does; without, the module itself on its own
        device, in whatever mode the caller set (the in-loop validation of a training run)."""
        return cls(PConvEngine(network, name, serving=serving), detail=detail, follow_hints=follow_hints)

    @classmethod
    def telea(cls, resolution: int = 512, *, detail: bool = True, follow_hints: bool = True) -> "Editor":
        """The classical fallback on purpose: OpenCV's Telea fill in a `resolution`-px frame,
        which ignores sketches (a baseline for the benchmarks)."""
        return cls(TeleaEngine(resolution), detail=detail, follow_hints=follow_hints)

    def fill_frames(self, frames: list[FrameInputs]) -> list[np.ndarray]:
        """The frame-scale steps of `edit` on frames already sampled (one size and level):
        the engine's fill with the known pixels kept, then the colour-hint step."""
        filled = self._engine.predict_batch(frames)
        if not self.follow_hints:
            return filled
        return [follow_colour_hints(out, f.hole, f.color, f.color_mask) for out, f in zip(filled, frames)]

    @classmethod
    def load(
        cls,
        weights: str | Path | None = None,
        *,
        device: str = "cpu",
        cache_dir: str | Path | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        detail: bool = True,
        follow_hints: bool = True,
    ) -> "Editor":
        """weights: None (inpaint/checkpoints/default, then the Hub repo in $SKETCHFACE_WEIGHTS_REPO,
        then the Telea fallback), a .safetensors path, or "hub:owner/name". An explicit
        choice that cannot be loaded raises WeightsError; only "nothing found" falls back.
        `detail` and `follow_hints` switch the paste-back's detail step and the colour-hint step."""
        path, reason = resolve_weights(weights, cache_dir)
        if path is None:
            warning = FALLBACK_WARNING + reason
            log.warning(warning)
            return cls(TeleaEngine(), max_side, max_pixels, warning, detail, follow_hints)
        checkpoint = read_checkpoint(path)
        engine = PConvEngine(build_generator(checkpoint), checkpoint.name, device)
        log.info("loaded %s from %s", checkpoint.name, checkpoint.source)
        return cls(engine, max_side, max_pixels, detail=detail, follow_hints=follow_hints)

    def edit(
        self,
        image: Source,
        mask: Source | None = None,
        sketch: Source | None = None,
        color: Source | None = None,
        faithfulness: float = 0.5,
        align: bool = True,
        *,
        reference: Source | None = None,
        parts: Sequence[str] = (),
        mode: str = "auto",
        return_info: bool = False,
    ) -> Image.Image | EditResult:
        """Redraw the masked region of `image`; returns a PIL RGB image of the same size
        carrying the photo's ICC profile and EXIF in `.info` (or, with `return_info`, an
        `EditResult` with what was done).

        Inputs are PIL images, arrays, file paths or bytes (rules: inpaint/inputs.py).
        mask: > 127 (or alpha > 127) = redraw. sketch: same rule, marked = stroke.
        color: RGBA, alpha > 127 = a colour hint of that RGB. faithfulness in [0, 1]:
        0 = follow the sketch exactly, 1 = loosely. `reference` (a photo) and `parts` (of
        "mouth", "eyes", "eyebrows", "nose") add that photo's parts as mask, lines and colour
        (inpaint/reference.py); `mask` is optional then. `mode`: "reshape" moves the photo's
        own part onto the sketch's lines and lets the network fill only what the move cannot
        supply; "redraw" has the network redraw the whole mask; "auto" reshapes when a sketch
        and no colour hints are given and at least half of the sketch matches the photo's own
        lines, else redraws. In a
        reshape, faithfulness is how closely the part follows every wiggle of the lines:
        0 = they land on the sketch, 1 = each part takes only its overall move (shift, scale,
        tilt). Raises ValueError on bad input."""
        clock = time.perf_counter()
        mode = read_mode(mode)
        inputs = read_inputs(image, mask, sketch, color, faithfulness, self.max_side, self.max_pixels, reference, parts)
        ms = {"read": 1000 * (time.perf_counter() - clock)}
        rgb, hole = inputs.photo, inputs.hole

        clock = time.perf_counter()
        frame, note = plan_frame(rgb, hole, self.resolution, align)
        ms["detect"] = 1000 * (time.perf_counter() - clock)  # choosing the frame: face detection
        clock = time.perf_counter()
        framed = FrameInputs(to_frame(rgb, frame), mask_to_frame(hole, frame), level=inputs.faithfulness)
        if inputs.strokes is not None:
            framed.sketch = mask_to_frame(inputs.strokes, frame, threshold=0.2) & framed.hole
        if inputs.hints is not None:
            framed.color, framed.color_mask = hints_to_frame(*inputs.hints, frame)
            framed.color_mask &= framed.hole
        ms["frame"] = 1000 * (time.perf_counter() - clock)

        clock = time.perf_counter()
        reshaped, mode_note = self.warp_stage(inputs, frame, framed, mode)
        if reshaped is not None:
            framed = reshaped_inputs(framed, reshaped)
        if reshaped is not None or mode_note:  # the stage ran (a fallback to redraw took its time too)
            ms["warp"] = 1000 * (time.perf_counter() - clock)

        clock = time.perf_counter()
        filled = self.fill_frames([framed])[0] if framed.hole.any() else framed.image
        ms["engine"] = 1000 * (time.perf_counter() - clock)

        clock = time.perf_counter()
        feather = feather_width(frame)
        if reshaped is None:
            region, touched, box = blend_back(rgb, hole, filled, frame, feather, self.detail)
        else:
            region, touched, box = blend_reshaped(rgb, hole, reshaped, filled, frame, feather, self.detail)
        ms["paste"] = 1000 * (time.perf_counter() - clock)
        clock = time.perf_counter()
        result = inputs.metadata.attach(result_image(rgb, region, touched, box))
        ms["output"] = 1000 * (time.perf_counter() - clock)
        if not return_info:
            return result
        guided = [0 if m is None else int(m.sum()) for m in (framed.sketch, framed.color_mask)]
        taken = inputs.reference.note if inputs.reference is not None else ""
        info = EditInfo(self.model_name, frame.kind, note, frame.scale, feather, box, ms, inputs.warnings, *guided, taken,
                        "redraw" if reshaped is None else "reshape", mode_note)
        return EditResult(result, info)

    def warp_stage(self, inputs: EditInputs, frame: Frame, framed: FrameInputs, mode: str) -> tuple[Reshape | None, str]:
        """The reshape of this edit, or None (redraw) and a note saying why when it matters.
        `auto` leaves a reference's lines to the network (they draw another face's part), and
        colour hints too (a reshape moves the photo's own colours; hints reach only the
        network's share of it)."""
        sketched = framed.sketch is not None and framed.sketch.any()
        if mode == "redraw" or (mode == "auto" and (not sketched or inputs.reference is not None)):
            return None, ""
        if mode == "auto" and framed.color_mask is not None and framed.color_mask.any():
            return None, "colour hints were given, so the region was redrawn to take them"
        if not sketched:
            return None, "no sketch lines in the mask to reshape to, so the region was redrawn"
        from sketch import own_strokes

        own = mask_to_frame(own_strokes(inputs.photo, inputs.hole, self.edges), frame, threshold=0.2) & framed.hole
        found = self.registration(own, framed.sketch, framed.hole, frame.frame_landmarks(), framed.level)
        if not found.usable:
            return None, (f"the sketch matched {found.matched:.0%} of the photo's own lines in the mask, "
                          "so the region was redrawn")
        return found, f"{found.matched:.0%} of the sketch matched the photo's own lines"


def feather_width(frame: Frame) -> int:
    """A band of about 1.5 frame pixels, in image pixels (2–16): wide enough to hide the
    seam of an upsampled prediction, narrow enough to keep the edit local."""
    return int(np.clip(round(1.5 / frame.scale), 2, 16))


def blend_back(
    rgb: np.ndarray, hole: np.ndarray, filled: np.ndarray, frame: Frame, feather: int, detail: bool = True
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """The frame result blended over `rgb` inside box = (x0, y0, x1, y1): weight 1 on the
    hole, falling linearly to 0 at `feather` px outside it. Returns (the blended box, uint8;
    the pixels to write, bool; box): pixels with weight 0 are not written at all. With
    `detail`, the fill's colour step at the edge is removed and, where the frame was scaled
    up, the photo's own fine detail is synthesised into it (inpaint/detail.py); that step
    reads the photo around the hole but writes only where the blend does."""
    height, width = hole.shape
    hx0, hy0, hx1, hy1 = mask_box(hole)
    x0, y0 = max(0, hx0 - feather - 1), max(0, hy0 - feather - 1)
    x1, y1 = min(width, hx1 + feather + 1), min(height, hy1 + feather + 1)
    box = (x0, y0, x1, y1)
    upscale = 1.0 / frame.scale
    margin = context_margin(upscale) if detail else 0
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(width, x1 + margin), min(height, y1 + margin)
    context_hole = hole[cy0:cy1, cx0:cx1]
    region_hole = context_hole[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    distance = cv2.distanceTransform((~region_hole).astype(np.uint8), cv2.DIST_L2, 5)
    if detail and not context_hole.all():  # the detail step reads the whole box at once
        back = refine(from_frame(filled, frame, (cx0, cy0, cx1, cy1)), rgb[cy0:cy1, cx0:cx1], context_hole, upscale)
        back = back[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        band = lambda r0, r1: back[r0:r1]  # noqa: E731
    else:  # nothing around the hole to read (or no detail step): the fill is sampled band by band
        band = lambda r0, r1: from_frame(filled, frame, (x0, y0 + r0, x1, y0 + r1))  # noqa: E731
    blended = np.empty(region_hole.shape + (3,), np.uint8)
    touched = np.empty(region_hole.shape, bool)
    for r0 in range(0, distance.shape[0], BLEND_ROWS):  # per band: a 4096² blend in float32 would take 1 GB
        r1 = min(r0 + BLEND_ROWS, distance.shape[0])
        weight = np.clip(1.0 - distance[r0:r1] / (feather + 1.0), 0.0, 1.0)
        original = rgb[y0 + r0:y0 + r1, x0:x1].astype(np.float32)
        mixed = weight[..., None] * band(r0, r1) + (1.0 - weight[..., None]) * original
        blended[r0:r1] = np.clip(np.rint(mixed), 0, 255)
        touched[r0:r1] = weight > 0
    return blended, touched, box


def reshaped_inputs(framed: FrameInputs, reshaped: Reshape) -> FrameInputs:
    """The network's inputs after the move: the moved frame as context, and only the pixels
    the move cannot supply as its hole (with the sketch and colour hints there)."""
    hole = reshaped.hole
    return FrameInputs(remap_frame(framed.image, reshaped.field), hole,
                       None if framed.sketch is None else framed.sketch & hole, framed.color,
                       None if framed.color_mask is None else framed.color_mask & hole, framed.level)


def blend_reshaped(
    rgb: np.ndarray, hole: np.ndarray, reshaped: Reshape, filled: np.ndarray, frame: Frame, feather: int,
    detail: bool = True,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """As `blend_back`, for a reshape: the full-resolution photo's own pixels moved by the
    field inside the mask (plus the feather band, where the field is all but zero), and the
    network's fill blended over the pixels the move cannot supply, its detail step reading
    the moved photo around them. Returns (the box, uint8; the pixels that changed; box)."""
    height, width = hole.shape
    hx0, hy0, hx1, hy1 = mask_box(hole)
    margin = feather + 1 + (context_margin(1.0 / frame.scale) if detail else 0)
    box = (max(0, hx0 - margin), max(0, hy0 - margin), min(width, hx1 + margin), min(height, hy1 + margin))
    x0, y0, x1, y1 = box
    near = cv2.distanceTransform((~hole[y0:y1, x0:x1]).astype(np.uint8), cv2.DIST_L2, 5) <= feather
    moved = warp_photo(rgb, reshaped.field, frame, box, near)
    network = mask_from_frame(reshaped.hole, frame, box) & hole[y0:y1, x0:x1]
    if network.any():
        region, touched, (nx0, ny0, nx1, ny1) = blend_back(moved, network, filled, frame.offset(x0, y0), feather, detail)
        moved[ny0:ny1, nx0:nx1][touched] = region[touched]
    return moved, (moved != rgb[y0:y1, x0:x1]).any(2), box


def paste_back(
    rgb: np.ndarray, hole: np.ndarray, filled: np.ndarray, frame: Frame, feather: int, detail: bool = True
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """`blend_back` written into a copy of `rgb`: (the whole edited image, box)."""
    region, touched, box = blend_back(rgb, hole, filled, frame, feather, detail)
    x0, y0, x1, y1 = box
    out = rgb.copy()
    out[y0:y1, x0:x1][touched] = region[touched]
    return out, box


def result_image(rgb: np.ndarray, region: np.ndarray, touched: np.ndarray, box: tuple[int, int, int, int]) -> Image.Image:
    """The edited photo as a PIL image: the box written into a copy of `rgb` through the
    `touched` mask in place (no temporaries of the box's size), then handed to PIL."""
    x0, y0, x1, y1 = box
    out = rgb.copy()
    np.copyto(out[y0:y1, x0:x1], region, where=touched[..., None])
    return Image.fromarray(out)
