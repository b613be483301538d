"""The Gradio app: `python app.py` or `sketchface-app` (see app.py). Modules, one concern each:

config (settings from the environment) · service (the Editor, loaded once and warmed up) ·
layers (the editor's value → photo + layers at the photo's size) · files (uploads in, PNGs out) ·
handlers (events and the `edit` API; ValueError → gr.Error) · client_js (drawing into layers,
keys) · text (the words) · ui (the page).
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from .config import Settings
from .files import BoundedFolder, Janitor, ResultFiles
from .guards import guard_pillow
from .handlers import Handlers
from .service import Service


PRUNE_EVERY = 30.0  # seconds between the timer's prunings of the results and the upload cache
UPLOAD_MIN_AGE = 120.0  # seconds an upload is kept at the cap: long enough for the request it came with


def create(settings: Settings | None = None, warm_up: bool = True,
           service: Service | None = None) -> tuple[gr.Blocks, Settings]:
    """Load the model once (unless a `service` is given), build the page, enable the queue
    with `settings.concurrency` edits at once; return (demo, settings)."""
    from . import ui

    settings = settings or Settings.from_env()
    guard_pillow()
    service = service or Service.start(warm_up=warm_up, concurrency=settings.concurrency)
    cache = Path(get_upload_folder())
    results = ResultFiles(cache / "sketchface-results", min_age=settings.results_min_age,
                          max_bytes=settings.results_mb * 2**20)
    uploads = BoundedFolder(cache, min_age=UPLOAD_MIN_AGE, max_bytes=settings.uploads_mb * 2**20, pattern="**/*",
                            exclude=results.folder)
    Janitor([results, uploads], PRUNE_EVERY).start()
    demo = ui.build(Handlers(service, results), settings)
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    return demo, settings


def launch(demo: gr.Blocks, settings: Settings, **options) -> None:
    """Serve the page (`options` go to `gr.Blocks.launch`, e.g. for tests)."""
    from starlette.middleware import Middleware

    from . import client_js
    from .guards import RouteGuard

    demo.launch(server_name=settings.host, server_port=settings.port, max_file_size=settings.max_file_size,
                js=client_js.KEYBOARD, footer_links=["api", "gradio"],
                app_kwargs={"middleware": [Middleware(RouteGuard, blocks=demo)]}, **options)


def main() -> None:
    """The `sketchface-app` console script: what `python app.py` does, from any folder."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    launch(*create())


__all__ = ["Handlers", "Service", "Settings", "create", "launch", "main"]
