"""Frames: sampling into and out of the model's square, without losing holes or thin lines."""
import cv2
import numpy as np

from inpaint.frame import Frame, crop_frame, from_frame, full_frame, mask_to_frame, to_frame


def rotated_frame(cx, cy, side, angle_deg, size) -> Frame:
    matrix = cv2.getRotationMatrix2D((cx, cy), angle_deg, size / side)
    matrix[:, 2] += (size / 2 - cx, size / 2 - cy)
    return Frame(matrix, size, "aligned")


def test_crop_frame_covers_the_mask_with_context():
    hole = np.zeros((1000, 800), bool)
    hole[100:140, 700:790] = True  # near the right edge
    frame = crop_frame(hole, 256)
    ys, xs = np.nonzero(hole)
    assert frame.contains(np.c_[xs, ys]).all()
    corners = frame.image_corners()
    assert corners[:, 0].max() <= 800 and corners[:, 0].min() >= 0  # slid inside the photo
    assert frame.scale == 1.0  # small edit: native resolution


def test_full_frame_letterboxes():
    frame = full_frame(400, 200, 256)
    corners = frame.image_corners()
    np.testing.assert_allclose(corners[0], [0, -100])
    np.testing.assert_allclose(corners[2], [400, 300])


def test_round_trip_through_a_rotated_frame():
    rng = np.random.default_rng(0)
    smooth = cv2.GaussianBlur(rng.uniform(0, 255, (600, 600, 3)).astype(np.float32), (0, 0), 6)
    frame = rotated_frame(300, 300, 300, 25, 256)
    inside = to_frame(smooth, frame)
    back = from_frame(inside, frame, (200, 200, 400, 400))
    assert np.abs(back - smooth[200:400, 200:400]).mean() < 1.0


def test_reduction_is_prefiltered_not_aliased():
    stripes = np.zeros((4000, 4000), np.float32)
    stripes[:, ::2] = 255.0  # 1-px stripes: any point sampling aliases to black or white
    frame = Frame(np.array([[256 / 4000, 0, 0], [0, 256 / 4000, 0]]), 256, "full")
    small = to_frame(stripes, frame)
    assert abs(float(small[10:-10, 10:-10].mean()) - 127.5) < 2 and small[10:-10, 10:-10].std() < 3


def test_one_pixel_diagonal_survives_a_large_rotated_reduction():
    line = np.zeros((2000, 2000), np.uint8)
    cv2.line(line, (500, 600), (1500, 1400), 255, 1)
    frame = rotated_frame(1000, 1000, 1600, 10, 256)
    small = mask_to_frame(line > 0, frame)
    n_labels, _ = cv2.connectedComponents(small.astype(np.uint8))
    assert small.sum() >= 100 and n_labels == 2  # still one unbroken line


def test_hole_is_never_shrunk():
    hole = np.zeros((1000, 1000), bool)
    hole[500, 500] = True  # a single pixel
    frame = crop_frame(hole, 256)
    frame = Frame(frame.matrix * np.array([[0.1], [0.1]]), 256, "crop")  # force a 10× reduction
    assert mask_to_frame(hole, frame).any()
