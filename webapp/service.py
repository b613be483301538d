"""The app's one engine: loaded once at start, warmed up, shared by every request at once.

`Editor.edit` keeps no state between calls and the face detector is per thread, so
requests run in parallel without a lock (`SKETCHFACE_CONCURRENCY` of them); torch's
threads are split between them (`threads_per_edit`). Everything here raises ValueError
with a message meant for the user; nothing imports gradio.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from inpaint import Editor
from inpaint.editor import EditInfo
from inpaint.face import FaceDetectorUnavailable, face_part_mask, load_models
from inpaint.face.parts import grow_mask, part_margin
from inpaint.imageio import Source
from inpaint.inputs import read_reference
from inpaint.reference import ReferenceLayers

log = logging.getLogger("sketchface.app")

# Button label → inpaint.face part name.
FACE_PARTS = {"Eyes": "eyes", "Brows": "eyebrows", "Nose": "nose", "Mouth": "mouth", "Face": "face", "Hair": "hair"}
# Button label → the part taken from a reference photo (inpaint.reference.REFERENCE_PARTS).
REFERENCE_BUTTONS = {"Mouth": "mouth", "Eyes": "eyes", "Brows": "eyebrows", "Nose": "nose"}


@dataclass(frozen=True)
class ServedEdit:
    image: Image.Image  # RGB, the photo's size, with its ICC profile and EXIF in .info
    status: str  # one Markdown line: what ran, which path and why, how long
    report: dict  # the same as data, for API clients (`edit_info`)


@dataclass(frozen=True)
class EdgesResult:
    layer: np.ndarray  # RGBA sketch layer at the photo's size
    detector: str  # "hed", or "gradient" for the fallback
    note: str  # non-empty when the fallback ran, saying why


def threads_per_edit(concurrency: int, cpus: int | None = None) -> int:
    """torch threads for each of `concurrency` edits running at once: the cores shared out,
    at least one each (oversubscribed OpenMP threads stall each other badly)."""
    return max(1, (cpus or os.cpu_count() or 1) // max(1, concurrency))


class Service:
    """The Editor plus the helpers of the app's buttons; safe to call from many threads."""

    def __init__(self, editor: Editor):
        self.editor = editor

    @classmethod
    def start(cls, warm_up: bool = True, concurrency: int = 1) -> Service:
        """Load the model (inpaint/checkpoints/, then $SKETCHFACE_WEIGHTS_REPO, else the Telea
        fallback), share the cores among `concurrency` edits and, with `warm_up`, load the
        face and edge detectors too, so the first request does not pay for them."""
        torch.set_num_threads(threads_per_edit(concurrency))
        service = cls(Editor.load())
        if warm_up:
            service.warm_up()
        return service

    @property
    def warning(self) -> str:
        """Non-empty when the classical fallback runs instead of a trained model."""
        return self.editor.warning

    def warm_up(self) -> None:
        clock = time.perf_counter()
        try:
            load_models()
        except FaceDetectorUnavailable as exc:
            log.warning("face detector unavailable, edits will crop around the mask: %s", exc)
        from sketch import get_detector

        detector = get_detector()  # provisions HED on first need (see sketch/hed_provision.py)
        photo = np.full((96, 96, 3), 128, np.uint8)
        hole = np.zeros((96, 96), bool)
        hole[40:56, 40:56] = True
        self.editor.edit(photo, hole, align=False)  # first-call costs of the engine (torch, OpenCV)
        log.info("warm-up done in %.1f s (engine %s, edges %s, %d torch threads)", time.perf_counter() - clock,
                 self.editor.model_name, detector.name, torch.get_num_threads())

    def edit(self, photo: Source, mask: Source | None, sketch: Source | None = None, color: Source | None = None,
             faithfulness: object = 0.5, align: bool = True, reference: Source | None = None,
             parts: Sequence[str] = (), mode: str | None = "auto",
             reference_mode: str | None = "pixels") -> ServedEdit:
        """One edit on the inputs as they arrived (PIL images or file paths)."""
        done = self.editor.edit(photo, mask, sketch, color, faithfulness, bool(align), reference=reference,
                                parts=parts, mode=mode, reference_mode=reference_mode, return_info=True)
        return ServedEdit(done.image, self.status_line(done.info), self.report(done.info))

    def report(self, info: EditInfo) -> dict:
        """What one edit did, as an API client reads it."""
        return {"model": info.model_name, "fallback": self.editor.kind == "telea", "mode": info.mode,
                "mode_note": info.mode_note, "frame": info.path, "frame_note": info.note,
                "reference": info.reference, "sketch_pixels": info.sketch_pixels, "hint_pixels": info.hint_pixels,
                "warnings": list(info.warnings), "ms": {k: round(v, 1) for k, v in info.ms.items()}}

    def status_line(self, info: EditInfo) -> str:
        engine = f"**{info.model_name}**"
        if self.editor.kind == "telea":
            engine += " (classical fallback: the sketch is ignored, colour hints only tint the fill)"
        where = info.note or info.path  # e.g. "aligned to the face 84 px wide at (225, 123)",
        # "cropped around the mask: no face found", "whole image (align=False)"
        parts = ", ".join(f"{name} {ms:.0f}" for name, ms in info.ms.items() if name != "read")
        total = sum(info.ms.values())
        given = [f"{n} {what} px" for n, what in ((info.sketch_pixels, "sketch"), (info.hint_pixels, "colour hint")) if n]
        taken = [info.reference] if info.reference else []
        mode = f"{info.mode}: {info.mode_note}" if info.mode_note else info.mode
        line = " · ".join([f"Ran {engine}", mode, where, *taken, *given, f"{total:.0f} ms ({parts} ms)"])
        return " · ".join([line, *(f"⚠️ {w}" for w in info.warnings)])

    def face_part(self, photo: np.ndarray, label: str) -> np.ndarray:
        """bool mask of a face part (a button label of FACE_PARTS) of the largest face,
        grown by a margin relative to the part's size."""
        part = FACE_PARTS.get(label)
        if part is None:
            raise ValueError(f"unknown face part {label!r}; choose from {', '.join(FACE_PARTS)}")
        try:
            region = face_part_mask(photo, [part])
        except FaceDetectorUnavailable as exc:
            raise ValueError(f"face detection is not available here ({exc}); paint the mask by hand") from None
        except ValueError as exc:
            raise ValueError(f"{exc}; paint the mask by hand") from None
        return grow_mask(region, part_margin(region))

    def reference_part(self, photo: np.ndarray, reference: Source | None, label: str) -> ReferenceLayers:
        """The layers a part of the reference photo gives (a button label of REFERENCE_BUTTONS)."""
        part = REFERENCE_BUTTONS.get(label)
        if part is None:
            raise ValueError(f"unknown part {label!r}; choose from {', '.join(REFERENCE_BUTTONS)}")
        if reference is None:
            raise ValueError("choose a reference photo first: the face whose part you want")
        return read_reference(reference, [part], photo, (self.editor.max_side, self.editor.max_pixels))

    def photo_edges(self, photo: np.ndarray, mask: np.ndarray) -> EdgesResult:
        """The photo's thin lines inside `mask`, as an RGBA sketch layer (dark, opaque)."""
        from sketch import get_detector, own_strokes_layer

        if not mask.any():
            raise ValueError("the Mask layer is empty: paint the region first, the edges are taken from inside it")
        detector = get_detector()
        layer = own_strokes_layer(photo, mask, detector)  # the lines a reshape registers against
        if not layer[..., 3].any():
            raise ValueError("no edges were found inside the mask; draw the lines yourself on the Sketch layer")
        note = f"edges from the gradient fallback detector ({detector.reason})" if detector.is_fallback else ""
        return EdgesResult(layer, detector.name, note)
