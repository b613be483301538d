"""Publishing: --dry-run stages the exact files and a model card with the data terms; clear errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inpaint import GeneratorConfig, SketchPConvUNet, read_checkpoint, save_checkpoint
from release.push import PushError, find_checkpoint, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_dir(tmp_path):
    torch.manual_seed(0)
    run = tmp_path / "run"
    save_checkpoint(SketchPConvUNet(GeneratorConfig(width=0.125)), run / "export" / "small.safetensors",
                    training={"steps": 1234, "recipe": "cpu-small", "data": "faces/train"})
    (run / "eval").mkdir()
    (run / "eval" / "results.md").write_text("# Inpainting evaluation\n\n| hole ratio | PConv PSNR |\n|---|---:|\n"
                                             "| (0.1, 0.2] | 27.50 |\n")
    return run


def test_dry_run_stages_weights_config_and_card(run_dir, tmp_path, capsys):
    stage = tmp_path / "stage"
    assert main([str(run_dir), "--repo", "someone/sketchface-small", "--dry-run", "--stage-dir", str(stage)]) == 0
    out = capsys.readouterr().out
    assert "someone/sketchface-small" in out and "default.safetensors" in out and str(stage) in out
    assert "Space (this checkout" in out and "inpaint/" in out and "REFUSED" not in out
    assert sorted(p.name for p in stage.iterdir()) == ["README.md", "default.json", "default.safetensors"]

    source = run_dir / "export" / "small.safetensors"
    assert (stage / "default.safetensors").read_bytes() == source.read_bytes()
    assert json.loads((stage / "default.json").read_text())["training"]["steps"] == 1234
    staged = read_checkpoint(stage / "default.safetensors")  # what the app's Hub download will load
    assert staged.config == GeneratorConfig(width=0.125)

    card = (stage / "README.md").read_text()
    front = card.split("---")[1]
    assert "license: other" in front and "library_name: pytorch" in front and "- image-inpainting" in front
    assert "non-commercial research and education only" in card
    assert "CelebAMask-HQ" in card and "UTKFace" in card
    assert "| width | 0.125 |" in card and "| steps | 1234 |" in card and "| recipe | cpu-small |" in card
    assert "| (0.1, 0.2] | 27.50 |" in card  # the evaluation table found in the run folder
    assert "hub:someone/sketchface-small" in card


def test_checkpoint_path_and_module_entry_point(run_dir, tmp_path):
    checkpoint = run_dir / "export" / "small.safetensors"
    assert find_checkpoint(checkpoint.with_suffix(".json")) == checkpoint
    assert find_checkpoint(run_dir / "export") == checkpoint
    stage = tmp_path / "s"
    done = subprocess.run([sys.executable, "-m", "release.push", str(checkpoint), "--repo", "a/b", "--dry-run",
                           "--stage-dir", str(stage)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "| (0.1, 0.2] | 27.50 |" in (stage / "README.md").read_text()  # the run's eval/results.md

    lone = tmp_path / "lone"
    lone.mkdir()
    for suffix in (".safetensors", ".json"):
        (lone / f"small{suffix}").write_bytes(checkpoint.with_suffix(suffix).read_bytes())
    stage = tmp_path / "t"
    assert main([str(lone / "small.safetensors"), "--repo", "a/b", "--dry-run", "--stage-dir", str(stage)]) == 0
    assert "No evaluation report" in (stage / "README.md").read_text()


def test_missing_ambiguous_or_invalid_checkpoints_exit_2(run_dir, tmp_path, capsys):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    twice = tmp_path / "twice"
    twice.mkdir()
    for name in ("a", "b"):
        (twice / f"{name}.safetensors").write_bytes(b"x")
    for source in (tmp_path / "missing.safetensors", broken, twice, tmp_path / "twice" / "a.json", tmp_path):
        assert main([str(source), "--repo", "a/b", "--dry-run", "--stage-dir", str(tmp_path / "st")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert main([str(run_dir), "--repo", "not-a-repo", "--dry-run"]) == 2
    with pytest.raises(PushError, match="2 .safetensors"):
        find_checkpoint(twice)


def test_space_layout_flags_a_file_the_hub_would_refuse(tmp_path, capsys):
    import subprocess

    from release.push import print_space_layout

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "big.bin").write_bytes(b"\0" * (10 * 2**20 + 1))
    subprocess.run(["git", "add", "app.py", "big.bin"], cwd=tmp_path, check=True)
    assert print_space_layout(tmp_path) is False
    assert "REFUSED by the Hub without Git LFS (> 10 MiB): big.bin" in capsys.readouterr().out
