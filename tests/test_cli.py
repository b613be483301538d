"""The command line, run as a user runs it: a real subprocess on real files."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from conftest import with_malformed_exif
from inpaint import GeneratorConfig, SketchPConvUNet, save_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "inpaint", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 160), np.uint8)
    mask[40:80, 50:110] = 255
    Image.fromarray(image).save(tmp_path / "face.jpg", quality=95)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    torch.manual_seed(0)
    save_checkpoint(SketchPConvUNet(GeneratorConfig(width=0.125)), tmp_path / "w.safetensors")
    return tmp_path


def test_single_image(files):
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--out", "out.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 0, result.stderr
    out = Image.open(files / "out.png")
    assert out.size == (160, 120)
    assert "out.png (w, redraw, crop," in result.stdout


def test_mode_reshape_without_lines_says_it_redrew_and_a_bad_mode_exits_2(files):
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--out", "out.png", "--weights", "w.safetensors",
                 "--mode", "reshape", cwd=files)
    assert result.returncode == 0, result.stderr
    assert "redraw: no sketch lines in the mask to reshape to" in result.stdout
    bad = cli("--image", "face.jpg", "--mask", "mask.png", "--weights", "w.safetensors", "--mode", "warp", cwd=files)
    assert bad.returncode == 2 and "invalid choice: 'warp'" in bad.stderr


def test_the_learned_registration_is_chosen_by_flag_and_a_bad_one_exits_2(files):
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--out", "out.png", "--weights", "w.safetensors",
                 "--registration", "learned", cwd=files)
    assert result.returncode == 0, result.stderr
    assert "no flow-network weights" not in result.stderr  # the shipped weights were found
    bad = cli("--image", "face.jpg", "--mask", "mask.png", "--weights", "w.safetensors", "--registration", "dense",
              cwd=files)
    assert bad.returncode == 2 and "invalid choice: 'dense'" in bad.stderr


def test_truncated_png_exits_2_with_one_line(files):
    data = (files / "mask.png").read_bytes()
    (files / "bad.png").write_bytes(data[: len(data) // 2])
    result = cli("--image", "face.jpg", "--mask", "bad.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: face.jpg: the mask: bad.png: truncated or corrupt"), lines


def test_mismatched_mask_and_missing_weights_exit_2(files):
    Image.new("L", (10, 10)).save(files / "small.png")
    result = cli("--image", "face.jpg", "--mask", "small.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2 and "the mask is 10×10 but the photo is 160×120" in result.stderr
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--weights", "nope.safetensors", cwd=files)
    assert result.returncode == 2 and result.stderr.strip() == "error: nope.safetensors: no such weights file"
    assert "Traceback" not in result.stderr


def test_folder_mode_writes_good_files_and_reports_bad_ones(files):
    (files / "imgs").mkdir()
    (files / "masks").mkdir()
    for name in ("a", "b"):
        (files / "imgs" / f"{name}.jpg").write_bytes((files / "face.jpg").read_bytes())
        (files / "masks" / f"{name}.png").write_bytes((files / "mask.png").read_bytes())
    (files / "imgs" / "c.jpg").write_bytes(b"not a jpeg")
    (files / "masks" / "c.png").write_bytes((files / "mask.png").read_bytes())
    result = cli("--image", "imgs", "--mask", "masks", "--out", "edited", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2
    assert sorted(p.name for p in (files / "edited").iterdir()) == ["a.png", "b.png"]
    assert "error: imgs/c.jpg: not an image" in result.stderr
    assert "2 of 3 written" in result.stdout


def test_folder_mode_skips_an_image_without_a_mask_and_writes_the_rest(files):
    (files / "imgs").mkdir()
    (files / "masks").mkdir()
    for name in ("a", "b"):
        (files / "imgs" / f"{name}.jpg").write_bytes((files / "face.jpg").read_bytes())
    (files / "masks" / "b.png").write_bytes((files / "mask.png").read_bytes())
    result = cli("--image", "imgs", "--mask", "masks", "--out", "edited", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2
    assert [p.name for p in (files / "edited").iterdir()] == ["b.png"]
    assert "error: imgs/a.jpg: no mask named a.* in masks; skipped" in result.stderr
    assert "1 of 2 written" in result.stdout


def test_folder_mode_refuses_to_write_over_its_inputs(files):
    (files / "imgs").mkdir()
    (files / "imgs" / "a.png").write_bytes((files / "mask.png").read_bytes())
    before = (files / "imgs" / "a.png").read_bytes()
    result = cli("--image", "imgs", "--mask", "imgs", "--out", "imgs", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2 and "is an input folder; choose another --out" in result.stderr
    assert (files / "imgs" / "a.png").read_bytes() == before
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--out", "mask.png", "--weights", "w.safetensors",
                 cwd=files)
    assert result.returncode == 2 and "is an input file" in result.stderr


def test_folder_mode_reports_two_images_sharing_a_name(files):
    (files / "imgs").mkdir()
    (files / "masks").mkdir()
    for name in ("a.jpg", "a.png", "b.jpg"):
        (files / "imgs" / name).write_bytes((files / "face.jpg").read_bytes())
    for name in ("a", "b"):
        (files / "masks" / f"{name}.png").write_bytes((files / "mask.png").read_bytes())
    result = cli("--image", "imgs", "--mask", "masks", "--out", "edited", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2
    assert "images a.jpg and a.png share the name 'a': rename one" in result.stderr
    assert [p.name for p in (files / "edited").iterdir()] == ["b.png"]


def test_malformed_exif_is_a_warning_and_the_edit_is_written(files):
    (files / "bad_exif.jpg").write_bytes(with_malformed_exif((files / "face.jpg").read_bytes()))
    result = cli("--image", "bad_exif.jpg", "--mask", "mask.png", "--out", "out.png", "--weights", "w.safetensors",
                 cwd=files)
    assert result.returncode == 0, result.stderr
    assert Image.open(files / "out.png").size == (160, 120)
    assert result.stderr.strip() == "warning: bad_exif.jpg: the photo's EXIF block is malformed and was ignored (SyntaxError)"


def test_a_huge_header_is_one_line_without_pillow_warnings(files):
    header = Image.new("1", (10000, 10000))  # 12 MB of bits, but the header alone says 100 MP
    header.save(files / "huge.png")
    result = cli("--image", "huge.png", "--mask", "mask.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: huge.png: image is 10000×10000; the limit is 4096 px on a side and 50 MP; downscale it first"]


def test_output_keeps_the_photos_icc_profile_and_exif(files):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "SketchFace Test Camera"  # Make
    Image.open(files / "face.jpg").save(files / "tagged.jpg", icc_profile=icc, exif=exif, quality=95)
    result = cli("--image", "tagged.jpg", "--mask", "mask.png", "--out", "out.jpg", "--weights", "w.safetensors",
                 cwd=files)
    assert result.returncode == 0, result.stderr
    out = Image.open(files / "out.jpg")
    assert out.info.get("icc_profile") == icc
    assert out.getexif().get(0x010F) == "SketchFace Test Camera"


def test_inputs_and_out_are_checked_before_the_model_loads(files):
    """A mistyped path is reported before the weights are read: with an unreadable weights
    file too, the one line is about the input, not the weights."""
    (files / "broken.safetensors").write_bytes(b"not weights")
    result = cli("--image", "face.jpg", "--mask", "mask.pgn", "--weights", "broken.safetensors", cwd=files)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == ["error: mask.pgn: no such file"]
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--out", "face.jpg/out.png",
                 "--weights", "broken.safetensors", cwd=files)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: face.jpg/out.png: cannot create")
    (files / "notes.png").write_text("not an image")
    result = cli("--image", "face.jpg", "--mask", "mask.png", "--sketch", "notes.png", "--weights", "broken.safetensors",
                 cwd=files)
    assert result.stderr.strip() == "error: notes.png: not an image (or a format Pillow cannot read)"


def test_a_mask_over_most_of_the_photo_and_an_animation_are_warned_about(files):
    Image.new("L", (160, 120), 255).save(files / "all.png")
    frames = [Image.fromarray(np.full((120, 160, 3), v, np.uint8)) for v in (60, 200)]
    frames[0].save(files / "moving.gif", save_all=True, append_images=frames[1:])
    result = cli("--image", "moving.gif", "--mask", "all.png", "--out", "o.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 0, result.stderr
    assert "warning: moving.gif: the mask covers 100% of the photo" in result.stderr
    assert "warning: moving.gif: the photo file holds 2 frames (an animation or several pages): first frame used" \
        in result.stderr


@pytest.fixture
def portraits(files):
    """Two aligned portraits: the public-domain astronaut and her mirrored, recoloured copy; and
    a photo without a face."""
    from skimage.data import astronaut

    photo = astronaut()
    Image.fromarray(photo).save(files / "a.png")
    copy = np.clip(photo[:, ::-1].astype(np.float32) * (1.0, 0.8, 0.9), 0, 255).astype(np.uint8)
    Image.fromarray(copy).save(files / "b.png")
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(files / "blank.png")
    return files


def test_a_part_from_a_reference_needs_no_mask(portraits):
    result = cli("--image", "a.png", "--reference", "b.png", "--part", "mouth", "--out", "o.png",
                 "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 0, result.stderr
    assert "transplant" in result.stdout and "mouth from the reference, its own pixels moved in (landmarks fit within" \
        in result.stdout
    before, after = np.asarray(Image.open(portraits / "a.png")), np.asarray(Image.open(portraits / "o.png"))
    ys, xs = np.nonzero((before != after).any(2))
    assert ys.size and 115 < ys.min() and ys.max() < 180 and 180 < xs.min() and xs.max() < 265  # around her mouth (200–245, 139–156)


def test_the_lines_path_stays_an_option(portraits):
    result = cli("--image", "a.png", "--reference", "b.png", "--part", "mouth", "--reference-mode", "lines",
                 "--out", "o.png", "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 0, result.stderr
    assert "redraw" in result.stdout and "mouth from the reference (landmarks fit within" in result.stdout
    result = cli("--image", "a.png", "--reference", "b.png", "--part", "mouth", "--reference-mode", "dabs",
                 "--out", "o.png", "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 2 and "invalid choice: 'dabs'" in result.stderr


def test_a_turned_reference_is_warned_about_by_its_own_name(portraits):
    """The astronaut's nose pushed sideways reads as a face turned away: the warning names the
    reference, not the photo."""
    import cv2

    from inpaint.face import detect_faces, grey_image

    photo = np.asarray(Image.open(portraits / "a.png"))
    tip = detect_faces(grey_image(photo))[0].landmarks[33]
    ys, xs = np.mgrid[0:512, 0:512].astype(np.float32)
    push = 22 * np.exp(-((xs - tip[0]) ** 2 + (ys - tip[1]) ** 2) / (2 * 28.0**2)).astype(np.float32)
    Image.fromarray(cv2.remap(photo, xs - push, ys, cv2.INTER_CUBIC)).save(portraits / "turned.png")
    result = cli("--image", "a.png", "--reference", "turned.png", "--part", "mouth", "--out", "o.png",
                 "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 0, result.stderr
    assert "warning: turned.png: the reference face is turned differently" in result.stderr, result.stderr


def test_a_faceless_reference_exits_2_with_one_line(portraits):
    result = cli("--image", "a.png", "--reference", "blank.png", "--part", "mouth", "--weights", "w.safetensors",
                 cwd=portraits)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: blank.png: no face found in the reference (faces smaller than about 40 px are not "
                     "detected)"], lines
    result = cli("--image", "a.png", "--reference", "b.png", "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 2 and "--reference needs at least one --part" in result.stderr
    result = cli("--image", "a.png", "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 2 and "give --mask, or --reference with --part" in result.stderr


def test_one_reference_for_a_folder(portraits):
    folder = portraits / "photos"
    folder.mkdir()
    (portraits / "a.png").rename(folder / "a.png")
    (portraits / "blank.png").rename(folder / "blank.png")
    result = cli("--image", "photos", "--reference", "b.png", "--part", "eyes", "--out", "out",
                 "--weights", "w.safetensors", cwd=portraits)
    assert result.returncode == 2  # one photo has no face: reported, the other still written
    assert (portraits / "out" / "a.png").is_file() and not (portraits / "out" / "blank.png").exists()
    assert "blank.png: no face found in the photo" in result.stderr
