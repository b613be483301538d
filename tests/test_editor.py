"""The public `Editor.edit` contract, on odd real files and arrays."""
import io

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from inpaint import Editor, GeneratorConfig, SketchPConvUNet, save_checkpoint
from conftest import edit_info, with_malformed_exif
from inpaint.imageio import open_image, save_image, to_rgb


@pytest.fixture(scope="module")
def net_editor(tmp_path_factory):
    torch.manual_seed(0)
    path = save_checkpoint(SketchPConvUNet(GeneratorConfig(width=0.125)), tmp_path_factory.mktemp("w") / "t.safetensors")
    return Editor.load(path)


@pytest.fixture(scope="module")
def telea_editor(tmp_path_factory):
    import inpaint.weights as weights

    saved = weights.CHECKPOINT_DIR
    weights.CHECKPOINT_DIR = tmp_path_factory.mktemp("none")
    try:
        return Editor.load()
    finally:
        weights.CHECKPOINT_DIR = saved


def photo(width=320, height=240, seed=0):
    """A smooth synthetic photo with some structure (no real faces in tests)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width, y / height, 0.5 + 0.5 * np.sin(x / 17.0 + y / 23.0)], axis=2) * 200 + 20
    noise = rng.normal(0, 6, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def ellipse_mask(width, height, center=None, axes=None):
    mask = np.zeros((height, width), np.uint8)
    center = center or (width // 2, height // 2)
    axes = axes or (width // 6, height // 7)
    cv2.ellipse(mask, center, axes, 15, 0, 360, 255, -1)
    return mask


def assert_untouched_outside(result: Image.Image, original: np.ndarray, mask: np.ndarray, feather: int):
    out = np.asarray(result)
    assert out.shape == original.shape and result.mode == "RGB"
    band = cv2.dilate((mask > 127).astype(np.uint8), np.ones((2 * feather + 3, 2 * feather + 3), np.uint8)) > 0
    assert np.array_equal(out[~band], original[~band])
    return out


@pytest.mark.parametrize("align", [True, False])
@pytest.mark.parametrize("size", [(320, 240), (1023, 767), (97, 301)])
def test_pixels_outside_mask_and_feather_are_byte_identical(net_editor, align, size):
    image = photo(*size)
    mask = ellipse_mask(*size)
    result, info = edit_info(net_editor, image, mask, align=align)
    assert info.path == ("crop" if align else "full") and info.feather >= 2
    out = assert_untouched_outside(result, image, mask, info.feather)
    assert (out[mask > 127] != image[mask > 127]).any()  # and the hole was redrawn


def test_mask_at_the_border_and_two_blobs(net_editor):
    image = photo(300, 200)
    mask = np.zeros((200, 300), np.uint8)
    mask[:30, 250:] = 255  # corner
    mask[150:190, 10:40] = 255  # far away: one crop must cover both
    result, info = edit_info(net_editor, image, mask)
    out = assert_untouched_outside(result, image, mask, info.feather)
    assert (out[:30, 250:] != image[:30, 250:]).any() and (out[150:190, 10:40] != image[150:190, 10:40]).any()


def test_telea_fallback_fills_the_hole_from_its_surroundings(telea_editor):
    image = np.full((200, 200, 3), (40, 160, 90), np.uint8)
    image[80:120, 80:120] = 0  # a black square to remove
    mask = np.zeros((200, 200), np.uint8)
    mask[75:125, 75:125] = 255
    result, info = edit_info(telea_editor, image, mask)
    out = np.asarray(result)
    error = np.abs(out[80:120, 80:120].astype(int) - (40, 160, 90))
    assert error.mean() <= 5 and error.max() <= 12  # the black square (error 160) is gone
    assert info.model_name == "opencv-telea"


def test_empty_mask_is_refused(net_editor):
    image = photo()
    with pytest.raises(ValueError, match="the mask is empty"):
        net_editor.edit(image, np.zeros(image.shape[:2], np.uint8))


def test_full_mask_still_answers(net_editor):
    image = photo(200, 150)
    result = net_editor.edit(image, np.full((150, 200), 255, np.uint8))
    assert result.size == (200, 150)


def _reopen(img: Image.Image, fmt: str, **kwargs) -> Image.Image:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return open_image(buffer.getvalue())


def test_cmyk_jpeg_1023x767(net_editor):
    rgb = photo(1023, 767)
    cmyk = _reopen(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95)
    assert cmyk.mode == "CMYK"
    mask = ellipse_mask(1023, 767)
    result, info = edit_info(net_editor, cmyk, mask)
    assert result.size == (1023, 767)
    original = to_rgb(cmyk)
    assert_untouched_outside(result, original, mask, info.feather)
    assert np.abs(original.astype(int) - rgb).mean() < 6  # the CMYK round trip kept the colours


def test_16_bit_png_is_scaled_not_clipped(net_editor):
    grey16 = (photo(160, 120)[..., 0].astype(np.uint16) * 257)
    img = _reopen(Image.fromarray(grey16), "PNG")
    assert img.mode.startswith("I")
    assert np.abs(to_rgb(img)[..., 0].astype(int) - grey16 // 257).max() <= 1
    result = net_editor.edit(img, ellipse_mask(160, 120))
    assert result.size == (160, 120)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "1", "I", "F"])
def test_every_common_mode(net_editor, mode):
    img = Image.fromarray(photo(120, 90)).convert(mode)
    result = net_editor.edit(img, ellipse_mask(120, 90))
    assert result.size == (120, 90) and result.mode == "RGB"


def test_exif_rotated_photo_is_edited_upright(net_editor):
    upright = photo(200, 120)
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, k=1)))  # as a camera writes it
    exif = stored.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img = _reopen(stored, "JPEG", exif=exif, quality=98)
    assert img.size == (200, 120)
    result = net_editor.edit(img, ellipse_mask(200, 120))
    assert result.size == (200, 120)
    assert np.abs(to_rgb(img).astype(int) - upright).mean() < 8


def test_mismatched_sizes_are_a_clear_error(net_editor):
    image = photo(320, 240)
    with pytest.raises(ValueError, match=r"the mask is 300×240 but the photo is 320×240; they must match"):
        net_editor.edit(image, np.zeros((240, 300), np.uint8))
    with pytest.raises(ValueError, match=r"sketch is 10×10"):
        net_editor.edit(image, ellipse_mask(320, 240), sketch=np.zeros((10, 10), np.uint8))


def test_bad_inputs_are_clear_errors(net_editor):
    image = photo(64, 64)
    mask = ellipse_mask(64, 64)
    with pytest.raises(ValueError, match="colour hints need an alpha channel"):
        net_editor.edit(image, mask, color=Image.new("RGB", (64, 64)))
    with pytest.raises(ValueError, match="faithfulness must be from 0"):
        net_editor.edit(image, mask, faithfulness=1.5)
    with pytest.raises(ValueError, match="expected a PIL image"):
        net_editor.edit(12345, mask)
    with pytest.raises(ValueError, match="no such file"):
        net_editor.edit("missing.jpg", mask)
    with pytest.raises(ValueError, match="dtype"):
        net_editor.edit(image.astype(np.int64), mask)
    with pytest.raises(ValueError, match="NaN"):
        net_editor.edit(np.full((64, 64, 3), np.nan, np.float32), mask)
    with pytest.raises(ValueError, match="H×W"):
        net_editor.edit(np.zeros((64, 64, 5), np.uint8), mask)


def test_float_arrays_outside_0_1_and_nan_masks_are_refused(net_editor):
    image = photo(64, 64)
    mask = ellipse_mask(64, 64)
    with pytest.raises(ValueError, match=r"float image array must hold values in \[0, 1\], but it spans .* to 2\d\d"):
        net_editor.edit(image.astype(np.float64), mask)  # 0–255 held in floats: not silently clipped to white
    with pytest.raises(ValueError, match="the mask: the layer array holds NaN"):
        net_editor.edit(image, np.full((64, 64), np.nan))
    ok = net_editor.edit(image.astype(np.float64) / 255.0, (mask > 127).astype(np.float32))
    assert ok.size == (64, 64)


def test_malformed_exif_gives_a_result_with_a_warning(net_editor):
    buffer = io.BytesIO()
    Image.fromarray(photo(96, 80)).save(buffer, "JPEG", quality=95)
    done = net_editor.edit(with_malformed_exif(buffer.getvalue()), ellipse_mask(96, 80), return_info=True)
    assert done.image.size == (96, 80)
    assert done.info.warnings == ("the photo's EXIF block is malformed and was ignored (SyntaxError)",)


def test_result_keeps_the_icc_profile_and_exif_with_orientation_reset(net_editor):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(photo(120, 90), k=1)))
    exif = stored.getexif()
    exif[0x0112] = 6  # turned upright on reading
    exif[0x010F] = "Test Camera"
    img = _reopen(stored, "JPEG", exif=exif, icc_profile=icc, quality=95)
    result = net_editor.edit(img, ellipse_mask(120, 90))
    assert result.size == (120, 90) and result.info["icc_profile"] == icc
    kept = Image.Exif()
    kept.load(result.info["exif"])
    assert kept.get(0x010F) == "Test Camera" and 0x0112 not in kept
    buffer = io.BytesIO()
    save_image(result, buffer, format="PNG")  # what the app's download and the CLI write
    again = Image.open(buffer)
    assert again.info["icc_profile"] == icc and again.getexif().get(0x010F) == "Test Camera"


def test_huge_images_are_refused_before_decoding(net_editor, tmp_path):
    with pytest.raises(ValueError, match="limit is 4096 px"):
        net_editor.edit(Image.new("RGB", (5000, 10)), np.zeros((10, 5000), np.uint8))
    big = tmp_path / "big.png"
    Image.new("1", (8000, 8000)).save(big)  # 64 MP, a few kB on disk
    with pytest.raises(ValueError, match="limit is 4096 px on a side and 50 MP"):
        open_image(big)


def test_truncated_and_non_image_files(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(photo()).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        open_image(truncated)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an image"):
        open_image(text)


def test_layers_follow_the_alpha_or_luminance_rule(net_editor):
    image = photo(100, 80)
    rgba = np.zeros((80, 100, 4), np.uint8)
    rgba[30:50, 40:60] = (255, 0, 0, 255)  # a red opaque stroke on a transparent layer
    a = np.asarray(net_editor.edit(image, Image.fromarray(rgba, "RGBA")))
    opaque = Image.fromarray(ellipse_mask(100, 80)).convert("RGBA")  # white on black, fully opaque
    b, info = edit_info(net_editor, image, opaque)
    assert (a[30:50, 40:60] != image[30:50, 40:60]).any()
    assert_untouched_outside(b, image, ellipse_mask(100, 80), info.feather)


def test_sketch_and_colour_steer_the_hole_only(net_editor):
    image = photo(256, 256)
    mask = ellipse_mask(256, 256, axes=(60, 40))
    sketch = np.zeros((256, 256), np.uint8)
    cv2.line(sketch, (90, 128), (170, 120), 255, 1)
    color = np.zeros((256, 256, 4), np.uint8)
    cv2.line(color, (100, 140), (160, 140), (255, 0, 0, 255), 5)
    plain = np.asarray(net_editor.edit(image, mask))
    guided, info = edit_info(net_editor, image, mask, sketch=sketch, color=color, faithfulness=0.0)
    guided = np.asarray(guided)
    feather = info.feather
    assert (plain[mask > 127] != guided[mask > 127]).any()
    assert_untouched_outside(Image.fromarray(guided), image, mask, feather)


def test_the_post_network_steps_are_chosen_where_the_editor_is_loaded():
    from inpaint import Editor

    editor = Editor.load(detail=False, follow_hints=False)
    assert (editor.detail, editor.follow_hints) == (False, False)
    other = editor.with_options(detail=True)
    assert (other.detail, other.follow_hints) == (True, False) and other.model_name == editor.model_name
    assert editor.network_config is None or editor.network_config.width > 0
