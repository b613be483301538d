"""The app's one engine: loaded once at start, warmed up, shared by every request.

Everything here raises ValueError with a message meant for the user; nothing imports gradio.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from inpaint import Editor
from inpaint.editor import EditInfo
from inpaint.face import FaceDetectorUnavailable, face_part_mask, load_models
from inpaint.face.parts import grow_mask

from .layers import EditInputs

log = logging.getLogger("sketchface.app")

# Button label → inpaint.face part name.
FACE_PARTS = {"Eyes": "eyes", "Brows": "eyebrows", "Nose": "nose", "Mouth": "mouth", "Face": "face", "Hair": "hair"}
GROW_FRACTION = 0.15  # a part's mask grows by this × √(its area): a margin that covers its outline


@dataclass
class EditResult:
    image: Image.Image  # RGB, the photo's size
    status: str  # one Markdown line: what ran, which path and why, how long


class Service:
    """The Editor plus the helpers of the app's buttons, with one lock around the engine, so
    that `last_info` always describes the edit just run."""

    def __init__(self, editor: Editor):
        self.editor = editor
        self.lock = threading.Lock()
        self.edges_note = ""

    @classmethod
    def start(cls, warm_up: bool = True) -> Service:
        """Load the model (checkpoints/, then $SKETCHFACE_WEIGHTS_REPO, else the Telea
        fallback) and, with `warm_up`, the face detector and edge detector too, so the first
        request does not pay for loading them."""
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

        detector = get_detector()
        if detector.is_fallback:
            self.edges_note = "edges from the gradient fallback detector (HED weights not found)"
        photo = np.full((96, 96, 3), 128, np.uint8)
        hole = np.zeros((96, 96), bool)
        hole[40:56, 40:56] = True
        self.editor.edit(photo, hole, align=False)  # first-call costs of the engine (torch, OpenCV)
        log.info("warm-up done in %.1f s (engine %s, edges %s)", time.perf_counter() - clock,
                 self.editor.model_name, detector.name)

    def edit(self, inputs: EditInputs, faithfulness: float, align: bool) -> EditResult:
        with self.lock:
            image = self.editor.edit(inputs.photo, inputs.mask, sketch=inputs.sketch, color=inputs.color,
                                     faithfulness=float(faithfulness), align=bool(align))
            info = self.editor.last_info
        return EditResult(image, self.status_line(info))

    def status_line(self, info: EditInfo | None) -> str:
        if info is None:
            return ""
        engine = f"**{info.engine}**"  # EditInfo.engine holds the model's name
        if self.editor.engine == "telea":
            engine += " (classical fallback: sketch and colour hints are ignored)"
        where = info.note or info.path  # e.g. "aligned to the face 84 px wide at (225, 123)",
        # "cropped around the mask: no face found", "whole image (align=False)"
        parts = ", ".join(f"{name} {ms:.0f}" for name, ms in info.ms.items() if name != "read")
        total = sum(info.ms.values())
        return f"Ran {engine} · {where} · {total:.0f} ms ({parts} ms)"

    def face_part(self, photo: np.ndarray, label: str) -> np.ndarray:
        """bool mask of a face part (a button label of FACE_PARTS) of the largest face,
        grown by a margin relative to the part's size."""
        part = FACE_PARTS.get(label)
        if part is None:
            raise ValueError(f"unknown face part {label!r}; choose from {', '.join(FACE_PARTS)}")
        try:
            with self.lock:
                region = face_part_mask(photo, [part])
        except FaceDetectorUnavailable as exc:
            raise ValueError(f"face detection is not available here ({exc}); paint the mask by hand") from None
        except ValueError as exc:
            raise ValueError(f"{exc}; paint the mask by hand") from None
        grow = max(2, round(GROW_FRACTION * float(np.sqrt(region.sum()))))
        return grow_mask(region, grow)

    def photo_edges(self, photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The photo's thin lines inside `mask`, as an RGBA sketch layer (dark, opaque)."""
        from sketch import photo_edges_layer

        if not mask.any():
            raise ValueError("the Mask layer is empty: paint the region first, the edges are taken from inside it")
        width = max(1, round(max(photo.shape[:2]) / 1024))  # ~1 px on screen when the photo is fitted
        with self.lock:
            layer = photo_edges_layer(photo, mask, width=width)
        if not layer[..., 3].any():
            raise ValueError("no edges were found inside the mask; draw the lines yourself on the Sketch layer")
        return layer
