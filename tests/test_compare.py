"""Paired comparison of two evaluation reports: real gains are found, noise and ties are not."""
import json

import numpy as np
import pytest

from evaluation.compare import compare, main, paired_rows
from evaluation.evaluate import HEADLINE
from holes.masks import BUCKETS, bucket_name

FILES = [f"img{i}.png" for i in range(60)]


def _report(tmp_path, name: str, psnr_shift: float = 0.0, ssim_shift: float = 0.0, files=FILES):
    """A samples.json as evaluation.evaluate writes it, from a fixed base plus a per-image shift."""
    rng = np.random.default_rng(0)
    samples = {}
    for method in ("pconv", "pconv+sketch"):
        samples[method] = {}
        for k, (lo, hi) in enumerate(BUCKETS):
            base_psnr = rng.normal(30 - 20 * hi, 2.0, len(files))
            base_ssim = rng.uniform(0.6, 0.95, len(files))
            noise = np.random.default_rng(100 + k).normal(0, 0.01, len(files))
            samples[method][bucket_name(lo, hi)] = {
                "psnr": list(base_psnr + psnr_shift + (noise if psnr_shift else 0)),
                "ssim": list(base_ssim + ssim_shift),
                "l1": list(rng.uniform(1, 5, len(files))),
                "hole_psnr": list(base_psnr - 8),
            }
    folder = tmp_path / name
    folder.mkdir()
    (folder / "samples.json").write_text(json.dumps({"samples": samples, "image_files": list(files)}))
    return folder


def test_a_consistent_small_gain_is_significant_and_its_size_is_reported(tmp_path):
    old, new = _report(tmp_path, "old"), _report(tmp_path, "new", psnr_shift=0.05)
    result = compare(json.loads((old / "samples.json").read_text()), json.loads((new / "samples.json").read_text()))
    pooled = result["pconv"][bucket_name(*HEADLINE)]["psnr"]
    assert pooled["mean_diff"] == pytest.approx(0.05, abs=0.005)
    assert pooled["better"] > 0.99 and pooled["p"] < 1e-6
    n_pooled = sum(1 for lo, hi in BUCKETS if lo >= HEADLINE[0] and hi <= HEADLINE[1]) * len(FILES)
    assert pooled["n"] == n_pooled
    # SSIM was not changed: no difference, no significance.
    assert result["pconv"][bucket_name(*HEADLINE)]["ssim"] == {"n": n_pooled, "mean_diff": 0.0, "better": 0.0, "p": 1.0}


def test_symmetric_noise_is_not_called_a_gain():
    rng = np.random.default_rng(1)
    old = rng.normal(25, 2, 400)
    row = paired_rows(list(old), list(old + rng.normal(0, 0.3, 400)))
    assert row["p"] > 0.05
    with pytest.raises(ValueError, match="equal, non-empty"):
        paired_rows([1.0, 2.0], [1.0])


def test_the_cli_prints_a_table_and_rejects_reports_of_different_images(tmp_path, capsys):
    old, new = _report(tmp_path, "old"), _report(tmp_path, "new", ssim_shift=0.002)
    out = tmp_path / "diff.json"
    assert main([str(old), str(new / "samples.json"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "### pconv (new − old)" in text and "### pconv+sketch (new − old)" in text
    assert "| (0.1, 0.6] |" in text and "+0.0020 (100 % better" in text
    assert json.loads(out.read_text())["pconv+sketch"][bucket_name(*HEADLINE)]["ssim"]["better"] == 1.0

    other = _report(tmp_path, "other", files=FILES[:-1] + ["different.png"])
    assert main([str(old), str(other)]) == 2
    assert "not made on the same images" in capsys.readouterr().err
    assert main([str(old), str(tmp_path / "missing")]) == 2
    assert "no per-image scores" in capsys.readouterr().err
    assert main([str(old), str(new), "--methods", "lama"]) == 2
    assert "'lama' is missing" in capsys.readouterr().err
    (tmp_path / "results.json").write_text(json.dumps({"protocol": {}, "methods": {}}))
    assert main([str(old), str(tmp_path / "results.json")]) == 2
    assert "not a evaluation.evaluate samples.json" in capsys.readouterr().err
