"""Weights: safetensors + JSON round trip, clear errors, the Hub path offline, the Telea fallback."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inpaint import Editor, GeneratorConfig, SketchPConvUNet, WeightsError, read_checkpoint, save_checkpoint
from inpaint.weights import build_generator

ROOT = Path(__file__).resolve().parent.parent
TINY = GeneratorConfig(width=0.125)


@pytest.fixture
def tiny_checkpoint(tmp_path):
    torch.manual_seed(3)
    model = SketchPConvUNet(TINY).eval()
    path = save_checkpoint(model, tmp_path / "tiny.safetensors", training={"steps": 7}, half=False)
    return model, path


def _run(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, 256, 256, generator=g) * 2 - 1
    valid = torch.ones(1, 1, 256, 256)
    valid[..., 100:150, 80:200] = 0
    with torch.no_grad():
        return model(image, valid)


def test_round_trip_is_exact_in_fp32(tiny_checkpoint):
    model, path = tiny_checkpoint
    assert path.with_suffix(".json").is_file()
    checkpoint = read_checkpoint(path)
    assert checkpoint.config == TINY and checkpoint.meta["training"] == {"steps": 7}
    assert torch.equal(_run(build_generator(checkpoint)), _run(model))


def test_fp16_storage_is_close(tmp_path):
    torch.manual_seed(4)
    model = SketchPConvUNet(TINY).eval()
    path = save_checkpoint(model, tmp_path / "half.safetensors", half=True)
    loaded = build_generator(read_checkpoint(path))
    assert loaded.encoder[0].conv.weight.dtype == torch.float32
    torch.testing.assert_close(_run(loaded), _run(model), atol=2e-2, rtol=1e-2)


def test_int8_storage_is_per_channel_exact_to_half_a_step_and_under_half_the_size(tmp_path):
    torch.manual_seed(5)
    model = SketchPConvUNet(TINY).eval()
    half = save_checkpoint(model, tmp_path / "half.safetensors", dtype="float16")
    small = save_checkpoint(model, tmp_path / "int8.safetensors", dtype="int8")
    assert small.stat().st_size < 0.6 * half.stat().st_size
    loaded = build_generator(read_checkpoint(small))
    for key, original in model.state_dict().items():
        if original.is_floating_point() and original.ndim == 4:
            step = original.abs().flatten(1).amax(1) / 127  # one quantisation step per output channel
            error = (loaded.state_dict()[key] - original).abs().flatten(1).amax(1)
            assert (error <= step / 2 + 1e-7).all(), key
    torch.testing.assert_close(_run(loaded), _run(model), atol=3e-2, rtol=1e-2)
    assert read_checkpoint(small).meta["dtype"] == "int8"


def test_int8_kernel_without_its_scale_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    path = save_checkpoint(SketchPConvUNet(TINY), tmp_path / "int8.safetensors", dtype="int8")
    tensors = load_file(str(path))
    del tensors[next(k for k in tensors if k.endswith(".int8_scale"))]
    save_file(tensors, str(path))
    with pytest.raises(WeightsError, match="stored as torch.int8 without its .int8_scale tensor"):
        read_checkpoint(path)


def test_shipped_default_fits_a_plain_git_push_to_the_hub():
    """The Hub refuses files over 10 MiB that are not in Git LFS."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    sizes = {name: (ROOT / name).stat().st_size for name in tracked.stdout.split("\0") if name and (ROOT / name).is_file()}
    assert max(sizes.values()) <= 10 * 2**20, max(sizes, key=sizes.get)


def test_lone_safetensors_loads_from_its_header(tiny_checkpoint):
    model, path = tiny_checkpoint
    path.with_suffix(".json").unlink()
    assert torch.equal(_run(build_generator(read_checkpoint(path))), _run(model))


def test_truncated_file_is_one_clear_error(tiny_checkpoint):
    _, path = tiny_checkpoint
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="truncated or corrupt"):
        read_checkpoint(path)


def test_garbage_file_without_config_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        read_checkpoint(path)


def test_wrong_architecture_names_what_was_expected(tiny_checkpoint, tmp_path):
    _, path = tiny_checkpoint
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["config"]["width"] = 0.25  # the config says one size, the tensors are another
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match=r"do not match a sketch-pconv-unet with .*'width': 0.25.*wrong shape"):
        read_checkpoint(path)
    meta["architecture"] = "lama"
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="architecture 'lama', expected 'sketch-pconv-unet'"):
        read_checkpoint(path)


def test_pickles_and_missing_files_are_refused(tmp_path):
    pickle = tmp_path / "model.pth"
    torch.save({"x": torch.zeros(1)}, pickle)
    with pytest.raises(WeightsError, match="expected a .safetensors file"):
        read_checkpoint(pickle)
    with pytest.raises(WeightsError, match="no such weights file"):
        Editor.load(tmp_path / "missing.safetensors")


def test_no_weights_anywhere_falls_back_to_telea(monkeypatch, tmp_path):
    import inpaint.weights as weights

    monkeypatch.setattr(weights, "CHECKPOINT_DIR", tmp_path)
    monkeypatch.delenv(weights.HUB_REPO_ENV, raising=False)
    editor = Editor.load()
    assert editor.kind == "telea" and "Telea" in editor.warning


def test_explicit_path_loads_the_network(tiny_checkpoint):
    _, path = tiny_checkpoint
    editor = Editor.load(path)
    assert editor.kind == "pconv" and editor.model_name == "tiny" and editor.warning == ""


def _fill_hub_cache(cache: Path, repo: str, files: dict[str, bytes]) -> None:
    """Lay files out exactly as huggingface_hub's cache does (models--owner--name/…)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)


def test_hub_weights_load_offline_from_a_prefilled_cache(tiny_checkpoint, tmp_path):
    _, path = tiny_checkpoint
    cache = tmp_path / "hub"
    files = {"default.safetensors": path.read_bytes(), "default.json": path.with_suffix(".json").read_bytes()}
    _fill_hub_cache(cache, "someone/sketchface-tiny", files)
    script = (
        "import inpaint.weights, pathlib\n"
        "from inpaint import Editor\n"
        "inpaint.weights.CHECKPOINT_DIR = pathlib.Path('empty')\n"  # so the default must come from the Hub
        "a = Editor.load('hub:someone/sketchface-tiny')\n"
        "b = Editor.load()\n"  # the repo from the environment variable
        "print(a.kind, a.model_name, b.kind, b.model_name)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(cache), SKETCHFACE_WEIGHTS_REPO="someone/sketchface-tiny")
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pconv", "default", "pconv", "default"]


def test_hub_repo_missing_from_cache_is_a_clear_error(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(tmp_path), PYTHONPATH=str(ROOT))
    script = "from inpaint import Editor\nEditor.load('hub:nobody/nothing')\n"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "WeightsError: hub:nobody/nothing: could not get default.safetensors" in result.stderr


def test_exported_fp16_weights_restore_to_int8_with_their_record(tmp_path):
    """A GPU burst brings fp16 weights files, not run folders: `release.export W.safetensors`
    stores them in the shipped int8 form, the same as quantising the fp16 model directly."""
    from release.export import main as export_main

    torch.manual_seed(6)
    half = save_checkpoint(SketchPConvUNet(TINY).eval(), tmp_path / "burst.safetensors", dtype="float16",
                           training={"recipe": "sharp-gpu", "steps": 7845})
    out = tmp_path / "burst-int8.safetensors"
    assert export_main([str(half), "--out", str(out)]) == 0
    restored = read_checkpoint(out)
    assert restored.meta["dtype"] == "int8" and restored.meta["training"]["steps"] == 7845
    assert restored.meta["training"]["stored_from"] == {"file": "burst.safetensors", "dtype": "float16"}
    direct = save_checkpoint(build_generator(read_checkpoint(half)).eval(), tmp_path / "direct.safetensors", dtype="int8")
    assert torch.equal(_run(build_generator(restored)), _run(build_generator(read_checkpoint(direct))))
    assert export_main([str(half), "--out", str(out), "--raw"]) == 2
