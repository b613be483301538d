"""The training recipe end to end on tiny synthetic data: prepare → fit → resume → export → edit."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint import Editor
from release import export
from train import fit, prepare
from train.data import CacheSource
from train.state import load_state

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--vgg", "random", "width=0.125", "model.resolution=128", "low_res=0", "batch_size=2", "workers=0",
        "perceptual_size=64", "loss.adversarial=0.1", "log_every=1", "sample_every=2", "checkpoint_every=100",
        "color_prob=0.5"]


@pytest.fixture(scope="module")
def cache(face_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("cache") / "faces"
    assert prepare.main(["--data", str(face_folder), "--out", str(out), "--size", "128", "--detector", "gradient"]) == 0
    return out


def test_prepare_skips_unreadable_files_and_resumes(cache, face_folder, capsys):
    source = CacheSource(cache)
    assert len(source) == 6 and source.size == 128 and source.detector == "gradient"
    image, lines, landmarks = source.get(0)
    assert np.isnan(landmarks).all()  # prepared without --align: no face landmarks
    assert image.shape == (128, 128, 3) and lines.dtype == bool and 0 < lines.mean() < 0.2
    assert "broken.jpg" in (cache / "unreadable.txt").read_text()
    assert prepare.main(["--data", str(face_folder), "--out", str(cache), "--size", "128", "--detector", "gradient"]) == 0
    assert "6 of 7 images ready" in capsys.readouterr().out


def _fit(cache, run, steps, *extra, overrides=()):
    return fit.main(["--data", str(cache), "--out", str(run), "--steps", str(steps), *extra, *TINY, *overrides])


def test_resumed_run_equals_straight_run(cache, tmp_path):
    mixed = ["layer_size=6", "crop=64", "full_every=2", "full_batch=2"]  # 64-px crops; every other step whole faces
    _fit(cache, tmp_path / "straight", 4, overrides=mixed)
    _fit(cache, tmp_path / "resumed", 2, overrides=mixed)
    _fit(cache, tmp_path / "resumed", 4, "--resume", overrides=mixed)
    a, b = load_state(tmp_path / "straight"), load_state(tmp_path / "resumed")
    assert a["step"] == b["step"] == 4
    for part in ("generator", "ema", "disc"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"
    assert a["opt_g"]["state"][0]["exp_avg"].equal(b["opt_g"]["state"][0]["exp_avg"])
    assert list((tmp_path / "straight" / "samples").glob("*.png"))
    assert list((tmp_path / "straight" / "tb").iterdir())


def test_existing_run_needs_resume(cache, tmp_path):
    _fit(cache, tmp_path / "run", 1)
    with pytest.raises(SystemExit, match="--resume"):
        _fit(cache, tmp_path / "run", 2)


@pytest.mark.parametrize("native_bf16", [False, True])
def test_bf16_falls_back_to_fp32_on_a_cpu_without_native_bf16(cache, tmp_path, monkeypatch, caplog, native_bf16):
    monkeypatch.setattr(fit, "cpu_has_native_bf16", lambda: native_bf16)
    fit.main(["--data", str(cache), "--out", str(tmp_path / "run"), "--steps", "1", *TINY, "precision=bf16",
              "channels_last=true"])
    recorded = load_state(tmp_path / "run")["recipe"]["run"]
    assert json.loads((tmp_path / "run" / "recipe.json").read_text())["run"] == recorded
    if native_bf16:
        assert (recorded["precision"], recorded["channels_last"]) == ("bf16", True)
        assert "no native bf16" not in caplog.text
    else:
        assert (recorded["precision"], recorded["channels_last"]) == ("fp32", False)
        assert "no native bf16" in caplog.text


def test_non_finite_loss_skips_the_update(cache, tmp_path, monkeypatch):
    from train import step

    original = step.generator_objective

    def poisoned(*args):
        total, terms = original(*args)
        return total * float("nan"), terms

    monkeypatch.setattr(step, "generator_objective", poisoned)
    _fit(cache, tmp_path / "nan", 2)
    state = load_state(tmp_path / "nan")
    assert state["step"] == 2 and state["skipped"] == 2
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())


def test_export_then_edit(cache, tmp_path):
    _fit(cache, tmp_path / "run", 2)
    out = tmp_path / "ckpt" / "tiny.safetensors"
    assert export.main([str(tmp_path / "run"), "--out", str(out)]) == 0
    editor = Editor.load(out)
    assert editor.kind == "pconv"
    image = np.random.default_rng(0).integers(0, 255, (150, 130, 3), dtype=np.uint8)
    mask = np.zeros((150, 130), np.uint8)
    mask[50:90, 40:90] = 255
    result = np.asarray(editor.edit(image, mask))
    assert result.shape == image.shape and not np.array_equal(result[mask > 0], image[mask > 0])
    assert export.main([str(tmp_path / "nothing"), "--out", str(out)]) == 2


def test_ddp_two_processes_on_cpu(cache, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={port}", "-m", "train.fit", "--data", str(cache), "--out", str(tmp_path / "ddp"),
           "--steps", "2", *TINY]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    state = load_state(tmp_path / "ddp")
    assert state["step"] == 2 and state["world"] == 2 and state["images_seen"] == 2 * 2 * 2


def test_new_run_can_start_from_exported_weights(cache, tmp_path):
    _fit(cache, tmp_path / "first", 2)
    weights = tmp_path / "w.safetensors"
    export.main([str(tmp_path / "first"), "--out", str(weights), "--dtype", "float32"])
    _fit(cache, tmp_path / "second", 0, "--init", str(weights))
    first, second = load_state(tmp_path / "first"), load_state(tmp_path / "second")
    assert all(torch.equal(first["ema"][k], second["generator"][k]) for k in first["ema"])
    # the exported second stage says what it grew from, and counts every stage's steps
    _fit(cache, tmp_path / "second", 3, "--resume")
    export.main([str(tmp_path / "second"), "--out", str(tmp_path / "w2.safetensors")])
    training = json.loads((tmp_path / "w2.json").read_text())["training"]
    assert (training["steps"], training["total_steps"], training["total_images_seen"]) == (3, 5, 10)
    assert training["initialised_from"]["file"] == "w.safetensors" and training["initialised_from"]["steps"] == 2


def test_init_may_switch_the_decoder_to_bilinear_steps_but_not_the_shapes(cache, tmp_path):
    _fit(cache, tmp_path / "nearest", 1)
    weights = tmp_path / "n.safetensors"
    export.main([str(tmp_path / "nearest"), "--out", str(weights), "--dtype", "float32"])
    _fit(cache, tmp_path / "bilinear", 1, "--init", str(weights), overrides=["model.upsample=bilinear"])
    export.main([str(tmp_path / "bilinear"), "--out", str(tmp_path / "b.safetensors")])
    assert json.loads((tmp_path / "b.json").read_text())["config"]["upsample"] == "bilinear"
    assert Editor.load(tmp_path / "b.safetensors").network_config.upsample == "bilinear"
    with pytest.raises(SystemExit, match="architecture"):
        _fit(cache, tmp_path / "wider", 0, "--init", str(weights), overrides=["width=0.25"])


def test_init_may_take_the_sketch_out_of_the_finest_levels(cache, tmp_path):
    """`model.sketch_from=2`: the two finest decoder convs lose their sketch input; every
    other tensor is loaded as it was, and those two keep their other input channels."""
    from inpaint.weights import read_checkpoint

    _fit(cache, tmp_path / "all", 1)
    weights = tmp_path / "all.safetensors"
    export.main([str(tmp_path / "all"), "--out", str(weights), "--dtype", "float32"])
    _fit(cache, tmp_path / "coarse", 0, "--init", str(weights), overrides=["model.sketch_from=2"])
    export.main([str(tmp_path / "coarse"), "--out", str(tmp_path / "c.safetensors"), "--dtype", "float32"])
    before, after = read_checkpoint(weights).state_dict, read_checkpoint(tmp_path / "c.safetensors").state_dict
    assert read_checkpoint(tmp_path / "c.safetensors").config.sketch_from == 2
    for key, value in before.items():
        if key in ("decoder.0.conv.weight", "decoder.1.conv.weight"):
            assert after[key].shape[1] < value.shape[1]
            assert torch.equal(after[key], value[:, : after[key].shape[1]])
        else:
            assert torch.equal(after[key], value), key
    assert Editor.load(tmp_path / "c.safetensors").network_config.sketch_from == 2


def test_training_curves_are_plotted_from_tensorboard(cache, tmp_path):
    from train import curves

    _fit(cache, tmp_path / "run", 3)
    scalars = curves.read_scalars(tmp_path / "run")
    assert list(scalars["loss/total"][0]) == [1, 2, 3]
    assert curves.main([str(tmp_path / "run"), "--out", str(tmp_path / "curve.png")]) == 0
    assert (tmp_path / "curve.png").stat().st_size > 10_000
    assert curves.main([str(tmp_path / "empty"), "--out", str(tmp_path / "x.png")]) == 2


def test_a_kill_to_the_whole_process_group_still_saves(cache, tmp_path):
    """`pkill -f train.fit` or `kill -- -PGID` also hits the loader's worker: the run must still
    save where it stopped and exit with 143, not die on the worker's death mid-save."""
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    args = [arg for arg in TINY if arg != "workers=0"] + ["workers=1"]
    cmd = [sys.executable, "-m", "train.fit", "--data", str(cache), "--out", str(run), "--steps", "100000", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not (run / "samples" / "0000002.png").exists():  # mid-run, loader worker alive
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()[-3000:]
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err[-3000:]
    assert load_state(run)["step"] >= 2 and not (run / "last.tmp").exists()
    assert "saved" in err


def test_a_loader_worker_runs_beside_a_multithreaded_parent(cache, tmp_path):
    """With two torch threads in the parent, a forked loader worker hung in its first
    parallel op (OpenMP is not fork-safe); workers now start from a fork server."""
    # the full width: its weight init runs OpenMP regions in the parent before the fork
    args = ["--threads", "2"] + [arg for arg in TINY if arg not in ("workers=0", "width=0.125")] + ["workers=1", "width=0.5"]
    cmd = [sys.executable, "-m", "train.fit", "--data", str(cache), "--out", str(tmp_path / "run"), "--steps", "3", *args]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run(cmd, cwd=ROOT, env=dict(env, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert load_state(tmp_path / "run")["step"] == 3
