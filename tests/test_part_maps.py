"""Each part's affine map (inpaint/part_maps.py) on synthetic lines: what a pen's few rough
strokes must still tell, and what they must not be allowed to do."""
import numpy as np
import pytest

from inpaint.landmarks import EYE_LEFT, EYE_RIGHT, MOUTH, NOSE
from inpaint.part_maps import PART_GROUPS, fit_parts, follow_weights, group_points, moving_parts, solve_affine
from inpaint.frame import apply_affine

SIZE = 200
EYE_CENTRE = np.array([70.0, 90.0])
EYE = PART_GROUPS.index(EYE_LEFT)


MOUTH_CENTRE = np.array([100.0, 150.0])


def face_landmarks() -> np.ndarray:
    """68 landmarks: the left eye an ellipse around EYE_CENTRE, the right eye level with it
    (so the face is upright) and the mouth below; every other part far away."""
    marks = np.tile([[195.0, 5.0]], (68, 1))
    angles = np.linspace(0, 2 * np.pi, 7)[:-1]
    marks[EYE_LEFT] = EYE_CENTRE + np.c_[16 * np.cos(angles), 7 * np.sin(angles)]
    marks[EYE_RIGHT] = marks[EYE_LEFT] + [110.0, 0.0]
    angles = np.linspace(0, 2 * np.pi, 21)[:-1]
    marks[MOUTH] = MOUTH_CENTRE + np.c_[25 * np.cos(angles), 9 * np.sin(angles)]
    return marks


def eye_outline(scale: float = 1.0, step: float = 0.5) -> np.ndarray:
    """The eye's outline (a little outside its landmarks, as a lash line is) scaled about its centre."""
    angles = np.arange(0, 2 * np.pi, step / 18)
    return EYE_CENTRE + scale * np.c_[18 * np.cos(angles), 9 * np.sin(angles)]


def normals_of(points: np.ndarray) -> np.ndarray:
    """Unit normals of the ellipse's points (its outline is closed, so neighbours give the tangent)."""
    tangent = np.roll(points, -1, 0) - np.roll(points, 1, 0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    return np.c_[-tangent[:, 1], tangent[:, 0]]


def fit_eye(sketch: np.ndarray, hole: np.ndarray | None = None) -> np.ndarray:
    marks = face_landmarks()
    hole = np.zeros((SIZE, SIZE), bool) if hole is None else hole
    if not hole.any():
        hole[50:130, 30:110] = True
    own = eye_outline()
    labels = group_points(own, marks, hole)
    follow = follow_weights(hole, marks)[own[:, 1].astype(int), own[:, 0].astype(int)].astype(np.float64)
    return fit_parts(own, labels, sketch, normals_of(sketch), follow, marks, hole)[EYE]


def scale_and_turn(matrix: np.ndarray) -> tuple[float, float]:
    linear = matrix[:, :2]
    return float(np.sqrt(np.linalg.det(linear))), float(np.degrees(np.arctan2(linear[1, 0] - linear[0, 1],
                                                                              linear[0, 0] + linear[1, 1])))


def test_the_whole_outline_grown_gives_the_growth():
    matrix = fit_eye(eye_outline(1.2))
    scale, turn = scale_and_turn(matrix)
    assert scale == pytest.approx(1.2, abs=0.03) and abs(turn) < 0.5
    assert np.linalg.norm(apply_affine(matrix, EYE_CENTRE[None])[0] - EYE_CENTRE) < 0.3


def test_half_an_eye_drawn_still_grows_it_about_its_centre():
    """A pen that drew only the eye's inner corner fits a shift as well as a growth: the eye's
    own centre is held, so the drawn corner grows it (free, it grew 1.23 and moved 0.7 px)."""
    outline = eye_outline(1.2)
    matrix = fit_eye(outline[outline[:, 0] < EYE_CENTRE[0] - 8])
    scale, _ = scale_and_turn(matrix)
    assert scale == pytest.approx(1.2, abs=0.015)
    assert np.linalg.norm(apply_affine(matrix, EYE_CENTRE[None])[0] - EYE_CENTRE) < 0.3


def test_a_tilted_wobble_does_not_turn_the_eye():
    """The upper lid drawn a little high at one end and low at the other: a wobble, not a turn."""
    outline = eye_outline(1.1)
    upper = outline[outline[:, 1] < EYE_CENTRE[1]]
    tilted = upper + np.c_[np.zeros(len(upper)), 0.08 * (upper[:, 0] - EYE_CENTRE[0])]
    _, turn = scale_and_turn(fit_eye(tilted))
    assert abs(turn) < 1.5  # the lid's own tilt is 4.6°


def test_a_mouth_missing_a_corner_widens_in_place_but_may_rise():
    """A pen that left out one corner of a wider, raised mouth: the mouth does not slide
    sideways toward the corner drawn (a mouth widens about its centre), but it does rise."""
    marks = face_landmarks()
    hole = np.zeros((SIZE, SIZE), bool)
    hole[120:185, 55:150] = True
    angles = np.arange(0, 2 * np.pi, 0.02)
    own = MOUTH_CENTRE + np.c_[27 * np.cos(angles), 11 * np.sin(angles)]
    sketch = MOUTH_CENTRE + [0.0, -3.0] + np.c_[1.2 * 27 * np.cos(angles), 11 * np.sin(angles)]
    sketch = sketch[sketch[:, 0] < MOUTH_CENTRE[0]]  # free, it slid 0.7 px and grew 1.22
    labels = group_points(own, marks, hole)
    follow = follow_weights(hole, marks)[own[:, 1].astype(int), own[:, 0].astype(int)].astype(np.float64)
    maps = fit_parts(own, labels, sketch, normals_of(sketch), follow, marks, hole)
    mouth = maps[PART_GROUPS.index(MOUTH)]
    dx, dy = apply_affine(mouth, MOUTH_CENTRE[None])[0] - MOUTH_CENTRE
    assert abs(dx) < 0.2 and dy == pytest.approx(-3.0, abs=0.3)
    assert np.linalg.norm(mouth[:, 0]) == pytest.approx(1.2, abs=0.01)


def test_a_part_the_mask_only_touches_keeps_its_place():
    marks = face_landmarks()
    marks[NOSE] = np.c_[np.full(9, 120.0), np.linspace(110, 190, 9)]  # a nose whose top is in the hole
    hole = np.zeros((SIZE, SIZE), bool)
    hole[50:130, 30:125] = True
    assert moving_parts(marks, hole) == {EYE}
    assert moving_parts(marks, np.ones_like(hole)) == set(range(len(PART_GROUPS)))
    assert moving_parts(None, hole) is None
    bridge = np.c_[np.full(20, 121.0), np.linspace(108, 127, 20)]
    own = np.r_[eye_outline(), bridge]
    sketch = np.r_[eye_outline(1.15), bridge + [3.0, 0.0]]
    labels = group_points(own, marks, hole)
    follow = follow_weights(hole, marks)[own[:, 1].astype(int), own[:, 0].astype(int)].astype(np.float64)
    maps = fit_parts(own, labels, sketch, normals_of(sketch), follow, marks, hole)
    assert set(maps) == {EYE}
    assert scale_and_turn(maps[EYE])[0] == pytest.approx(1.15, abs=0.03)


def test_the_solve_is_exact_when_nothing_pulls():
    """With every prior off, points that moved by an affine map give that map back."""
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 50, (40, 2))
    truth = np.array([[1.1, 0.05, 2.0], [-0.03, 0.95, -1.0]])
    dst = apply_affine(truth, src)
    normals = rng.normal(size=(40, 2))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    import inpaint.part_maps as part_maps

    saved = part_maps.TURN
    try:
        part_maps.TURN = 0.0
        found = solve_affine(src, dst, normals, np.ones(40), stay=0.0)
    finally:
        part_maps.TURN = saved
    assert np.allclose(found, truth, atol=1e-4)
