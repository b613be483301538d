"""Results written as lossless PNGs (with the photo's ICC profile and EXIF), and layers as data URLs.

Results are written by us (not by Gradio's `format=` encoder) to a unique name, then handed to
Gradio as a path: Gradio copies a path into its cache atomically, whereas encoding an image
itself rewrites one content-addressed file in place, which two identical concurrent results
would race on. The folder lies inside Gradio's cache (`webapp.create` puts it there), so
Gradio serves each result from where it was written instead of keeping a second copy.

Disk stays bounded on a public server: a result older than `max_age` is deleted, and beyond
`max_bytes` the oldest go first, but never one younger than `min_age`, so what a user has
just been shown can still be downloaded.
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

MAX_AGE = 3600.0
MIN_AGE = 300.0
MAX_MB = 300
PNG_LEVEL = 3  # zlib level: lossless either way; 3 is ~3× faster than the default 6 on photos


class ResultFiles:
    """A folder of result PNGs that Gradio may serve, pruned by age and total size."""

    def __init__(self, folder: str | os.PathLike | None = None, max_age: float = MAX_AGE, min_age: float = MIN_AGE,
                 max_bytes: int = MAX_MB * 2**20):
        self.folder = Path(folder or Path(tempfile.gettempdir()) / "sketchface-results")
        self.max_age, self.min_age, self.max_bytes = max_age, min_age, max_bytes

    def save(self, image: Image.Image | np.ndarray, stem: str) -> str:
        """Write `image` as a PNG to a new unique file; return its path. Older results are
        pruned first and after (the new one is never pruned by its own save)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.prune()
        picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
        final = self.folder / f"{stem}-{uuid.uuid4().hex[:12]}.png"
        partial = final.with_suffix(".part")
        save_image(picture, partial, format="PNG", compress_level=PNG_LEVEL)  # keeps ICC profile and EXIF
        os.replace(partial, final)
        self.prune(keep=final)
        return str(final)

    def used_bytes(self) -> int:
        return sum(size for _, size, _ in self._files())

    def _files(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every result, oldest first."""
        found = []
        for path in self.folder.glob("*.png"):
            try:
                stat = path.stat()
            except OSError:
                continue  # removed meanwhile
            found.append((stat.st_mtime, stat.st_size, path))
        return sorted(found)

    def prune(self, keep: Path | None = None) -> None:
        now = time.time()
        files = [f for f in self._files() if f[2] != keep]
        total = sum(size for _, size, _ in files) + (keep.stat().st_size if keep is not None else 0)
        for mtime, size, path in files:
            age = now - mtime
            if age > self.max_age or (total > self.max_bytes and age >= self.min_age):
                try:
                    path.unlink()
                    total -= size
                except OSError:
                    pass  # another worker removed it first


def png_data_url(layer: np.ndarray) -> str:
    """An RGBA layer as a `data:image/png;base64,…` URL, for the browser to draw into a layer.
    Mostly transparent layers compress to a few kB."""
    buffer = io.BytesIO()
    Image.fromarray(layer).save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
