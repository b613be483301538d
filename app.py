"""SketchFace web app: paint a Mask, draw a Sketch, add Colour hints, get the photo back redrawn.

    python app.py      # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override)

The model (inpaint/checkpoints/, else the Hub repo in $SKETCHFACE_WEIGHTS_REPO, else the classical
Telea fallback, announced on the page) and the face detector load once, here, at start.
The code lives in the `webapp` package; this file is the entry point Hugging Face Spaces runs.
"""
from __future__ import annotations

import logging

import webapp

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
demo, settings = webapp.create()

if __name__ == "__main__":
    webapp.launch(demo, settings)
