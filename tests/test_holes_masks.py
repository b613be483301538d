"""Training masks: ratio control, the DeepFill fixes (flips, H/W), face blobs, the fixed bucket set."""
from dataclasses import replace

import numpy as np
import pytest

from holes.masks import (
    BUCKETS, MaskParams, bucket_name, free_form_stroke, landmark_regions, load_bucket_masks, main,
    random_mask, save_bucket_masks,
)


@pytest.mark.parametrize("kind", ["free_form", "irregular", "box", "face"])
def test_every_kind_respects_the_ratio_range(kind):
    rng = np.random.default_rng(1)
    params = MaskParams(hole_ratio=(0.15, 0.35), weights={kind: 1.0}, mix=0.0)
    for _ in range(40):
        mask = random_mask(rng, 128, params)
        assert mask.dtype == bool and mask.shape == (128, 128)
        assert 0.15 < mask.mean() <= 0.35


def test_mixture_covers_the_range_and_is_seeded():
    params = MaskParams(hole_ratio=(0.02, 0.6))
    ratios = [random_mask(np.random.default_rng(s), 96, params).mean() for s in range(60)]
    assert all(0.02 < r <= 0.6 for r in ratios)
    assert min(ratios) < 0.15 and max(ratios) > 0.45  # the target is uniform, not stuck at one end
    a = random_mask(np.random.default_rng(7), 96, params)
    assert np.array_equal(a, random_mask(np.random.default_rng(7), 96, params))


def test_non_square_request_keeps_height_and_width():
    rng = np.random.default_rng(0)
    params = MaskParams(weights={"free_form": 1.0}, mix=0.0)
    union = np.zeros((48, 200), bool)
    for _ in range(40):
        mask = random_mask(rng, (48, 200), params)
        assert mask.shape == (48, 200)
        union |= mask
    # with H and W swapped, strokes would be confined to the first 48 columns
    assert union[:, 150:].mean() > 0.5 and union[40:].mean() > 0.5


def test_flips_mirror_the_stroke():
    def stroke(flip, seed):
        canvas = np.zeros((64, 96), np.uint8)
        free_form_stroke(canvas, np.random.default_rng(seed), MaskParams(flip=flip))
        return canvas

    changed = 0
    for seed in range(5):
        plain, flipped = stroke(0.0, seed), stroke(1.0, seed)
        assert np.array_equal(flipped, plain[::-1, ::-1])  # both axes mirrored, same stroke otherwise
        changed += not np.array_equal(flipped, plain)
    assert changed == 5
    # the default flips both ways at random: strokes no longer drift to one side
    rng = np.random.default_rng(3)
    params = MaskParams(weights={"free_form": 1.0}, mix=0.0, hole_ratio=(0.05, 0.1))
    mean = np.mean([random_mask(rng, 64, params) for _ in range(300)], axis=0)
    assert abs(mean[:, :32].mean() - mean[:, 32:].mean()) < 0.02


def test_face_blobs_sit_on_the_face_and_follow_landmarks():
    rng = np.random.default_rng(0)
    params = MaskParams(weights={"face": 1.0}, mix=0.0, hole_ratio=(0.02, 0.06))
    mean = np.mean([random_mask(rng, 128, params) for _ in range(100)], axis=0)
    assert mean[48:100, 32:96].mean() > 5 * mean[:32].mean()  # eyes/nose/mouth, not the forehead

    landmarks = np.zeros((68, 2))
    landmarks[:, 0], landmarks[:, 1] = 100, 20  # every region moved to the top-right corner
    assert set(landmark_regions(landmarks, 128)) == {"eye_left", "eye_right", "nose", "mouth"}
    mask = random_mask(rng, 128, params, landmarks=landmarks)
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - 100) < 12 and abs(ys.mean() - 20) < 12
    with pytest.raises(ValueError):
        random_mask(rng, 128, params, landmarks=np.zeros((5, 2)))


def test_bad_ranges_are_refused():
    with pytest.raises(ValueError):
        random_mask(np.random.default_rng(0), 64, MaskParams(hole_ratio=(0.5, 0.4)))
    with pytest.raises(ValueError):
        random_mask(np.random.default_rng(0), 4, MaskParams(hole_ratio=(0.1, 0.11)))  # no count of 16 fits


def test_bucket_set_is_in_its_buckets_and_reproducible(tmp_path):
    assert main(["--out", str(tmp_path / "a"), "--size", "64", "--per-bucket", "6", "--seed", "5"]) == 0
    masks = load_bucket_masks(tmp_path / "a")
    assert list(masks) == [bucket_name(*b) for b in BUCKETS]
    assert (tmp_path / "a" / "b0.1-0.2" / "0005.png").is_file()
    for (lo, hi), (name, bucket) in zip(BUCKETS, masks.items()):
        assert len(bucket) == 6
        for mask in bucket:
            assert mask.shape == (64, 64) and lo < mask.mean() <= hi, name

    save_bucket_masks(tmp_path / "b", size=64, per_bucket=6, seed=5)
    again = load_bucket_masks(tmp_path / "b")
    assert all(np.array_equal(x, y) for name in masks for x, y in zip(masks[name], again[name]))
    other = load_bucket_masks(save_bucket_masks(tmp_path / "c", 64, 6, seed=6) and tmp_path / "c")
    assert not all(np.array_equal(x, y) for x, y in zip(masks["0.3-0.4"], other["0.3-0.4"]))


def test_full_size_buckets_at_256(tmp_path):
    from holes.masks import bucket_masks

    for (lo, hi), bucket in zip(BUCKETS, bucket_masks(seed=0, size=256, per_bucket=10).values()):
        assert all(lo < m.mean() <= hi for m in bucket)


def test_params_are_overridable():
    regions = {"chin": (0.5, 0.85, 0.1, 0.05)}
    params = replace(MaskParams(), weights={"face": 1.0}, mix=0.0, face_regions=regions, hole_ratio=(0.01, 0.03))
    mask = random_mask(np.random.default_rng(2), 100, params)
    ys, _ = np.nonzero(mask)
    assert ys.mean() > 70
