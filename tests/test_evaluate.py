"""Evaluation: all four methods on the same inputs, composites keep known pixels, reports, determinism."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint import GeneratorConfig, SketchPConvUNet, save_checkpoint
from evaluation.evaluate import METHODS, evaluate, list_images, load_editor, load_square, main, metrics, run_methods
from holes.masks import BUCKETS, bucket_masks, save_bucket_masks


def _synthetic(seed: int, h: int = 280, w: int = 300) -> np.ndarray:
    """Smooth shapes on a gradient: structure for edges and inpainting, no faces."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    image = np.stack([120 + 80 * np.sin(4 * x + seed), 100 + 90 * y, 140 - 60 * np.cos(3 * (x + y))], axis=2)
    for _ in range(3):
        cx, cy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.08, 0.2)
        inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        image[inside] = rng.uniform(20, 235, 3)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    data = root / "data"
    (data / "sub").mkdir(parents=True)
    for i in range(4):
        Image.fromarray(_synthetic(i)).save(data / ("sub" if i % 2 else "") / f"img{i}.png")
    (data / "notes.txt").write_text("not an image")
    torch.manual_seed(0)
    weights = save_checkpoint(SketchPConvUNet(GeneratorConfig(width=0.125)), root / "tiny.safetensors", half=False)
    masks = save_bucket_masks(root / "masks", size=256, per_bucket=3, seed=0) and root / "masks"
    return root, data, weights, masks


def test_images_are_found_recursively_and_centre_cropped(setup):
    _, data, _, _ = setup
    paths = list_images(data)
    assert [p.name for p in paths] == ["img0.png", "img2.png", "img1.png", "img3.png"]
    square = load_square(paths[0], 256)
    assert square.shape == (256, 256, 3) and square.dtype == np.uint8


def test_every_method_keeps_the_known_pixels(setup):
    _, data, weights, _ = setup
    editor = load_editor(weights)
    image = load_square(list_images(data)[0], 256)
    hole = bucket_masks(seed=1, size=256, per_bucket=1)["0.3-0.4"][0]
    lines = np.zeros(hole.shape, bool)
    lines[100:110, 50:200] = True
    results = run_methods(image, hole, lines, editor)
    assert list(results) == list(METHODS)
    for name, result in results.items():
        assert result.shape == image.shape and result.dtype == np.uint8
        assert np.array_equal(result[~hole], image[~hole]), name
        assert not np.array_equal(result[hole], image[hole]), name  # the hole was really filled
    assert metrics(image, image, hole)["psnr"] == 100.0


def test_metrics_match_their_definitions():
    truth = np.full((32, 32, 3), 100, np.uint8)
    hole = np.zeros((32, 32), bool)
    hole[:8] = True  # a quarter of the image
    result = truth.copy()
    result[hole] = 110
    scores = metrics(result, truth, hole)
    assert scores["l1"] == pytest.approx(10 / 4 / 255 * 100)
    assert scores["hole_psnr"] == pytest.approx(10 * np.log10(255**2 / 100))
    assert scores["psnr"] == pytest.approx(10 * np.log10(255**2 / 25))
    assert 0 < scores["ssim"] < 1


def test_cli_writes_the_report_and_is_deterministic(setup, tmp_path):
    root, data, weights, masks = setup
    args = ["--data", str(data), "--weights", str(weights), "--masks", str(masks), "--quiet", "--examples", "1",
            "--edges", "gradient"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    first = json.loads((tmp_path / "a" / "results.json").read_text())
    assert set(first["methods"]) == set(METHODS)
    for stats in first["methods"].values():
        assert list(stats) == [f"{lo:g}-{hi:g}" for lo, hi in BUCKETS] + ["0.1-0.6"]
        assert all(stats[b]["n"] == 4 for b in stats if b != "0.1-0.6") and stats["0.1-0.6"]["n"] == 20
        assert all(np.isfinite(stats[b][k]) for b in stats for k in ("psnr", "ssim", "l1", "hole_psnr"))
    protocol = first["protocol"]
    assert protocol["images"] == 4 and protocol["size"] == 256 and protocol["model_config"]["width"] == 0.125
    assert protocol["edge_detector"]["name"] == "gradient" and protocol["opencv_radius"] == 5
    table = (tmp_path / "a" / "results.md").read_text()
    assert "Navier-Stokes PSNR" in table and "PConv + sketch PSNR" in table and "(0.5, 0.6]" in table
    assert (tmp_path / "a" / "psnr_vs_hole.png").stat().st_size > 10_000
    assert len(list((tmp_path / "a" / "examples").glob("*.png"))) == 1

    assert main(args + ["--out", str(tmp_path / "b"), "--examples", "0"]) == 0
    second = json.loads((tmp_path / "b" / "results.json").read_text())
    assert second["methods"] == first["methods"]
    samples = [json.loads((tmp_path / run / "samples.json").read_text()) for run in "ab"]
    assert samples[0] == samples[1] and len(samples[0]["samples"]["pconv+sketch"]["0.5-0.6"]["psnr"]) == 4


def test_without_weights_only_opencv_runs_and_masks_are_generated(setup, tmp_path):
    _, data, _, _ = setup
    out = tmp_path / "r"
    assert main(["--data", str(data), "--weights", "none", "--out", str(out), "--limit", "2",
                 "--per-bucket", "2", "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["methods"]) == ["telea", "navier-stokes"]
    assert results["protocol"]["images"] == 2 and results["protocol"]["masks"]["seed"] == 0
    assert len(list((out / "masks" / "b0.4-0.5").glob("*.png"))) == 2


def test_library_call_and_clear_errors(setup, tmp_path, capsys):
    _, data, weights, masks = setup
    small = bucket_masks(seed=0, size=256, per_bucket=1)
    result = evaluate(list_images(data)[:1], small, None, progress=False)
    assert result["methods"]["telea"]["0.2-0.3"]["n"] == 1
    with pytest.raises(ValueError, match="evaluated at"):
        evaluate(data, bucket_masks(seed=0, size=64, per_bucket=1), None, progress=False)
    assert main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "x"), "--masks", str(masks)]) == 2
    assert main(["--data", str(data), "--weights", str(tmp_path / "nope.safetensors"), "--out", str(tmp_path / "y"),
                 "--masks", str(masks)]) == 2
    assert capsys.readouterr().err.count("error:") == 2
