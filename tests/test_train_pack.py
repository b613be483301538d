"""The GPU path, run on the CPU: pack a cache, unpack it, and the device script end to end."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from train import pack, prepare
from train.data import CacheSource
from train.losses import VGGFeatures
from inpaint.weights import read_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def _cache(face_folder, tmp_path):
    out = tmp_path / "cache"
    assert prepare.main(["--data", str(face_folder), "--out", str(out), "--size", "128", "--detector", "gradient"]) == 0
    return out


def test_a_pack_unpacks_to_the_same_faces(face_folder, tmp_path):
    cache = _cache(face_folder, tmp_path)
    summary = pack.pack(cache, tmp_path / "pack", max_mib=1.0, vgg="random")
    assert summary["faces"] == 6 and (tmp_path / "pack" / pack.FACES_FILE).stat().st_size < 2**20
    assert pack.unpack(tmp_path / "pack", tmp_path / "back") == 6
    original, back = CacheSource(cache, "all"), CacheSource(tmp_path / "back", "all")
    for i in range(6):
        a, b = original.get(i), back.get(i)
        assert np.abs(a[0].astype(int) - b[0]).mean() < 3  # JPEG at quality 95
        assert np.array_equal(a[1], b[1])
        assert np.array_equal(a[2], b[2], equal_nan=True)
    features = VGGFeatures(str(tmp_path / "pack" / pack.VGG_FILE))
    assert features.source == "random" and not features.caffe


def test_a_tight_budget_keeps_an_even_spread(face_folder, tmp_path):
    cache = _cache(face_folder, tmp_path)
    summary = pack.pack(cache, tmp_path / "pack", max_mib=0.02, vgg="none")
    assert 0 < summary["faces"] < 6


def test_the_device_script_trains_and_brings_weights_back(face_folder, tmp_path):
    cache = _cache(face_folder, tmp_path)
    pack.pack(cache, ROOT / ".pack-test", max_mib=1.0, vgg="random")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "RECIPE": "sharp", "OUT": str(out), "WORK": str(tmp_path / "work"),
           "MINUTES": "5", "OMP_NUM_THREADS": "1", "PACK": ".pack-test"}
    try:
        result = subprocess.run(["bash", "train/device_run.sh", "--steps", "2", "batch_size=2", "workers=0",
                                 "validate_every=0", "sample_every=1", "--threads", "1"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    finally:
        import shutil

        shutil.rmtree(ROOT / ".pack-test", ignore_errors=True)
    assert result.returncode == 0, result.stdout + result.stderr
    checkpoint = read_checkpoint(out / "sharp.safetensors")
    assert checkpoint.meta["training"]["steps"] == 2
    assert (out / "samples.png").stat().st_size > 1000 and (out / "train.log").is_file()
