"""Full-resolution paste-back: the photo's own detail in an upscaled fill, and no colour step."""
import cv2
import numpy as np
import pytest

from inpaint.detail import MIN_UPSCALE, add_detail, detail_scale, match_colour, refine, smooth
from inpaint.paste import paste_back
from inpaint.frame import square_frame
from evaluation import quality


def _textured(size=240, seed=0):
    rng = np.random.default_rng(seed)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 0.8)
    base = np.linspace(90, 170, size, dtype=np.float32)[None, :].repeat(size, 0)
    return np.clip(base[..., None] + 18 * grain[..., None] * np.float32([1.0, 0.9, 0.8]), 0, 255).astype(np.uint8)


def _hole(size=240):
    hole = np.zeros((size, size), bool)
    cv2.ellipse(hole.view(np.uint8), (size // 2, size // 2), (40, 28), 0, 0, 360, 1, -1)
    return hole


def test_the_photos_grain_comes_back_into_an_upscaled_fill():
    photo, hole = _textured(), _hole()
    smooth = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 3)  # what a 4× upscaled fill looks like
    before = quality.sharpness(np.clip(smooth, 0, 255).astype(np.uint8), photo, hole)
    detailed = add_detail(smooth, photo, hole, upscale=4.0, rng=np.random.default_rng(0))
    after = quality.sharpness(np.clip(detailed, 0, 255).astype(np.uint8), photo, hole)
    assert before < 0.2 and 0.7 < after < 1.3
    far = ~cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.abs(detailed - smooth)[far].max() < 1.0  # texture goes into the hole only


def test_a_smooth_cheek_stays_smooth():
    photo = np.linspace(80, 200, 240, dtype=np.float32)[None, :, None].repeat(240, 0).repeat(3, 2).astype(np.uint8)
    hole = _hole()
    fill = photo.astype(np.float32)
    detailed = add_detail(fill, photo, hole, upscale=4.0, rng=np.random.default_rng(0))
    assert np.abs(detailed - fill).max() < 1.5  # no detail invented where the photo has none


def test_edges_around_the_hole_are_not_copied_in_as_texture():
    """Grain everywhere and three dark lines just outside the hole (a lid, a lip's outline):
    the hole gets the grain back, not pieces of the lines."""
    photo, hole = _textured(), _hole()
    lines = photo.copy()
    for y in (78, 166, 172):  # 14–20 px beyond the hole's top and bottom
        cv2.line(lines, (60, y), (180, y), (20, 20, 20), 3)
    smooth = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 3)
    plain = add_detail(smooth, photo, hole, upscale=4.0, rng=np.random.default_rng(0))
    with_lines = add_detail(smooth, lines, hole, upscale=4.0, rng=np.random.default_rng(0))
    inside = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    grain, added = (np.abs(d - smooth)[inside].max() for d in (plain, with_lines))
    assert added < 1.5 * grain  # a copied line would add ~100 grey levels
    after = quality.sharpness(np.clip(with_lines, 0, 255).astype(np.uint8), photo, hole)
    assert 0.6 < after < 1.3


def test_no_detail_step_when_the_fill_is_not_scaled_up():
    photo, hole = _textured(), _hole()
    fill = photo.astype(np.float32) * 0.5
    assert np.array_equal(add_detail(fill, photo, hole, MIN_UPSCALE - 0.1, np.random.default_rng(0)), fill)


def test_the_colour_step_at_the_edge_goes_but_the_fill_keeps_its_inside():
    photo, hole = _textured(), _hole()
    fill = photo.astype(np.float32) + 30.0  # a fill that drifted 30 levels brighter
    inside = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
    fill[inside > 20] -= 80.0  # and has a dark centre (an open mouth) of its own
    matched = match_colour(fill, photo, hole, reach=6)
    edge = hole & (inside <= 2)
    assert abs((fill - photo)[edge].mean()) > 25 and abs((matched - photo)[edge].mean()) < 8
    centre = inside > 24
    assert (matched - photo)[centre].mean() < -40  # the dark centre is the fill's, kept
    assert np.array_equal(matched[~hole], fill[~hole])


def test_refine_is_deterministic_and_paste_back_writes_only_the_feather_band():
    photo, hole = _textured(), _hole()
    frame = square_frame(0, 0, 240, 60, "crop")  # the frame holds the photo at 1/4 scale
    small = cv2.resize(photo, (60, 60), interpolation=cv2.INTER_AREA)
    a, _ = paste_back(photo, hole, small, frame, feather=6)
    b, _ = paste_back(photo, hole, small, frame, feather=6)
    assert np.array_equal(a, b)
    band = cv2.dilate(hole.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    assert np.array_equal(a[~band], photo[~band])
    plain, _ = paste_back(photo, hole, small, frame, feather=6, detail=False)
    assert quality.sharpness(a, photo, hole) > quality.sharpness(plain, photo, hole) + 0.4
    fill = photo.astype(np.float32)
    assert np.array_equal(refine(fill, photo, hole, 3.0, seed=1), refine(fill, photo, hole, 3.0, seed=1))


def test_a_fill_at_the_frames_own_scale_still_gets_the_photos_finest_band():
    photo, hole = _textured(), _hole()
    soft = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 1.2)  # a network fill: ~2 frame px of blur
    before = quality.sharpness(np.clip(soft, 0, 255).astype(np.uint8), photo, hole)
    refined = refine(soft, photo, hole, upscale=1.0)
    after = quality.sharpness(np.clip(refined, 0, 255).astype(np.uint8), photo, hole)
    assert before < 0.5 and 0.75 < after < 1.25
    assert detail_scale(1.0) == detail_scale(1.5) == 2.0 and detail_scale(4.0) == 4.0
    assert detail_scale(0.5) < MIN_UPSCALE  # a frame finer than the photo: nothing to add


@pytest.mark.parametrize("sigma", [3.0, 9.0, 18.0])
def test_wide_blurs_on_a_shrunk_copy_match_opencvs(sigma):
    rng = np.random.default_rng(0)
    ring = np.zeros((300, 420), np.float32)
    cv2.ellipse(ring, (210, 150), (150, 90), 0, 0, 360, 1.0, 3)
    values = (ring[..., None] * rng.uniform(0, 255, (1, 1, 3))).astype(np.float32)
    for image in (ring, values):
        exact, fast = cv2.GaussianBlur(image, (0, 0), sigma), smooth(image, sigma)
        assert fast.shape == exact.shape
        inner = (slice(30, -30), slice(30, -30))  # the borders are padded differently
        assert np.abs(fast - exact)[inner].max() <= 0.03 * np.abs(exact).max()
