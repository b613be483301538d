"""The functions behind the app's events and its `edit` API endpoint.

Each takes what Gradio hands over (the ImageEditor's value, uploaded file paths, plain values)
and turns every ValueError into a `gr.Error` with the same plain message, so the user (or the
API client) is told what to fix, and the next request runs as if nothing happened.
"""
from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr
import numpy as np

from . import examples
from inpaint.imageio import to_rgb
from inpaint.inputs import read_marks

from .files import ResultFiles, png_data_url
from .layers import region_layer, split_editor_value
from .service import Service
from .text import user_message

log = logging.getLogger("sketchface.app")
F = TypeVar("F", bound=Callable[..., Any])

MASK_RGBA = (255, 255, 255, 178)  # the Mask brush: white at 70 % (alpha > 127 = masked)
SKETCH_RGBA = (24, 24, 24, 255)  # the Sketch pen


def user_errors(fn: F) -> F:
    """ValueError → gr.Error(message); anything unexpected is logged and reported briefly."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ValueError as exc:
            raise gr.Error(user_message(str(exc)), print_exception=False) from None
        except Exception as exc:  # a bug, not the user's doing: keep the trace in the log
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong on the server ({type(exc).__name__}); it has been logged.") from None

    return wrapper  # type: ignore[return-value]


def _with_file_names(exc: ValueError, paths: list[str | None]) -> ValueError:
    """The error with the server's temporary upload paths replaced by the files' own names."""
    text = str(exc)
    for path in filter(None, paths):
        text = text.replace(str(path), Path(path).name)
    return ValueError(text)


def photo_digest(photo: np.ndarray) -> str:
    """A short fingerprint of the photo's pixels (which photo the parts were taken into)."""
    return hashlib.blake2b(np.ascontiguousarray(photo).data, digest_size=16).hexdigest()


def parts_taken(state: dict | None, reference: str | None, photo: str) -> list[str]:
    """The parts the page's state says were taken from `reference` into the photo with digest
    `photo` (none from another reference, or into another photo)."""
    state = state or {}
    same = reference is not None and state.get("reference") == reference and state.get("photo") == photo
    return list(state.get("parts", ())) if same else []


class Handlers:
    def __init__(self, service: Service, results: ResultFiles | None = None):
        self.service = service
        self.results = results or ResultFiles()

    @user_errors
    def edit(self, image: str | None, mask: str | None = None, sketch: str | None = None, color: str | None = None,
             faithfulness: float | None = 0.5, align: bool = True, reference: str | None = None,
             parts: list[str] | None = None, mode: str | None = "auto",
             reference_mode: str | None = "pixels") -> str:
        """The `edit` API: image files in (mask: white or opaque = redraw; sketch: dark-on-
        transparent or white-on-black strokes; color: RGBA hints; reference: a photo whose
        `parts` to take, then the mask is optional; mode: auto, reshape or redraw;
        reference_mode: pixels (its own part moved in) or lines (drawn from its lines)), the
        edited photo out as a PNG of the same size, with the uploaded photo's ICC profile and EXIF."""
        return self._edit(image, mask, sketch, color, faithfulness, align, reference, parts, mode, reference_mode)[0]

    @user_errors
    def edit_info(self, image: str | None, mask: str | None = None, sketch: str | None = None,
                  color: str | None = None, faithfulness: float | None = 0.5, align: bool = True,
                  reference: str | None = None, parts: list[str] | None = None,
                  mode: str | None = "auto", reference_mode: str | None = "pixels") -> tuple[str, dict]:
        """`edit`, and what was done: the model, the mode and why, the frame, the warnings, the
        time per stage (the page's status line, as data)."""
        path, result = self._edit(image, mask, sketch, color, faithfulness, align, reference, parts, mode,
                                  reference_mode)
        return path, result.report

    def _edit(self, image, mask, sketch, color, faithfulness, align, reference, parts, mode, reference_mode):
        try:
            result = self.service.edit(image, mask, sketch, color, 0.5 if faithfulness is None else faithfulness,
                                       bool(align), reference, parts or (), mode, reference_mode)
        except ValueError as exc:
            raise _with_file_names(exc, [image, mask, sketch, color, reference]) from None
        return self.results.save(result.image, "edited"), result

    @user_errors
    def run_canvas(self, value: dict | None, faithfulness: float, align: bool, mode: str | None = "auto",
                   reference: str | None = None, taken: dict | None = None) -> tuple[tuple[str, str], Any, str]:
        """Run on the editor's value: (before, after) for the slider, the download, the status line.
        `reference` and `taken` (the page's state: the reference and the photo the parts were
        taken from and into, and the parts): when both still match, the edit moves the
        reference's own parts in. (The state is matched, not cleared on a new upload: Gradio
        reports an upload late, after the next click.)"""
        background, (mask, sketch, color) = split_editor_value(value)
        photo = to_rgb(background)  # once: the edit's input and the slider's "before"
        parts = parts_taken(taken, reference, photo_digest(photo))
        try:
            result = self.service.edit(photo, mask, sketch, color, faithfulness, bool(align),
                                       reference if parts else None, parts, mode=mode)
        except ValueError as exc:
            raise _with_file_names(exc, [reference]) from None
        before = self.results.save_once(photo, "photo")  # one file per photo, however many Runs
        after = self.results.save(result.image, "edited")
        status = result.status
        if self.service.warning:
            status = f"⚠️ {self.service.warning}\n\n{status}"
        return (before, after), gr.DownloadButton(value=after, visible=True), status

    @user_errors
    def face_part(self, value: dict | None, label: str) -> str:
        """The named part of the face (a button label) as a Mask-coloured layer, as a data URL."""
        background, _ = split_editor_value(value)
        region = self.service.face_part(to_rgb(background), label)
        return png_data_url(region_layer(region, MASK_RGBA))

    @user_errors
    def reference_part(self, value: dict | None, reference: str | None, state: dict | None,
                       label: str) -> tuple[str, str, str, str, dict]:
        """A part of the reference photo (a button label) as the three layers' data URLs
        (Mask, Sketch, Color), a status line (which part, how well the faces matched, what Run
        will do) and what has been taken from this reference so far (the page's state)."""
        background, _ = split_editor_value(value)
        photo = to_rgb(background)
        try:
            taken = self.service.reference_part(photo, reference, label)
        except ValueError as exc:
            raise _with_file_names(exc, [reference]) from None
        sketch = region_layer(taken.sketch, SKETCH_RGBA)
        color = np.dstack([taken.color, taken.color_mask.astype(np.uint8) * 255])
        part = taken.parts[0]
        status = " · ".join([f"{taken.note[0].upper()}{taken.note[1:]}: loaded into the Mask, Sketch and Color "
                             f"layers. Run moves the reference's own {part} in, its pixels matched to this face's "
                             "light; lines you redraw reshape it, and Redraw draws it from the lines and dabs instead",
                             *(f"⚠️ {w}" for w in taken.warnings)])
        digest = photo_digest(photo)
        parts = [*(p for p in parts_taken(state, reference, digest) if p != part), part]
        return (png_data_url(region_layer(taken.mask, MASK_RGBA)), png_data_url(sketch), png_data_url(color), status,
                {"reference": reference, "photo": digest, "parts": parts})

    @user_errors
    def photo_edges(self, value: dict | None) -> str:
        """The photo's thin edges inside the current mask, as a sketch layer data URL; a
        notice says which edge detector ran."""
        background, (mask, _, _) = split_editor_value(value)
        photo = to_rgb(background)
        hole = read_marks(mask, "Mask layer", (photo.shape[1], photo.shape[0]))
        if hole is None:
            raise ValueError("the Mask layer is empty: paint the region first, the edges are taken from inside it")
        edges = self.service.photo_edges(photo, hole)
        gr.Info(edges.note or f"Edges from {edges.detector.upper()} (the photo's own lines inside the mask).")
        return png_data_url(edges.layer)

    def example_layers(self, key: str | None) -> tuple[str, ...]:
        """After a photo loads: the layers of the example it came from (data URLs, "" for
        none), and "" to clear the pending example so a later upload is left alone."""
        return (*examples.layer_urls(key or ""), "")
