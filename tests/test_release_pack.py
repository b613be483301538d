"""The GPU path, run on the CPU: pack a cache, unpack it, and the device script end to end."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from release import pack
from train import prepare
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
        assert np.abs(a[0].astype(int) - b[0]).mean() < 3  # WebP at quality 85
        assert np.array_equal(a[1], b[1])
        assert np.array_equal(a[2], b[2], equal_nan=True)
    features = VGGFeatures(str(tmp_path / "pack" / pack.VGG_FILE))
    assert features.source == "random" and not features.caffe


def test_a_tight_budget_keeps_an_even_spread(face_folder, tmp_path):
    cache = _cache(face_folder, tmp_path)
    summary = pack.pack(cache, tmp_path / "pack", max_mib=0.012, vgg="none")
    assert 0 < summary["faces"] < 6


def test_the_burst_kit_trains_two_arms_and_brings_both_networks_back(face_folder, tmp_path):
    """train/device_run.sh on the CPU: two arms of the ink study side by side on a tiny
    model, each arm's generator and discriminator (fp16) and the validation brought back; a
    second burst starts from those files (the adversarial game continues)."""
    import torch
    from safetensors.torch import load_file

    from inpaint import GeneratorConfig, SketchPConvUNet, save_checkpoint

    cache = _cache(face_folder, tmp_path)
    pack.pack(cache, ROOT / ".pack-test", max_mib=1.0, vgg="random")
    torch.manual_seed(0)
    tiny = GeneratorConfig(width=0.125, layer_size=6, resolution=128)
    init = save_checkpoint(SketchPConvUNet(tiny), tmp_path / "tiny.safetensors", dtype="float32")
    tiny_recipe = ["model.width=0.125", "model.layer_size=6", "model.resolution=128", "data.crop=64",
                   "data.batch_size=2", "data.full_batch=1", "data.workers=0", "loss.perceptual_size=64",
                   "loss.disc_width=0.125"]
    args = ["--images", "3", "--threads", "1", *[f"--set={s}" for s in tiny_recipe]]

    def burst(out: Path, init_from: Path) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHON": sys.executable, "BASE": "sharp", "ONLY": "a-sharp,d-inked-fakes",
               "OUT": str(out), "WORK": str(tmp_path / "work"), "INIT": str(init_from), "MINUTES": "5",
               "OMP_NUM_THREADS": "1", "PACK": ".pack-test"}
        return subprocess.run(["bash", "train/device_run.sh", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)

    try:
        first = burst(tmp_path / "out", init)
        assert first.returncode == 0, first.stdout + first.stderr
        out = tmp_path / "out"
        names = {p.name for p in out.iterdir()}
        assert names == {"a-sharp.safetensors", "a-sharp.disc.safetensors", "d-inked-fakes.safetensors",
                         "d-inked-fakes.disc.safetensors", "validation.jsonl", "arms.md"}
        assert len(names) <= 8  # what comes back from the device
        for arm in ("a-sharp", "d-inked-fakes"):
            checkpoint = read_checkpoint(out / f"{arm}.safetensors")
            assert checkpoint.meta["dtype"] == "float16" and checkpoint.meta["training"]["steps"] == 2
            assert all(t.dtype == torch.float16 for t in load_file(str(out / f"{arm}.disc.safetensors")).values())
        assert "| a-sharp | 2 | 3 |" in (out / "arms.md").read_text() and "img/s" in first.stdout
        second = burst(tmp_path / "out2", out)  # the next burst: per-arm generator and discriminator
        assert second.returncode == 0, second.stdout + second.stderr
        log = (tmp_path / "work" / "runs" / "d-inked-fakes" / "train.log").read_text()
        assert "discriminator initialised from" in log and "d-inked-fakes.disc.safetensors" in log
    finally:
        import shutil

        shutil.rmtree(ROOT / ".pack-test", ignore_errors=True)
