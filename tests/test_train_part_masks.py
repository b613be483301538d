"""Training holes shaped like a person's: whole face parts from the face's own landmarks."""
import numpy as np
import pytest

from inpaint.frame import CANONICAL
from inpaint.landmarks import EYE_LEFT, EYE_RIGHT, EYES, MOUTH, NOSE
from holes.masks import FACE_REGIONS
from train.part_masks import PartMaskParams, part_mask


def _inside(mask, points):
    xy = np.rint(points).astype(int)
    return mask[xy[:, 1], xy[:, 0]]


def test_a_part_mask_covers_that_part_and_little_else(aligned_astronaut):
    image, landmarks, _ = aligned_astronaut
    for parts, points in ((("mouth",), MOUTH), (("nose",), NOSE), (("eyes",), EYES)):
        params = PartMaskParams(choices=((parts, 1.0),), grow=(4.0, 4.0))
        hole, chosen = part_mask(np.random.default_rng(0), landmarks, 256, params)
        assert chosen == parts and _inside(hole, landmarks[points]).all()
        assert hole.mean() < 0.08  # a part, not the face
        assert not _inside(hole, landmarks[0:5]).any()  # the jaw's upper end stays known


def test_one_eye_is_one_eye(aligned_astronaut):
    _, landmarks, _ = aligned_astronaut
    params = PartMaskParams(choices=((("eye",), 1.0),), grow=(3.0, 3.0))
    covered = set()
    for seed in range(6):
        hole, _ = part_mask(np.random.default_rng(seed), landmarks, 256, params)
        left, right = _inside(hole, landmarks[EYE_LEFT]).all(), _inside(hole, landmarks[EYE_RIGHT]).all()
        assert left != right
        covered.add(left)
    assert covered == {True, False}  # both eyes get picked


def test_the_edge_is_irregular_and_the_margin_random(aligned_astronaut):
    _, landmarks, _ = aligned_astronaut
    params = PartMaskParams(choices=((("mouth",), 1.0),))
    holes = [part_mask(np.random.default_rng(s), landmarks, 256, params)[0] for s in range(4)]
    assert len({int(h.sum()) for h in holes}) == 4
    with pytest.raises(ValueError, match="landmarks"):
        part_mask(np.random.default_rng(0), np.full((68, 2), np.nan), 256)


def test_canonical_face_regions_are_the_aligners_frame():
    assert FACE_REGIONS["eye_left"][:2] == pytest.approx(tuple(CANONICAL[0]))
    assert FACE_REGIONS["eye_right"][:2] == pytest.approx(tuple(CANONICAL[1]))
    assert FACE_REGIONS["mouth"][:2] == pytest.approx(tuple(CANONICAL[2]))
