"""The learned registration (inpaint/flownet.py, inpaint/flowweights.py), its training moves
and samples (train/flow_moves.py, train/flow_data.py) and its training loop (train/flow_fit.py),
on scikit-image's public-domain astronaut aligned to the 256-px frame."""
import threading

import numpy as np
import pytest
import torch

from inpaint import Editor, WeightsError
from inpaint.flownet import MULTIPLE, FlowNet, FlowNetConfig, FlowRegistration, crop, padded_box
from inpaint.flowweights import default_flow_path, load_flow_net, save_flow_weights
from inpaint.registrations import load_registration
from inpaint.reshape import determinant, register, remap_frame
from inpaint.weights import CHECKPOINT_DIR
from train.flow_data import CROP, flow_sample
from train.flow_moves import random_move


@pytest.fixture(scope="module")
def shipped():
    if not default_flow_path().is_file():
        pytest.fail(f"{default_flow_path()} is missing: the learned registration ships with the package")
    return load_flow_net(default_flow_path())


def moved_case(aligned_astronaut, seed: int):
    """(own lines, the moved face's lines, hole, true backward field) for one random move."""
    image, landmarks, lines = aligned_astronaut
    move = random_move(landmarks, lines.shape, np.random.default_rng(seed))
    sketch = remap_frame(lines.astype(np.float32), move.field) > 0.25
    return lines & move.hole, sketch & move.hole, move.hole, move.field


def test_a_training_move_is_smooth_without_folds_and_zero_beyond_its_hole(aligned_astronaut):
    _, landmarks, lines = aligned_astronaut
    for seed in range(6):
        move = random_move(landmarks, lines.shape, np.random.default_rng(seed))
        assert move.hole.any() and move.field.dtype == np.float32
        assert not move.field[~move.hole].any()
        assert determinant(move.field).min() > 0.29
        again = random_move(landmarks, lines.shape, np.random.default_rng(seed))
        assert np.array_equal(again.field, move.field) and again.part == move.part


def test_a_training_sample_is_a_crop_of_the_move_and_repeats_with_its_seed(aligned_astronaut):
    image, landmarks, lines = aligned_astronaut
    sample = flow_sample(image, lines, landmarks, np.random.default_rng(3))
    assert sample.inputs.shape == (3, CROP, CROP) and sample.field.shape == (2, CROP, CROP)
    assert sample.inputs.dtype == sample.field.dtype == np.float32
    hole = sample.hole[0] > 0
    assert hole.any() and np.array_equal(sample.inputs[2] > 0, hole)
    assert not sample.field[:, ~hole].any()
    assert sample.inputs[:2].max() <= 1.0 and sample.inputs[0].max() > 0.5 and sample.inputs[1].max() > 0.5
    again = flow_sample(image, lines, landmarks, np.random.default_rng(3))
    assert np.array_equal(again.inputs, sample.inputs) and np.array_equal(again.target, sample.target)


def test_the_network_reads_any_box_of_a_multiple_of_sixteen():
    hole = np.zeros((256, 256), bool)
    hole[3:50, 200:255] = True  # reaching the frame's edge: the box goes beyond it
    x0, y0, x1, y1 = padded_box(hole)
    assert (x1 - x0) % MULTIPLE == 0 and (y1 - y0) % MULTIPLE == 0 and x1 > 256 and y0 < 0
    boxed = crop(hole[None].astype(np.float32), (x0, y0, x1, y1))
    assert boxed.sum() == hole.sum()
    net = FlowNet(FlowNetConfig(widths=(8, 8, 8, 8, 8)))
    out = net(torch.zeros(1, 3, y1 - y0, x1 - x0))
    assert out.shape == (1, 2, y1 - y0, x1 - x0)


def test_a_learned_field_is_zero_beyond_the_hole_unfolded_and_moves_lines_onto_the_sketch(aligned_astronaut, shipped):
    registration = FlowRegistration(shipped)
    gains = []
    for seed in (1, 2, 5, 7):
        own, sketch, hole, truth = moved_case(aligned_astronaut, seed)
        found = registration(own, sketch, hole)
        assert not found.field[~hole].any()
        assert determinant(found.field).min() > 0
        assert not (found.hole & ~hole).any()
        error = np.linalg.norm(found.field - truth, axis=-1)[hole].mean()
        still = np.linalg.norm(truth, axis=-1)[hole].mean()
        gains.append(still - error)
    assert np.mean(gains) > 0.2  # px closer to the true move than no move at all, on average


def test_unchanged_lines_give_no_move_and_a_finer_frame_is_read_at_the_frames_scale(aligned_astronaut, shipped):
    own, sketch, hole, _ = moved_case(aligned_astronaut, 1)
    registration = FlowRegistration(shipped)
    same = registration(own, own, hole)
    assert not same.field.any() and same.matched == 1.0
    fine = [np.kron(m, np.ones((2, 2), bool)) for m in (own, sketch, hole)]
    found = registration(*fine, None, 0.0, 2.0)
    assert found.field.shape == (512, 512, 2) and not found.field[~fine[2]].any()


def test_the_learned_registration_gives_identical_fields_in_threads(aligned_astronaut, shipped):
    cases = [moved_case(aligned_astronaut, seed)[:3] for seed in (1, 2, 5, 7)]
    registration = FlowRegistration(shipped)
    alone = [registration(*case).field for case in cases]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = registration(*cases[i % 4]).field

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(results[i], alone[i % 4]) for i in range(8))


def test_weights_round_trip_and_other_files_are_refused(tmp_path):
    torch.manual_seed(0)
    net = FlowNet(FlowNetConfig(widths=(8, 8, 12, 12, 16)))
    path = save_flow_weights(net, tmp_path / "flow.safetensors", {"steps": 1})
    again = load_flow_net(path)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert torch.equal(net.eval()(x), again(x))
    with pytest.raises(WeightsError, match="architecture"):
        load_flow_net(CHECKPOINT_DIR / "default.safetensors")  # the generator's weights
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="not a readable"):
        load_flow_net(tmp_path / "junk.safetensors")


def test_the_registration_is_chosen_by_name_with_a_fallback(tmp_path):
    assert load_registration("classical") == (register, "")
    learned, warning = load_registration("learned")
    assert isinstance(learned, FlowRegistration) and warning == ""
    fallback, warning = load_registration("learned", tmp_path / "absent.safetensors")
    assert fallback is register and "classical" in warning
    with pytest.raises(ValueError, match="classical, learned"):
        load_registration("magic")
    assert isinstance(Editor.load(registration="learned").registration, FlowRegistration)
    assert Editor.load().registration is register


def test_the_training_loop_runs_resumes_and_exports(aligned_astronaut, tmp_path):
    """Two steps on a two-face cache, then two more resumed, then the exported weights load."""
    import json

    from train import flow_fit

    image, landmarks, lines = aligned_astronaut
    cache = tmp_path / "cache"
    cache.mkdir()
    np.save(cache / "images.npy", np.stack([image, image]))
    np.save(cache / "lines.npy", np.packbits(np.stack([lines, lines]), axis=-1))
    np.save(cache / "landmarks.npy", np.stack([landmarks, landmarks]).astype(np.float32))
    np.save(cache / "done.npy", np.ones(2, np.uint8))
    np.save(cache / "holdout.npy", np.array([False, True]))
    (cache / "meta.json").write_text(json.dumps({"size": 256, "detector": "gradient", "files": ["a", "b"]}))
    run = tmp_path / "run"
    common = ["--cache", str(cache), "--run", str(run), "--batch", "2", "--every", "2", "--workers", "0"]
    assert flow_fit.main(common + ["--steps", "2"]) == 0
    assert (run / "flow-000002.safetensors").is_file()
    export = tmp_path / "flow.safetensors"
    assert flow_fit.main(common + ["--steps", "4", "--export", str(export)]) == 0
    assert (run / "flow-000004.safetensors").is_file() and not (run / "flow-000001.safetensors").exists()
    assert isinstance(load_flow_net(export), FlowNet)
    from safetensors import safe_open

    with safe_open(str(export), framework="pt") as handle:
        training = json.loads(handle.metadata()["sketchface"])["training"]
    assert training["steps"] == 4 and training["images"] == 8 and training["epe"] > 0
