"""What a public server checks before the app's own code runs: anyone can call every
endpoint the page registers, with any payload, not only the page.

* `Canvas` and `GuardedImage`: the ImageEditor (background, layers and composite) and the
  reference image input, each refused by its header (`inpaint.imageio.check_file`: side, pixels, Pillow's bomb guard) before
  Gradio decodes them, with the message the `edit` API gives.
* `GuardedBlocks`: a client's mistake caught in Gradio's own preprocessing (a path on the
  server that was never uploaded, a payload of the wrong shape) becomes one plain message,
  not `{"error": null}` and a traceback in the log.
* `RouteGuard`: a call that names no function of the server (an `fn_index` past the end,
  negative, or of an event the browser runs alone; an api_name that does not exist), and a
  result stream for an event or session the queue does not know, are answered 404 with one
  plain message before Gradio's routes look them up (there they were an HTTP 500, a reset
  connection, or a traceback in the log).
* `guard_pillow`: Pillow's decompression-bomb guard set to the app's pixel limit, so that
  nothing far beyond it is decoded anywhere in the process (Pillow raises at twice it).
"""
from __future__ import annotations

import copy
import json
import logging

import gradio as gr
from gradio.exceptions import InvalidPathError
from PIL import Image, UnidentifiedImageError
from starlette.responses import JSONResponse

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


CORRUPT = "truncated or corrupt image"  # the words `inpaint.imageio` uses for the `edit` API


class Canvas(gr.ImageEditor):
    """The editor; each image in its value is checked by its header before it is decoded,
    and one that does not decode is named as the `edit` API names it."""

    is_template = True  # as gr.Sketchpad: the page draws it with the ImageEditor's front end

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        refuse_oversized(file)
        try:
            image = super().convert_and_format_image(file, flatten_on_white)
            if isinstance(image, Image.Image):
                image.load()
        except (OSError, SyntaxError, UnidentifiedImageError) as exc:
            raise gr.Error(f"The photo or one of its layers is a {CORRUPT} ({exc})", print_exception=False) from None
        return image


class GuardedImage(gr.Image):
    """An image input checked by its header before Gradio decodes it (the reference photo)."""

    is_template = True

    def preprocess(self, payload):
        refuse_oversized(payload)
        try:
            return super().preprocess(payload)
        except (OSError, SyntaxError, UnidentifiedImageError) as exc:
            raise gr.Error(f"The reference is a {CORRUPT} ({exc})", print_exception=False) from None


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
            raise misfit(block_fn, exc) from None

    async def call_function(self, block_fn, processed_input, *args, **kwargs):
        """Gradio's own functions (an example loader) given what they cannot take answer as
        the preprocessing does; the app's own functions answer for themselves (`user_errors`)."""
        try:
            return await super().call_function(block_fn, processed_input, *args, **kwargs)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            if getattr(block_fn.fn, "__module__", "").startswith("gradio"):
                raise misfit(block_fn, exc) from None
            raise


def misfit(block_fn, exc: Exception) -> gr.Error:
    log.info("refused a malformed request to %s: %s", getattr(block_fn, "name", "?"), exc)
    return gr.Error(f"The request's inputs do not fit this endpoint ({type(exc).__name__}); see the API page "
                    "for what it takes", print_exception=False)


API_PREFIX = "/gradio_api/"
FN_INDEX_ROUTES = ("/queue/join", "/run/predict")  # the routes that take a function by its index
NAMED_ROUTES = ("/call/", "/api/", "/run/")  # … and those that take it by its api_name
MAX_CALL_BODY = 1 << 20  # bytes: a call names uploaded files, it does not carry them


def refusals_as_422(send):
    """An ASGI `send` that turns Gradio's HTTP 500 carrying a plain message (a client's mistake
    the app answered) into a 422; a 500 without one (a real fault) passes as it is."""
    held: dict = {}

    async def wrapped(message):
        if message["type"] == "http.response.start" and message["status"] == 500:
            held["start"] = message
            return None
        if "start" in held and message["type"] == "http.response.body":
            start = held.pop("start")
            try:
                refused = bool(json.loads(message.get("body", b"") or b"{}").get("error"))
            except (ValueError, AttributeError):
                refused = False
            await send({**start, "status": 422} if refused else start)
        return await send(message)

    return wrapped


class RouteGuard:
    """ASGI middleware: a call that names no server function (by `fn_index` or api_name) and a
    result stream for an event or session the queue does not hold get a plain 404."""

    def __init__(self, app, blocks: gr.Blocks):
        self.app, self.blocks = app, blocks

    def unknown_index(self, body: bytes) -> str:
        """Why the call cannot be served ("" when it can, or when Gradio's own checks apply)."""
        try:
            index = json.loads(body).get("fn_index")
        except (ValueError, AttributeError):
            return ""  # not a JSON object: Gradio's validation answers it (422)
        if index is None:
            return ""
        served = {i for i, fn in self.blocks.fns.items() if fn.fn is not None}
        if not isinstance(index, int) or index not in served:
            kind = "runs in the browser only" if index in self.blocks.fns else "does not exist"
            return (f"fn_index {index!r} {kind}: call a function of this server by its api_name "
                    "(POST /gradio_api/call/NAME), or by an fn_index from /config whose backend_fn is true")
        return ""

    def unknown_name(self, path: str) -> str:
        """Why a call by name (POST …/call/NAME, …/api/NAME) cannot be served ("" when it can)."""
        name = path.rstrip("/").rsplit("/", 1)[-1]
        served = {fn.api_name for fn in self.blocks.fns.values() if fn.fn is not None and fn.api_name}
        return "" if name in served else (f"there is no endpoint {name!r}: the API page (/?view=api) and "
                                          "/gradio_api/info list the ones there are")

    def unknown_stream(self, scope) -> str:
        """Why a result stream (GET …/call/NAME/EVENT_ID, …/queue/data) names nothing ("" when it does)."""
        queue = self.blocks._queue
        waiting = queue.pending_event_ids_session
        if scope["path"].endswith("/queue/data"):
            query = dict(part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part)
            session = query.get("session_hash", "")
            known = session in waiting or session in queue.pending_messages_per_session
            return "" if known else f"no session {session!r} is waiting for results: join the queue first"
        event = scope["path"].rstrip("/").rsplit("/", 1)[-1]
        known = event in queue.event_ids_to_events or any(event in ids for ids in waiting.values()) or \
            event in waiting or event in queue.pending_messages_per_session
        return "" if known else f"no event {event!r} is waiting for its result: POST the call first"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        problem = ""
        named = method == "POST" and path.startswith(API_PREFIX) and any(r in path for r in NAMED_ROUTES)
        if named and not path.rstrip("/").endswith("/run/predict"):
            problem = self.unknown_name(path)
        elif method == "GET" and path.startswith(API_PREFIX) and (
                path.endswith("/queue/data") or (path.count("/call/") == 1 and path.split("/call/")[1].count("/") == 1)):
            problem = self.unknown_stream(scope)
        if problem:
            log.info("refused a request: %s", problem)
            return await JSONResponse({"error": problem}, status_code=404)(scope, receive, send)
        if named and "/call/" not in path:  # the synchronous routes answer a refusal with HTTP 500
            send = refusals_as_422(send)
        if method != "POST" or not path.endswith(FN_INDEX_ROUTES):
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more and len(body) <= MAX_CALL_BODY:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if len(body) > MAX_CALL_BODY:
            return await JSONResponse({"error": "the request is too large for a call: upload files first "
                                                "(POST /gradio_api/upload) and send their paths"},
                                      status_code=413)(scope, receive, send)
        problem = self.unknown_index(body)
        if problem:
            log.info("refused a call: %s", problem)
            return await JSONResponse({"error": problem}, status_code=404)(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)
