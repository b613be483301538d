"""Results written as lossless PNGs (with the photo's ICC profile and EXIF), and layers as data URLs.

Results are written by us (not by Gradio's `format=` encoder) to a unique name, then handed to
Gradio as a path: Gradio copies a path into its cache atomically, whereas encoding an image
itself rewrites one content-addressed file in place, which two identical concurrent results
would race on. Old results are pruned as new ones are written.
"""
from __future__ import annotations

import base64
import io
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint.imageio import save_image

KEEP_SECONDS = 3600
PNG_LEVEL = 3  # zlib level: lossless either way; 3 is ~3× faster than the default 6 on photos


class ResultFiles:
    """A folder of result PNGs under the system temp dir (a path Gradio may serve)."""

    def __init__(self, folder: str | os.PathLike | None = None, keep_seconds: float = KEEP_SECONDS):
        self.folder = Path(folder or Path(tempfile.gettempdir()) / "sketchface-results")
        self.keep_seconds = keep_seconds

    def save(self, image: Image.Image | np.ndarray, stem: str) -> str:
        """Write `image` as a PNG to a new unique file; return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.prune()
        picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
        final = self.folder / f"{stem}-{uuid.uuid4().hex[:12]}.png"
        partial = final.with_suffix(".part")
        save_image(picture, partial, format="PNG", compress_level=PNG_LEVEL)  # keeps ICC profile and EXIF
        os.replace(partial, final)
        return str(final)

    def prune(self) -> None:
        cutoff = time.time() - self.keep_seconds
        for path in self.folder.glob("*.png"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass  # another worker removed it first


def png_data_url(layer: np.ndarray) -> str:
    """An RGBA layer as a `data:image/png;base64,…` URL, for the browser to draw into a layer.
    Mostly transparent layers compress to a few kB."""
    buffer = io.BytesIO()
    Image.fromarray(layer).save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
