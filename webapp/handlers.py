"""The functions behind the app's events and its `edit` API endpoint.

Each takes what Gradio hands over (the ImageEditor's value, uploaded file paths, plain values)
and turns every ValueError into a `gr.Error` with the same plain message, so the user (or the
API client) is told what to fix, and the next request runs as if nothing happened.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from . import examples
from .files import ResultFiles, png_data_url, read_upload
from .layers import binary_at, canvas_inputs, edit_inputs, photo_rgb, region_layer, split_editor_value
from .service import Service

log = logging.getLogger("sketchface.app")
F = TypeVar("F", bound=Callable[..., Any])

MASK_RGBA = (255, 255, 255, 178)  # the Mask brush: white at 70 % (alpha > 127 = masked)


def user_errors(fn: F) -> F:
    """ValueError → gr.Error(message); anything unexpected is logged and reported briefly."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ValueError as exc:
            text = str(exc)
            raise gr.Error(text[:1].upper() + text[1:], print_exception=False) from None
        except Exception as exc:  # a bug, not the user's doing: keep the trace in the log
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong on the server ({type(exc).__name__}); it has been logged.") from None

    return wrapper  # type: ignore[return-value]


class Handlers:
    def __init__(self, service: Service, results: ResultFiles | None = None):
        self.service = service
        self.results = results or ResultFiles()

    @user_errors
    def edit(self, image: str | None, mask: str | None, sketch: str | None = None, color: str | None = None,
             faithfulness: float = 0.5, align: bool = True) -> str:
        """The `edit` API: image files in (mask: white or opaque = redraw; sketch: dark-on-
        transparent or white-on-black strokes; color: RGBA hints), the edited photo out as a PNG
        of the same size."""
        if image is None:
            raise ValueError("no image was given")
        inputs = edit_inputs(read_upload(image, "image"), read_upload(mask, "mask"),
                             read_upload(sketch, "sketch"), read_upload(color, "color"))
        result = self.service.edit(inputs, _faithfulness(faithfulness), bool(align))
        return self.results.save(result.image, "edited")

    @user_errors
    def run_canvas(self, value: dict | None, faithfulness: float, align: bool) -> tuple[tuple[str, str], Any, str]:
        """Run on the editor's value: (before, after) for the slider, the download, the status line."""
        inputs = canvas_inputs(value)
        result = self.service.edit(inputs, _faithfulness(faithfulness), bool(align))
        before = self.results.save(inputs.photo, "photo")
        after = self.results.save(result.image, "edited")
        status = result.status
        if self.service.warning:
            status = f"⚠️ {self.service.warning}\n\n{status}"
        return (before, after), gr.DownloadButton(value=after, visible=True), status

    @user_errors
    def face_part(self, value: dict | None, label: str) -> str:
        """The named part of the face (a button label) as a Mask-coloured layer, as a data URL."""
        background, _ = split_editor_value(value)
        region = self.service.face_part(photo_rgb(background), label)
        return png_data_url(region_layer(region, MASK_RGBA))

    @user_errors
    def photo_edges(self, value: dict | None) -> str:
        """The photo's thin edges inside the current mask, as a sketch layer data URL."""
        background, (mask, _, _) = split_editor_value(value)
        photo = photo_rgb(background)
        if mask is None:
            raise ValueError("the Mask layer is empty: paint the region first, the edges are taken from inside it")
        hole = binary_at(mask, (photo.shape[1], photo.shape[0]), "Mask layer")
        layer = self.service.photo_edges(photo, hole)
        if self.service.edges_note:
            gr.Info(self.service.edges_note)
        return png_data_url(layer)

    def example_layers(self, key: str | None) -> tuple[str, ...]:
        """After a photo loads: the layers of the example it came from (data URLs, "" for
        none), and "" to clear the pending example so a later upload is left alone."""
        return (*examples.layer_urls(key or ""), "")


def _faithfulness(value: float | None) -> float:
    if value is None:
        return 0.5
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"faithfulness must be a number from 0 to 1, not {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"faithfulness must be from 0 (follow the sketch exactly) to 1 (loosely), not {number:g}")
    return number
