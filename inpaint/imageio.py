"""Reading user images safely: any PIL mode or array layout in, H×W×3 uint8 RGB out.

Every refusal is a ValueError whose message says what was wrong, so the CLI and the app
can show it as it is.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_SIDE = 4096
DEFAULT_MAX_PIXELS = 50_000_000

ImageLike = Image.Image | np.ndarray


def check_size(width: int, height: int, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"image is empty ({width}×{height})")
    if max(width, height) > max_side or width * height > max_pixels:
        raise ValueError(
            f"image is {width}×{height}; the limit is {max_side} px on a side and "
            f"{max_pixels / 1e6:.0f} MP; downscale it first"
        )


def open_image(
    source: str | os.PathLike | bytes | io.IOBase,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """Open and fully decode an image file, refusing non-images, truncated files and
    oversized ones (checked from the header, before decoding: no decompression bombs)."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "image"
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with Image.open(source) as img:
            check_size(*img.size, max_side=max_side, max_pixels=max_pixels)
            img.load()
            return ImageOps.exif_transpose(img) if img.getexif().get(0x0112, 1) != 1 else img.copy()
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{name}: is a directory, not an image") from None
    except UnidentifiedImageError:
        raise ValueError(f"{name}: not an image (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{name}: refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError) as exc:  # truncated or corrupt data
        raise ValueError(f"{name}: truncated or corrupt image ({exc})") from None


def _scale_to_uint8(arr: np.ndarray, top: float) -> np.ndarray:
    return np.clip(np.rint(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    img = ImageOps.exif_transpose(img) if img.getexif().get(0x0112, 1) != 1 else img
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16") or arr.max(initial=0) > 255:
            top = 65535.0
        elif mode == "F" and arr.max(initial=0) <= 1.0:
            top = 1.0
        else:
            top = 255.0
        grey = _scale_to_uint8(arr, top)
        return np.repeat(grey[..., None], 3, axis=2)
    try:
        rgb = img.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ValueError(f"cannot convert a {mode} image to RGB ({exc})") from None
    return np.asarray(rgb)


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim == 3 and arr.shape[2] == 2:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"image array must be H×W, H×W×1, H×W×3 or H×W×4, not {arr.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16:
        arr = _scale_to_uint8(arr, 65535.0)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError("image array holds NaN or infinite values")
        arr = _scale_to_uint8(np.clip(arr, 0.0, 1.0), 1.0)
    elif arr.dtype != np.uint8:
        raise ValueError(f"image array dtype must be uint8, uint16, bool or float in [0, 1], not {arr.dtype}")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr)


def to_rgb(
    image: ImageLike | str | Path, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Any supported image (PIL in any mode, array, or a file path) as H×W×3 uint8 RGB,
    EXIF orientation applied; alpha is dropped. Raises ValueError otherwise."""
    if isinstance(image, (str, Path)):
        image = open_image(image, max_side, max_pixels)
    if isinstance(image, Image.Image):
        check_size(*image.size, max_side=max_side, max_pixels=max_pixels)
        return _pil_to_rgb(image)
    if isinstance(image, np.ndarray):
        if image.ndim >= 2:
            check_size(image.shape[1], image.shape[0], max_side, max_pixels)
        return _array_to_rgb(image)
    raise ValueError(f"expected a PIL image, a numpy array or a path, got {type(image).__name__}")


def oriented(layer: ImageLike) -> ImageLike:
    """A layer with its EXIF orientation applied (arrays pass through)."""
    if isinstance(layer, Image.Image) and layer.getexif().get(0x0112, 1) != 1:
        return ImageOps.exif_transpose(layer)
    return layer


def layer_size(layer: ImageLike) -> tuple[int, int]:
    """(width, height) of a PIL image or array layer."""
    if isinstance(layer, Image.Image):
        return layer.size
    if isinstance(layer, np.ndarray) and layer.ndim >= 2:
        return layer.shape[1], layer.shape[0]
    raise ValueError(f"expected a PIL image or a numpy array, got {type(layer).__name__}")
