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

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from PIL import Image

from .engines import FrameInputs, PConvEngine, TeleaEngine
from .generator import GeneratorConfig, SketchPConvUNet
from .frame import Frame, hints_to_frame, mask_to_frame, to_frame
from .framing import plan_frame
from .hints import follow_colour_hints
from .imageio import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, Source
from .inputs import EditInputs, read_inputs, read_mode
from .paste import blend_back, blend_reshaped, feather_width, reshaped_inputs, result_image
from .registrations import load_registration
from .reshape import Reshape, at_frame, register, registration_scale, still
from .transplant import Transplant, transplant
from .weights import build_generator, read_checkpoint, resolve_weights

if TYPE_CHECKING:
    from sketch.edges import EdgeDetector

# own lines, sketch, hole (bool maps in a frame `scale` times finer than the engine's), the face's
# landmarks there, faithfulness, scale → Reshape (in that frame)
Registration = Callable[[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None", float, float], Reshape]

log = logging.getLogger("inpaint")

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
    mode: str = "redraw"  # what ran: "transplant" (a reference's pixels), "reshape" (the photo's own part moved) or "redraw"
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
        registration: str = "classical",
    ) -> "Editor":
        """weights: None (inpaint/checkpoints/default, then the Hub repo in $SKETCHFACE_WEIGHTS_REPO,
        then the Telea fallback), a .safetensors path, or "hub:owner/name". An explicit
        choice that cannot be loaded raises WeightsError; only "nothing found" falls back.
        `detail` and `follow_hints` switch the paste-back's detail step and the colour-hint step.
        `registration` is how a reshape finds its field: "classical" (default) or "learned"
        (the flow network in inpaint/checkpoints/flow.safetensors; classical when absent)."""
        registration_fn, registration_warning = load_registration(registration)
        if registration_warning:
            log.warning(registration_warning)
        path, reason = resolve_weights(weights, cache_dir)
        if path is None:
            warning = FALLBACK_WARNING + reason
            log.warning(warning)
            return cls(TeleaEngine(), max_side, max_pixels, warning, detail, follow_hints, registration=registration_fn)
        checkpoint = read_checkpoint(path)
        engine = PConvEngine(build_generator(checkpoint), checkpoint.name, device)
        log.info("loaded %s from %s", checkpoint.name, checkpoint.source)
        return cls(engine, max_side, max_pixels, detail=detail, follow_hints=follow_hints, registration=registration_fn)

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
        reference_mode: str = "pixels",
        return_info: bool = False,
    ) -> Image.Image | EditResult:
        """Redraw the masked region of `image`; returns a PIL RGB image of the same size
        carrying the photo's ICC profile and EXIF in `.info` (or, with `return_info`, an
        `EditResult` with what was done).

        Inputs are PIL images, arrays, file paths or bytes (rules: inpaint/inputs.py).
        mask: > 127 (or alpha > 127) = redraw. sketch: same rule, marked = stroke.
        color: RGBA, alpha > 127 = a colour hint of that RGB. faithfulness in [0, 1]:
        0 = follow the sketch exactly, 1 = loosely.

        `mode`: "reshape" moves the photo's own part onto the sketch's lines and lets the
        network fill only what the move cannot supply; "redraw" has the network redraw the
        whole mask; "auto" reshapes when a sketch and no colour hints are given and at least
        half of the sketch matches the photo's own lines, else redraws. In a reshape,
        faithfulness is how closely the part follows every wiggle of the lines: 0 = they
        land on the sketch, 1 = each part takes only its overall move (shift, scale, tilt).

        `reference` (a photo) and `parts` (of "mouth", "eyes", "eyebrows", "nose") take those
        parts from that photo; `mask` is optional then. With `reference_mode` "pixels" (the
        default) the reference's own pixels are moved in (inpaint/transplant.py), and a
        sketch that differs from the reference's lines reshapes them; "lines", or mode
        "redraw", gives the network only the reference's lines and colours to draw from.
        Raises ValueError on bad input."""
        clock = time.perf_counter()
        mode = read_mode(mode)
        if mode == "redraw":  # the network draws the whole mask: a reference can only guide it
            reference_mode = "lines"
        inputs = read_inputs(image, mask, sketch, color, faithfulness, self.max_side, self.max_pixels, reference, parts,
                             reference_mode)
        ms = {"read": 1000 * (time.perf_counter() - clock)}
        hole = inputs.hole

        clock = time.perf_counter()
        moved_in = self.transplant_stage(inputs)
        rgb = inputs.photo if moved_in is None else moved_in.photo
        if moved_in is not None:
            ms["transplant"] = 1000 * (time.perf_counter() - clock)

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
        reshaped, mode_note = self.warp_stage(inputs, frame, framed, mode, moved_in)
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
            network = None if moved_in is None else moved_in.network
            region, touched, box = blend_reshaped(rgb, hole, reshaped, filled, frame, feather, self.detail, network)
        ms["paste"] = 1000 * (time.perf_counter() - clock)
        clock = time.perf_counter()
        result = inputs.metadata.attach(result_image(rgb, region, touched, box))
        ms["output"] = 1000 * (time.perf_counter() - clock)
        if not return_info:
            return result
        guided = [0 if m is None else int(m.sum()) for m in (framed.sketch, framed.color_mask)]
        taken = inputs.reference.note if inputs.reference is not None else ""
        if moved_in is not None:
            taken = taken.replace("from the reference", "from the reference, its own pixels moved in", 1)
        ran = "redraw" if reshaped is None else "transplant" if moved_in is not None else "reshape"
        info = EditInfo(self.model_name, frame.kind, note, frame.scale, feather, box, ms, inputs.warnings, *guided, taken,
                        ran, mode_note)
        return EditResult(result, info)

    @staticmethod
    def transplant_stage(inputs: EditInputs) -> Transplant | None:
        """The reference's own pixels moved in, or None: no reference, or it guides the
        network only (reference_mode "lines")."""
        if inputs.reference is None or inputs.reference_mode == "lines":
            return None
        return transplant(inputs.photo, inputs.reference, inputs.hole)

    def warp_stage(self, inputs: EditInputs, frame: Frame, framed: FrameInputs, mode: str,
                   moved_in: Transplant | None = None) -> tuple[Reshape | None, str]:
        """The reshape of this edit, or None (redraw) and a note saying why when it matters.
        `auto` leaves a lines-only reference to the network (its lines draw another face's
        part), and colour hints too (a reshape moves the photo's own colours; hints reach only
        the network's share of it). After a transplant, the own lines are the reference's as
        placed: a sketch left as the reference gave it keeps the transplant exactly."""
        sketched = framed.sketch is not None and framed.sketch.any()
        if moved_in is not None:
            own = mask_to_frame(moved_in.lines, frame, threshold=0.2) & framed.hole
            network = mask_to_frame(moved_in.network, frame) & framed.hole
            if not sketched or np.array_equal(own, framed.sketch):
                return still(network), "the reference's lines as given: its part moved in unchanged"
        elif mode == "redraw" or (mode == "auto" and (not sketched or inputs.reference is not None)):
            return None, ""
        elif mode == "auto" and framed.color_mask is not None and framed.color_mask.any():
            return None, "colour hints were given, so the region was redrawn to take them"
        if not sketched:
            return None, "no sketch lines in the mask to reshape to, so the region was redrawn"
        if moved_in is None:
            from sketch import own_and_faint_strokes

            own_lines, faint_lines = own_and_faint_strokes(inputs.photo, inputs.hole, self.edges)
            own_lines = own_lines | faint_lines  # a drawn line may be one the photo holds faintly
        else:
            own_lines = moved_in.lines
        fine = frame.refined(registration_scale(frame.scale))
        fine_hole = mask_to_frame(inputs.hole, fine)
        found = self.registration(mask_to_frame(own_lines, fine, threshold=0.2) & fine_hole,
                                  mask_to_frame(inputs.strokes, fine, threshold=0.2) & fine_hole, fine_hole,
                                  fine.frame_landmarks(), framed.level, fine.size / frame.size)
        found = at_frame(found, framed.hole)
        whose = "the reference's lines as placed" if moved_in is not None else "the photo's own lines in the mask"
        if not found.usable:
            return None, f"the sketch matched {found.matched:.0%} of {whose}, so the region was redrawn"
        if moved_in is not None:
            found = dataclasses.replace(found, hole=found.hole | network)
        return found, f"{found.matched:.0%} of the sketch matched {whose}"
