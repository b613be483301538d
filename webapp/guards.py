"""What a public server checks before the app's own code runs: anyone can call every
endpoint the page registers, with any payload, not only the page.

* `Canvas` and `GuardedImage`: the ImageEditor (background, layers and composite) and the
  reference image input, each refused by its header (`inpaint.imageio.check_file`: side, pixels, Pillow's bomb guard) before
  Gradio decodes them, with the message the `edit` API gives.
* `GuardedBlocks`: a client's mistake caught in Gradio's own preprocessing (a path on the
  server that was never uploaded, a payload of the wrong shape) becomes one plain message,
  not `{"error": null}` and a traceback in the log.
* `guard_pillow`: Pillow's decompression-bomb guard set to the app's pixel limit, so that
  nothing far beyond it is decoded anywhere in the process (Pillow raises at twice it).
"""
from __future__ import annotations

import copy
import logging

import gradio as gr
from gradio.exceptions import InvalidPathError
from PIL import Image

from inpaint.imageio import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, check_file

from .text import user_message

log = logging.getLogger("sketchface.app")


def guard_pillow(max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Pillow refuses to open images over 2 × `max_pixels` (and warns above it)."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def refuse_oversized(file) -> None:
    """gr.Error (the `edit` API's message) for an uploaded image over the app's limits or not
    an image at all, read from its header only; `file` is a FileData, bytes, or None."""
    if file is None:
        return
    source = file if isinstance(file, (bytes, bytearray, memoryview)) else file.path
    try:
        check_file(bytes(source) if not isinstance(source, str) else source, DEFAULT_MAX_SIDE, DEFAULT_MAX_PIXELS)
    except ValueError as exc:
        text = str(exc)
        if isinstance(source, str):  # the server's upload path means nothing to the user
            text = text.replace(source, "the image")
        raise gr.Error(user_message(text), print_exception=False) from None


class Canvas(gr.ImageEditor):
    """The editor; each image in its value is checked by its header before it is decoded."""

    is_template = True  # as gr.Sketchpad: the page draws it with the ImageEditor's front end

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        refuse_oversized(file)
        return super().convert_and_format_image(file, flatten_on_white)


class GuardedImage(gr.Image):
    """An image input checked by its header before Gradio decodes it (the reference photo)."""

    is_template = True

    def preprocess(self, payload):
        refuse_oversized(payload)
        return super().preprocess(payload)


class GuardedBlocks(gr.Blocks):
    """gr.Blocks whose input preprocessing answers a client's mistake with a plain message.

    `optional_tail` names public endpoints whose last inputs a client may leave out (each then
    takes its component's default): the `edit` API grew `reference` and `parts`, and a client
    written for its six inputs keeps working."""

    def __init__(self, *args, optional_tail: dict[str, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional_tail = dict(optional_tail or {})

    async def preprocess_data(self, block_fn, inputs, state, explicit_call: bool = False):
        missing = len(block_fn.inputs) - len(inputs)
        if 0 < missing <= self.optional_tail.get(block_fn.api_name, 0):
            inputs = [*inputs, *(copy.deepcopy(block.value) for block in block_fn.inputs[len(inputs):])]
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as exc:  # a component refused the value (a Radio choice that is not one): the client's doing
            exc.print_exception = False
            raise
        except InvalidPathError:
            raise gr.Error("A file in the request is not one uploaded to this app: upload it first "
                           "(POST /gradio_api/upload) and send the path that returns", print_exception=False) from None
        except (ValueError, TypeError, KeyError) as exc:  # pydantic's ValidationError is a ValueError
            log.info("refused a malformed request to %s: %s", getattr(block_fn, "name", "?"), exc)
            raise gr.Error(f"The request's inputs do not fit this endpoint ({type(exc).__name__}); see the API page "
                           "for what it takes", print_exception=False) from None
