"""Reading user images safely, and writing results with the photo's own metadata.

Any PIL mode or array layout in, H×W×3 uint8 RGB out. Every refusal is a ValueError whose
message says what was wrong, so the CLI and the app can show it as it is. A photo's colour
profile (ICC) and EXIF travel with it: `photo_metadata` reads them (orientation dropped,
since the pixels are turned upright), `save_image` writes them back.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_SIDE = 4096
DEFAULT_MAX_PIXELS = 50_000_000
ORIENTATION = 0x0112
FRAMES_KEY = "sketchface.frames"  # in a decoded image's `info`: how many frames its file held

ImageLike = Image.Image | np.ndarray
Source = ImageLike | str | os.PathLike | bytes
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def square_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop, then resize to size×size (area filter when shrinking)."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = rgb[top : top + side, left : left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def list_images(root: str | os.PathLike) -> list[Path]:
    """Every image file under `root` (by its suffix), recursive, in sorted order."""
    if not Path(root).is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _limit(max_side: int, max_pixels: int) -> str:
    return f"the limit is {max_side} px on a side and {max_pixels / 1e6:.0f} MP; downscale it first"


def check_size(width: int, height: int, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"image is empty ({width}×{height})")
    if max(width, height) > max_side or width * height > max_pixels:
        raise ValueError(f"image is {width}×{height}; {_limit(max_side, max_pixels)}")


def bomb_refusal(exc: Image.DecompressionBombError, max_side: int = DEFAULT_MAX_SIDE,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> ValueError:
    """Pillow's own guard (`Image.MAX_IMAGE_PIXELS`, raised at twice that) refused a header:
    the same message as `check_size`, with the size Pillow reports."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "far too large"
    return ValueError(f"image is {size}; {_limit(max_side, max_pixels)}")


def read_exif(img: Image.Image) -> tuple[Image.Exif | None, str]:
    """(the EXIF block, "") or (None, why) when it is malformed: Pillow raises SyntaxError
    (or worse) for a block that is not TIFF data; the pixels are still good."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data" warnings: we report it ourselves
            if img.info.get("exif"):  # parsed afresh: Pillow raises once, then caches an empty block
                Image.Exif().load(img.info["exif"])
            return img.getexif(), ""
    except Exception as exc:  # noqa: BLE001 — any parser failure means "no usable EXIF"
        return None, f"the photo's EXIF block is malformed and was ignored ({type(exc).__name__})"


def upright(img: Image.Image) -> Image.Image:
    """`img` turned by its EXIF orientation (unchanged when there is none, or it is unreadable)."""
    exif, _ = read_exif(img)
    if exif is not None and exif.get(ORIENTATION, 1) != 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ImageOps.exif_transpose(img)
    return img


@dataclass(frozen=True)
class Metadata:
    """What a retouching tool keeps of the photo: its colour profile and camera data."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    warnings: tuple[str, ...] = ()  # what was ignored or dropped on reading

    def attach(self, img: Image.Image) -> Image.Image:
        """Put the metadata into `img.info`, where `save_image` (and Pillow's savers) find it."""
        if self.icc_profile:
            img.info["icc_profile"] = self.icc_profile
        if self.exif:
            img.info["exif"] = self.exif
        return img


def photo_metadata(img: Image.Image) -> Metadata:
    """ICC profile and EXIF of a PIL photo, the orientation tag removed."""
    icc = img.info.get("icc_profile") or None
    exif, warning = read_exif(img)
    data = None
    if exif is not None and len(exif):
        copy = Image.Exif()  # a copy: img's own EXIF object stays as it is
        copy.load(exif.tobytes())
        copy.pop(ORIENTATION, None)
        data = copy.tobytes() if len(copy) else None
    notes = [warning] if warning else []
    frames = img.info.get(FRAMES_KEY, getattr(img, "n_frames", 1))
    if frames > 1:
        notes.append(f"the photo file holds {frames} frames (an animation or several pages): first frame used")
    return Metadata(icc, data, tuple(notes))


def save_image(img: Image.Image, path: str | os.PathLike, **options) -> None:
    """Save with the ICC profile and EXIF held in `img.info` (Pillow's PNG writer ignores
    `info["exif"]` unless asked)."""
    for key in ("icc_profile", "exif"):
        if img.info.get(key):
            options.setdefault(key, img.info[key])
    img.save(path, **options)


@contextlib.contextmanager
def opened(source: str | os.PathLike | bytes | io.IOBase, max_side: int = DEFAULT_MAX_SIDE,
           max_pixels: int = DEFAULT_MAX_PIXELS):
    """The image file opened lazily (header read, nothing decoded) and refused when it is
    oversized (`check_size`); every failure of reading it, in the block too, becomes one
    ValueError naming the file."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "image"
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # Pillow warns about large headers on its own; check_size gives the one message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                check_size(*img.size, max_side=max_side, max_pixels=max_pixels)
                yield img
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{name}: is a directory, not an image") from None
    except UnidentifiedImageError:
        raise ValueError(f"{name}: not an image (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError as exc:
        raise bomb_refusal(exc, max_side, max_pixels) from None
    except (OSError, SyntaxError) as exc:  # truncated or corrupt data
        raise ValueError(f"{name}: truncated or corrupt image ({exc})") from None


def check_file(source: str | os.PathLike | bytes | io.IOBase, max_side: int = DEFAULT_MAX_SIDE,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Refuse an image file by its header alone, before anything is decoded: oversized, a
    decompression bomb, or not an image. Raises ValueError."""
    with opened(source, max_side, max_pixels):
        pass


def open_image(
    source: str | os.PathLike | bytes | io.IOBase,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """Open and fully decode an image file, refusing non-images, truncated files and
    oversized ones (checked from the header, before decoding: no decompression bombs).
    The result is turned upright by its EXIF orientation and keeps the file's `info` (ICC
    profile, EXIF)."""
    with opened(source, max_side, max_pixels) as img:
        img.load()
        frames = getattr(img, "n_frames", 1)
        copy = img.copy()
        if frames > 1:  # an animation or a multi-page file: its first frame is the photo
            copy.info[FRAMES_KEY] = frames
        return upright(copy)


def as_image(source: Source, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageLike:
    """A PIL image or array from any supported source (file paths and bytes are decoded);
    PIL images come back upright."""
    if isinstance(source, (str, os.PathLike, bytes)):
        source = open_image(source, max_side, max_pixels)
    if isinstance(source, Image.Image):
        check_size(*source.size, max_side=max_side, max_pixels=max_pixels)
        return upright(source)
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:
            check_size(source.shape[1], source.shape[0], max_side, max_pixels)
        return source
    raise ValueError(f"expected a PIL image, a numpy array or a path, got {type(source).__name__}")


def unit_float_to_uint8(arr: np.ndarray, what: str = "image") -> np.ndarray:
    """A float array in [0, 1] as uint8; NaN, infinities and values outside [0, 1] (say,
    a float array that holds 0–255) are refused rather than clipped into a white image."""
    if not np.isfinite(arr).all():
        raise ValueError(f"the {what} array holds NaN or infinite values")
    lo, hi = float(arr.min(initial=0.0)), float(arr.max(initial=0.0))
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"a float {what} array must hold values in [0, 1], but it spans {lo:g} to {hi:g}; "
                         f"pass uint8 for 0–255 values")
    return np.rint(arr.astype(np.float64) * 255.0).astype(np.uint8)


def _scale_to_uint8(arr: np.ndarray, top: float) -> np.ndarray:
    return np.clip(np.rint(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
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
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img if mode == "RGBA" else img.convert("RGBA")  # (convert copies even to its own mode)
        if rgba.getchannel("A").getextrema()[0] < 255:  # transparent areas: flattened on white
            img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), rgba)
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
        arr = unit_float_to_uint8(arr)
    elif arr.dtype != np.uint8:
        raise ValueError(f"image array dtype must be uint8, uint16, bool or float in [0, 1], not {arr.dtype}")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr)


def pixels_to_rgb(image: ImageLike) -> np.ndarray:
    """An image `as_image` returned, as H×W×3 uint8 RGB (transparency flattened on white)."""
    return _pil_to_rgb(image) if isinstance(image, Image.Image) else _array_to_rgb(image)


def to_rgb(image: Source, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Any supported image (PIL in any mode, array, a file path or bytes) as H×W×3 uint8
    RGB, EXIF orientation applied, transparency flattened on white. Raises ValueError."""
    return pixels_to_rgb(as_image(image, max_side, max_pixels))


def layer_size(layer: ImageLike) -> tuple[int, int]:
    """(width, height) of a PIL image or array layer."""
    if isinstance(layer, Image.Image):
        return layer.size
    if isinstance(layer, np.ndarray) and layer.ndim >= 2:
        return layer.shape[1], layer.shape[0]
    raise ValueError(f"expected a PIL image or a numpy array, got {type(layer).__name__}")
