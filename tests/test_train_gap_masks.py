"""Training holes shaped like the gaps a reshape leaves: thin, along a part's moved outline."""
import cv2
import numpy as np

from inpaint.face.parts import draw_parts, grow_mask
from train.config import DataSection
from train.data import choose_hole
from train.gap_masks import gap_mask

PARTS = ["mouth", "eyes", "eyebrows", "nose"]


def test_gaps_are_thin_and_lie_along_the_parts(aligned_astronaut):
    _, landmarks, _ = aligned_astronaut
    near = grow_mask(draw_parts(landmarks, (256, 256), PARTS), 20)
    sizes, widths = [], []
    for seed in range(60):
        hole = gap_mask(np.random.default_rng(seed), landmarks, 256)
        assert hole.any() and not (hole & ~near).any(), seed  # beside a part, never elsewhere
        sizes.append(hole.mean())
        widths.append(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5).max())
    assert max(sizes) < 0.04 and np.median(sizes) < 0.006, (max(sizes), np.median(sizes))  # a mouth covers ~2 %
    assert np.median(widths) <= 4.0  # bands a few px across, mostly; a parted mouth is the widest


def test_the_same_seed_gives_the_same_gap_and_the_size_scales(aligned_astronaut):
    _, landmarks, _ = aligned_astronaut
    a = gap_mask(np.random.default_rng(5), landmarks, 256)
    assert np.array_equal(a, gap_mask(np.random.default_rng(5), landmarks, 256))
    big = gap_mask(np.random.default_rng(5), landmarks * 2, 512)
    assert 2.5 < big.sum() / max(a.sum(), 1) < 6  # the area of a band scales about with the side squared … or its length


def test_the_data_pipeline_draws_gaps_at_their_share(aligned_astronaut):
    _, landmarks, _ = aligned_astronaut
    rng = np.random.default_rng(0)
    data = DataSection(gap_prob=1.0)
    holes = [choose_hole(rng, 256, data, landmarks) for _ in range(20)]
    assert all(h.mean() < 0.04 for h in holes)
    without_face = choose_hole(rng, 256, data, None)  # no landmarks: a free-form hole as before
    assert without_face.mean() > 0.04
