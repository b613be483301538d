"""The command line, run as a user runs it: a real subprocess on real files."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

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
    assert "out.png (w, crop," in result.stdout


def test_truncated_png_exits_2_with_one_line(files):
    data = (files / "mask.png").read_bytes()
    (files / "bad.png").write_bytes(data[: len(data) // 2])
    result = cli("--image", "face.jpg", "--mask", "bad.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad.png: truncated or corrupt image"), result.stderr


def test_mismatched_mask_and_missing_weights_exit_2(files):
    Image.new("L", (10, 10)).save(files / "small.png")
    result = cli("--image", "face.jpg", "--mask", "small.png", "--weights", "w.safetensors", cwd=files)
    assert result.returncode == 2 and "mask is 10×10 but the image is 160×120" in result.stderr
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


def test_folder_mode_needs_a_mask_per_image(files):
    (files / "imgs").mkdir()
    (files / "masks").mkdir()
    (files / "imgs" / "a.jpg").write_bytes((files / "face.jpg").read_bytes())
    result = cli("--image", "imgs", "--mask", "masks", cwd=files)
    assert result.returncode == 2 and "no mask in masks for 1 image(s), e.g. a" in result.stderr
