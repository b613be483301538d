"""Results written as lossless PNGs (with the photo's ICC profile and EXIF), and layers as data URLs.

Results are written by us (not by Gradio's `format=` encoder) to a unique name, then handed to
Gradio as a path: Gradio copies a path into its cache atomically, whereas encoding an image
itself rewrites one content-addressed file in place, which two identical concurrent results
would race on. The folder lies inside Gradio's cache (`webapp.create` puts it there), so
Gradio serves each result from where it was written instead of keeping a second copy.

Disk stays bounded on a public server, by one rule for the results and for Gradio's upload
cache (`BoundedFolder`): a file older than `max_age` is deleted; beyond `max_bytes` the oldest
go first once they are `min_age` old, so what a user has just been shown can still be
downloaded; and that minimum age shrinks to nothing as the total nears 1.5 × `max_bytes`, so a
burst never takes the folder past it. A timer prunes too (`Janitor`), not only a new result.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint.imageio import save_image

MAX_AGE = 3600.0
MIN_AGE = 300.0
MAX_MB = 300
HARD_LIMIT = 1.5  # × max_bytes: the most a folder ever holds
PNG_LEVEL = 3  # zlib level: lossless either way; 3 is ~3× faster than the default 6 on photos

log = logging.getLogger("sketchface.app")


class BoundedFolder:
    """A folder whose files are pruned by age and total size (the rule in the module docstring).
    `pattern` picks the files (recursively with "**/"), `exclude` leaves a subfolder alone."""

    def __init__(self, folder: str | os.PathLike, max_age: float = MAX_AGE, min_age: float = MIN_AGE,
                 max_bytes: int = MAX_MB * 2**20, pattern: str = "*.png", exclude: Path | None = None):
        self.folder = Path(folder)
        self.max_age, self.min_age, self.max_bytes = max_age, min_age, max_bytes
        self.pattern, self.exclude = pattern, exclude

    def used_bytes(self) -> int:
        return sum(size for _, size, _ in self._files())

    def _files(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every file, oldest first."""
        found = []
        for path in self.folder.glob(self.pattern):
            if self.exclude is not None and self.exclude in path.parents:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # removed meanwhile
            if path.is_file():
                found.append((stat.st_mtime, stat.st_size, path))
        return sorted(found)

    def required_age(self, total: int) -> float:
        """The age a file must reach before the size cap may take it: `min_age` at the cap,
        falling linearly to 0 at HARD_LIMIT × the cap."""
        room = (HARD_LIMIT * self.max_bytes - total) / ((HARD_LIMIT - 1.0) * self.max_bytes)
        return self.min_age * float(min(1.0, max(0.0, room)))

    def prune(self, keep: Path | None = None) -> None:
        now = time.time()
        files = [f for f in self._files() if f[2] != keep]
        total = sum(size for _, size, _ in files) + (keep.stat().st_size if keep is not None else 0)
        for mtime, size, path in files:
            age = now - mtime
            if age > self.max_age or (total > self.max_bytes and age >= self.required_age(total)):
                try:
                    path.unlink()
                    total -= size
                except OSError:
                    pass  # another worker removed it first


class ResultFiles(BoundedFolder):
    """A folder of result PNGs that Gradio may serve."""

    def __init__(self, folder: str | os.PathLike | None = None, max_age: float = MAX_AGE, min_age: float = MIN_AGE,
                 max_bytes: int = MAX_MB * 2**20):
        super().__init__(folder or Path(tempfile.gettempdir()) / "sketchface-results", max_age, min_age, max_bytes)

    def save(self, image: Image.Image | np.ndarray, stem: str) -> str:
        """Write `image` as a PNG to a new unique file; return its path. Older results are
        pruned first and after (the new one is never pruned by its own save)."""
        return self._write(image, self.folder / f"{stem}-{uuid.uuid4().hex[:12]}.png")

    def save_once(self, image: np.ndarray, stem: str) -> str:
        """`save`, named by the pixels: the same image again (the photo of every Run on it)
        is not written again, only kept fresh."""
        final = self.folder / f"{stem}-{hashlib.sha1(np.ascontiguousarray(image).data).hexdigest()[:16]}.png"
        try:
            os.utime(final)
            return str(final)
        except OSError:
            return self._write(image, final)

    def _write(self, image: Image.Image | np.ndarray, final: Path) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.prune()
        picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
        partial = final.with_suffix(f".{uuid.uuid4().hex[:8]}.part")
        save_image(picture, partial, format="PNG", compress_level=PNG_LEVEL)  # keeps ICC profile and EXIF
        os.replace(partial, final)
        self.prune(keep=final)
        return str(final)


class Janitor:
    """Prunes folders every `interval` seconds on a daemon thread, so a folder a burst left
    full empties without waiting for the next result."""

    def __init__(self, folders: list[BoundedFolder], interval: float = 30.0):
        self.folders, self.interval = folders, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sketchface-janitor", daemon=True)

    def start(self) -> "Janitor":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for folder in self.folders:
                try:
                    folder.prune()
                except OSError as exc:  # a folder that went away: the next round tries again
                    log.warning("pruning %s failed: %s", folder.folder, exc)


def png_data_url(layer: np.ndarray) -> str:
    """An RGBA layer as a `data:image/png;base64,…` URL, for the browser to draw into a layer.
    Mostly transparent layers compress to a few kB."""
    buffer = io.BytesIO()
    Image.fromarray(layer).save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
