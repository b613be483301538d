"""Serving settings, from the environment.

GRADIO_SERVER_NAME   interface to bind (default 127.0.0.1: local only; Spaces set 0.0.0.0)
GRADIO_SERVER_PORT   port (default 7860)
SKETCHFACE_CONCURRENCY  edits run at once (default 1: one edit already uses every CPU core)
SKETCHFACE_QUEUE_SIZE   requests that may wait; more are refused with "queue full" (default 16)
SKETCHFACE_MAX_FILE_SIZE  largest upload Gradio accepts (default 50mb: a 4096×4096 PNG fits)
SKETCHFACE_RESULTS_MB     results kept on disk, oldest deleted first beyond it, never more than 1.5× (default 300)
SKETCHFACE_RESULTS_MIN_AGE  seconds a result is kept at the cap, so it can be downloaded; less as the
                          total nears 1.5× the cap (default 300)
SKETCHFACE_UPLOADS_MB     Gradio's upload cache, by the same rule (default 2000)
SKETCHFACE_WEIGHTS_REPO   Hub model repo with the weights (read by `Editor.load()`)
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

FILE_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb)?\s*", re.IGNORECASE)  # what Gradio's parser accepts


def _int(name: str, default: int, minimum: int = 1) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


def _file_size(name: str, default: str) -> str:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not FILE_SIZE.fullmatch(text):
        raise SystemExit(f"{name} must be a size such as 50mb, 2gb or 1000000 (bytes), not {text!r}")
    return text


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    concurrency: int
    queue_size: int
    max_file_size: str
    results_mb: int = 300
    results_min_age: int = 300
    uploads_mb: int = 2000

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("GRADIO_SERVER_NAME", "").strip() or "127.0.0.1",
            port=_int("GRADIO_SERVER_PORT", 7860),
            concurrency=_int("SKETCHFACE_CONCURRENCY", 1),
            queue_size=_int("SKETCHFACE_QUEUE_SIZE", 16),
            max_file_size=_file_size("SKETCHFACE_MAX_FILE_SIZE", "50mb"),
            results_mb=_int("SKETCHFACE_RESULTS_MB", 300),
            results_min_age=_int("SKETCHFACE_RESULTS_MIN_AGE", 300, minimum=0),
            uploads_mb=_int("SKETCHFACE_UPLOADS_MB", 2000),
        )
