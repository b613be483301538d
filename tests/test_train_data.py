"""Training samples: what the recipe's data fields do to the (hole, sketch, level) a sample gets."""
import numpy as np
import pytest
import torch

from sketch.synthesis import SketchParams, hole_band
from train.config import DataSection, load_recipe
from train.data import StepBatches, make_sample

from conftest import synthetic_face

SIZE = 64


def _samples(data: DataSection, count: int = 200) -> list[dict]:
    image = synthetic_face(SIZE, SIZE)
    lines = np.zeros((SIZE, SIZE), bool)
    lines[::8] = True  # a line every 8 rows: any hole of a few % holds some
    return [make_sample(image, lines, np.random.default_rng([3, n]), SIZE, data) for n in range(count)]


def test_level_power_skews_the_faithfulness_towards_exact_lines():
    uniform = np.array([float(s["guide"].level) for s in _samples(DataSection())])
    skewed = np.array([float(s["guide"].level) for s in _samples(DataSection(level_power=2.0))])
    # Same random draws, mapped through U**2: sample for sample the square of the uniform level.
    np.testing.assert_allclose(skewed, uniform**2, rtol=1e-6)
    assert 0.4 < np.mean(uniform < 0.5) < 0.6
    assert 0.6 < np.mean(skewed < 0.25 ** 0.5) and 0.4 < np.mean(skewed < 0.25) < 0.6


def test_sketch_dropout_is_the_share_of_samples_without_a_sketch():
    samples = _samples(DataSection(sketch_dropout=0.5, color_prob=0.0), count=400)
    blank = np.mean([float(s["guide"].sketch.sum()) == 0 for s in samples])
    assert 0.42 < blank < 0.58
    for s in samples:  # strokes live only in the hole and the thin band around it
        near = hole_band(s["valid"][0].numpy() < 0.5, SketchParams().band * SIZE / 256)
        assert not s["guide"].sketch[0].numpy()[~near].any()


def test_level_power_must_be_positive():
    recipe = load_recipe("cpu-small", ["level_power=0"])
    with pytest.raises(ValueError, match="level_power must be > 0"):
        recipe.validate()


def test_every_nth_step_is_a_small_batch_of_whole_faces_at_the_model_resolution():
    batches = StepBatches(start_step=0, batch_size=8, full_every=3, full_batch=2)
    first = [b for _, b in zip(range(6), batches)]
    assert [len(b) for b in first] == [8, 8, 2, 8, 8, 2]
    assert [all(full for _, full in b) for b in first] == [False, False, True] * 2
    assert first[2] == [(16, True), (17, True)]  # step 2's own sample numbers: a resumed run sees the same
    resumed = next(iter(StepBatches(start_step=5, batch_size=8, full_every=3, full_batch=2)))
    assert resumed == first[5]

    image = synthetic_face(128, 128)
    lines = np.zeros((128, 128), bool)
    data = DataSection(crop=64, crop_prob=1.0)
    crop = make_sample(image, lines, np.random.default_rng(0), 128, data)
    whole = make_sample(image, lines, np.random.default_rng(0), 128, data, full=True)
    assert crop["image"].shape[-1] == 64 and whole["image"].shape[-1] == 128
    np.testing.assert_allclose(whole["image"].abs().mean(), torch.from_numpy(image / 127.5 - 1).abs().mean(),
                               atol=1e-2)  # the whole face, not resized


def test_mismatched_samples_carry_another_faces_part_lines_and_no_truth(aligned_astronaut):
    """`mismatch_prob`: a share of samples masks a part and gives a donor face's lines of it;
    they are flagged, the others are unchanged (their own generator draws the choice)."""
    from train.data import InpaintingSamples

    image, landmarks, lines = aligned_astronaut
    mirrored = np.c_[image.shape[1] - 1 - landmarks[:, 0], landmarks[:, 1]]

    class Two:
        faces = [(image, lines, landmarks), (image[:, ::-1].copy(), lines[:, ::-1].copy(), mirrored)]

        def __len__(self):
            return 2

        def get(self, i):
            return self.faces[i]

    plain = InpaintingSamples(Two(), 256, DataSection(crop=128, part_prob=0.6), seed=0)
    mixed = InpaintingSamples(Two(), 256, DataSection(crop=128, part_prob=0.6, mismatch_prob=0.5), seed=0)
    flags = []
    for n in range(40):
        sample = mixed[n]
        flags.append(float(sample["mismatched"]))
        if flags[-1]:
            hole = sample["valid"][0] < 0.5
            assert sample["image"].shape[-1] == 128 and hole.any() and sample["guide"].sketch[0][hole].sum() > 5
            assert not sample["guide"].sketch[0][~hole].any() and not sample["guide"].color_mask.any()
        else:
            torch.testing.assert_close(sample, plain[n])
    assert 0.3 < np.mean(flags) < 0.7
    assert float(plain[0]["mismatched"]) == 0.0
