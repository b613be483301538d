"""Shared fixtures: small synthetic face-like images (never real faces in tests), and the app
started as users start it."""
import contextlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image


def synthetic_face(width: int = 280, height: int = 300, seed: int = 0) -> np.ndarray:
    """A smooth background with a skin-coloured disc, two eyes and a mouth: structure for edges."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([x / width * 200, y / height * 200, 100 + 80 * np.sin(x / 13 + seed)], axis=2)
    cx, cy = width // 2, height // 2
    cv2.circle(image, (cx, cy), min(width, height) // 4 + seed * 3, (200, 150, 120), -1)
    for dx in (-1, 1):
        cv2.circle(image, (cx + dx * width // 10, cy - height // 16), 6, (30, 20, 20), -1)
    cv2.ellipse(image, (cx, cy + height // 10), (width // 12, height // 40), 0, 0, 360, (150, 40, 50), -1)
    return np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)


def with_malformed_exif(jpeg: bytes) -> bytes:
    """The JPEG with an APP1 segment that says EXIF but holds no TIFF data (Pillow raises
    SyntaxError when it parses it)."""
    payload = b"Exif\x00\x00" + b"garbage!" * 8
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def edit_info(editor, *args, **kwargs):
    """(image, EditInfo) of one edit."""
    done = editor.edit(*args, return_info=True, **kwargs)
    return done.image, done.info


@pytest.fixture(scope="session")
def face_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    for i in range(6):
        Image.fromarray(synthetic_face(seed=i)).save(folder / f"face_{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return folder


@pytest.fixture(scope="session")
def aligned_astronaut():
    """scikit-image's astronaut (public domain) aligned to the canonical 256-px frame:
    (RGB uint8, 68 landmarks in its pixels, thin gradient lines)."""
    from skimage.data import astronaut

    from sketch import get_detector, soft_edges, thin_lines
    from train.prepare import aligned_face

    image, landmarks = aligned_face(astronaut(), 256)
    return image, landmarks, thin_lines(soft_edges(image, get_detector("gradient")))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(folder: Path, **env: str):
    """`python app.py` as users start it (webapp.loadtest.started_app), on a free loopback
    port; a start that fails fails the test with the server's log."""
    from webapp.loadtest import started_app

    try:
        with started_app(folder, **env) as app:
            yield app
    except RuntimeError as exc:  # the app did not start: its log says why
        pytest.fail(str(exc))
