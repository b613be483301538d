"""Each face part's affine map: the photo's own lines of the part laid onto the sketch.

The own line points are grouped by the face's landmarks (mouth, each eye, each brow, nose;
points near none stay put), and each group that the mask is about (`moving_parts`) gets the
affine map that lays its lines on the sketch: a trimmed point-to-line ICP in which each
sketch point pulls the nearest own point (so lines the user left out ride along), its reach
shrinking from REACH to TOLERANCE frame px. A part takes its move in full on its landmark
hull, fading to nothing at the hole's edge (`follow_weights`: the skin between stretches).

A pen's few rough strokes leave a part's map underdetermined: half an eye's outline fits a
shift as well as a growth, and a wobble fits a turn. So the maps are pulled toward what
retouching does: parts grow or shrink about their centres (HOLD), do not turn (TURN), keep
their shape (STAY), and a whole eye stays an eye (SIMILAR). Lengths are in the engine's
frame pixels; `scale` is how much finer the points' frame is.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import cKDTree

from .frame import apply_affine, eye_distance
from .landmarks import BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, MOUTH, NOSE

PART_GROUPS = (MOUTH, EYE_LEFT, EYE_RIGHT, BROW_LEFT, BROW_RIGHT, NOSE)
GROUP_REACH = 0.5  # own lines farther than this × the eye distance from every part's landmarks stay put
ACTIVE = 0.5  # a part moves when at least this share of its landmarks lies in the hole
REACH, TOLERANCE = 12.0, 1.0  # frame px: the ICP's first and last pairing distance
ITERATIONS = 30
SLIDE = 1.0  # weight of the point-to-point distance beside the point-to-line one
# What retouching does to each part pulls its map (per PART_GROUPS: mouth, eyes, brows, nose):
STAY = (0.05, 0.05, 0.05, 0.1, 0.1, 0.05)  # toward no change of shape, relative to its lines' spread: a brow moves
TURN = 1.0  # ... toward no turn, likewise
SIMILAR = 3.0  # a whole eye's map toward a similarity, likewise: an eye grows as a whole
# its landmarks' centre held (across the face, up the face), per line point: eyes and nose grow
# about it, a mouth widens about it but may rise or fall (a smile), a brow is raised
HOLD = ((20.0, 0.0), (20.0, 20.0), (20.0, 20.0), (0.0, 0.0), (0.0, 0.0), (20.0, 20.0))
SCALE_LIMITS = (0.6, 1.7)  # a part is never scaled beyond these along any axis
FOLLOW_GROW = 2  # frame px around a part's landmark hull that takes the part's whole move
MIN_LINE_PIXELS = 8


def group_points(points: np.ndarray, landmarks: np.ndarray | None, hole: np.ndarray) -> np.ndarray:
    """The part each point belongs to (an index into PART_GROUPS; -1 = stays put). Without
    landmarks, each connected piece of the hole is one part."""
    if landmarks is None:
        _, pieces = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
        return pieces[points[:, 1].astype(int), points[:, 0].astype(int)] - 1
    gap = eye_distance(landmarks)
    distances = np.stack([cKDTree(landmarks[g]).query(points)[0] for g in PART_GROUPS], axis=1)
    labels = distances.argmin(1)
    labels[distances.min(1) > GROUP_REACH * gap] = -1
    return labels


def solve_affine(src: np.ndarray, dst: np.ndarray, normals: np.ndarray, follow: np.ndarray,
                 centre: np.ndarray | None = None, stay: float = 0.05, similar: float = 0.0,
                 hold: tuple[float, float] = (0.0, 0.0), sideways: np.ndarray | None = None) -> np.ndarray:
    """The 2×3 affine A whose move, taken by each point in the share `follow` (p + w(Ap − p)),
    lays `src` onto the lines through `dst` (with unit `normals`): least squares of the
    distance along each normal (point-to-line, which lets points slide along a line, so
    scale converges in a few steps), plus SLIDE of the full distance. Pulled toward no
    change of shape by `stay`, no turn by TURN, a similarity by `similar` (an eye grows or
    shrinks as a whole: a pen's few strokes of it, often the upper lid alone, cannot tell
    its height) and by `hold` toward leaving `centre` (default: the points' mean) in place,
    along the unit vector `sideways` across the face (default: x) and along the one up it,
    with the scales kept inside SCALE_LIMITS."""
    centre = src.mean(0) if centre is None else np.asarray(centre, np.float64)
    x = src - centre
    w = follow[:, None]
    nx, ny = normals[:, :1], normals[:, 1:]
    across = w * np.hstack([nx * x, ny * x, nx, ny])
    zeros, ones, naughts = np.zeros_like(x), np.ones((len(x), 1)), np.zeros((len(x), 1))
    along = SLIDE * np.vstack([w * np.hstack([x, zeros, ones, naughts]), w * np.hstack([zeros, x, naughts, ones])])
    spread = ((w * (src - src.mean(0))) ** 2).sum() / 2
    pull = np.sqrt(stay * spread + 1e-6)
    shape = pull * np.hstack([np.eye(4), np.zeros((4, 2))])
    alike = np.sqrt(similar * spread) * np.array([[1.0, 0, 0, -1, 0, 0], [0, 1, 1, 0, 0, 0]])  # a11 = a22, a12 = −a21
    turn = np.sqrt(TURN * spread) * np.array([[0.0, 1, -1, 0, 0, 0]])  # a12 = a21
    sideways = np.array([1.0, 0.0]) if sideways is None else sideways
    axes = np.array([sideways, [-sideways[1], sideways[0]]])
    held_by = np.sqrt(np.asarray(hold) * (w ** 2).sum())[:, None]
    held = np.hstack([np.zeros((2, 4)), held_by * axes])  # the centre lands on itself
    rows = np.vstack([across, along, shape, alike, turn, held])
    still = (1 - w) * src  # the share of each point that stays where it is
    goal = np.r_[(normals * (dst - still)).sum(1), SLIDE * (dst - still)[:, 0], SLIDE * (dst - still)[:, 1],
                 pull * np.array([1.0, 0, 0, 1.0]), 0.0, 0.0, 0.0, held_by[:, 0] * (axes @ centre)]
    theta = np.linalg.lstsq(rows, goal, rcond=None)[0]
    linear, shift = theta[:4].reshape(2, 2), theta[4:]
    if np.linalg.det(linear) <= 0:
        return np.c_[np.eye(2), dst.mean(0) - src.mean(0)]
    u, s, vt = np.linalg.svd(linear)
    linear = u @ np.diag(np.clip(s, *SCALE_LIMITS)) @ vt
    return np.c_[linear, shift - linear @ centre]


def follow_weights(hole: np.ndarray, landmarks: np.ndarray | None, scale: float = 1.0) -> np.ndarray:
    """How much of its part's move each frame pixel takes (float32): 1 on the parts'
    landmark hulls (grown by FOLLOW_GROW), falling smoothly to 0 at the hole's edge, as skin
    stretches between a moved part and the still photo. 1 everywhere without landmarks."""
    if landmarks is None:
        return np.ones(hole.shape, np.float32)
    parts = np.zeros(hole.shape, np.uint8)
    for group in PART_GROUPS:
        cv2.fillConvexPoly(parts, cv2.convexHull(np.rint(landmarks[group]).astype(np.int32)), 1)
    reach = round(FOLLOW_GROW * scale)
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    return stretch_weights(hole, cv2.dilate(parts, grow) > 0)


def stretch_weights(hole: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """1 on `parts` (bool), falling smoothly (a smoothstep of the relative distance) to
    exactly 0 at the hole's edge and beyond (float32): how skin between a moved part and
    the still photo takes the part's move."""
    inside = distance_inside(hole)
    to_part = cv2.distanceTransform((~parts).astype(np.uint8), cv2.DIST_L2, 5)
    ramp = np.clip(inside / np.maximum(inside + to_part, 1e-6), 0, 1)
    return (ramp * ramp * (3 - 2 * ramp)).astype(np.float32)


def share_inside(landmarks: np.ndarray, hole: np.ndarray) -> list[float]:
    """For each of PART_GROUPS, the share of its landmarks that lie in the hole."""
    h, w = hole.shape
    shares = []
    for group in PART_GROUPS:
        xs, ys = np.rint(landmarks[group]).astype(int).T
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        inside[inside] = hole[ys[inside], xs[inside]]
        shares.append(float(inside.mean()))
    return shares


def moving_parts(landmarks: np.ndarray | None, hole: np.ndarray) -> set[int] | None:
    """The groups (indices into PART_GROUPS) the mask is about: at least ACTIVE of their
    landmarks in the hole. A part the mask only touches (the nose's bridge under an eye's
    mask) keeps its place: a few of its lines would give it any affine map. None: no
    landmarks, every piece of the hole may move."""
    if landmarks is None:
        return None
    return {g for g, share in enumerate(share_inside(landmarks, hole)) if share >= ACTIVE}


def whole_eyes(landmarks: np.ndarray | None, hole: np.ndarray) -> set[int]:
    """The eye groups (indices into PART_GROUPS) whose every landmark lies in the hole: an
    eye being reshaped as a whole, not one a brow's mask only grazes."""
    if landmarks is None:
        return set()
    shares = share_inside(landmarks, hole)
    return {g for g in (PART_GROUPS.index(EYE_LEFT), PART_GROUPS.index(EYE_RIGHT)) if shares[g] == 1.0}


def face_across(landmarks: np.ndarray) -> np.ndarray:
    """The unit vector across the face, from the left eye's centre to the right's."""
    step = landmarks[EYE_RIGHT].mean(0) - landmarks[EYE_LEFT].mean(0)
    return step / max(float(np.linalg.norm(step)), 1e-9)


def fit_parts(own: np.ndarray, labels: np.ndarray, sketch: np.ndarray, normals: np.ndarray, follow: np.ndarray,
              landmarks: np.ndarray | None, hole: np.ndarray, scale: float = 1.0) -> dict[int, np.ndarray]:
    """Each moving part's affine map: trimmed ICP in which every sketch point pulls the
    nearest moved own point (all parts at once, so a sketch line pulls one part only).
    Pairing from the sketch's side lets a sketch leave lines out: own lines the user did not
    draw (lashes, teeth, creases) are not pulled onto the nearest drawn line, they ride along."""
    moving = moving_parts(landmarks, hole)
    parts = [g for g in np.unique(labels)
             if g >= 0 and (labels == g).sum() >= MIN_LINE_PIXELS and (moving is None or g in moving)]
    maps = {g: np.c_[np.eye(2), np.zeros(2)] for g in parts}
    if not parts or len(sketch) < MIN_LINE_PIXELS:
        return maps
    eyes = whole_eyes(landmarks, hole)
    sideways = None if landmarks is None else face_across(landmarks)
    for k in range(ITERATIONS):
        reach = scale * REACH * (TOLERANCE / REACH) ** (k / (ITERATIONS - 1))
        moved = moved_points(own, labels, maps, follow)
        distance, nearest = cKDTree(moved).query(sketch, distance_upper_bound=reach)
        paired = np.isfinite(distance)
        for g in parts:
            mine = paired.copy()
            mine[paired] = labels[nearest[paired]] == g
            if mine.sum() < MIN_LINE_PIXELS:
                continue
            src, weights = own[nearest[mine]], follow[nearest[mine]]
            if landmarks is None:
                maps[g] = solve_affine(src, sketch[mine], normals[mine], weights)
            else:
                maps[g] = solve_affine(src, sketch[mine], normals[mine], weights, landmarks[PART_GROUPS[g]].mean(0),
                                       STAY[g], SIMILAR if g in eyes else 0.0, HOLD[g], sideways)
    return maps


def moved_points(own: np.ndarray, labels: np.ndarray, maps: dict[int, np.ndarray], follow: np.ndarray) -> np.ndarray:
    """The own line points moved by their parts' maps, each by its share `follow` of the move
    (points of no part stay put)."""
    moved = own.copy()
    for g, matrix in maps.items():
        mine = labels == g
        moved[mine] += follow[mine, None] * (apply_affine(matrix, own[mine]) - own[mine])
    return moved


def distance_inside(hole: np.ndarray) -> np.ndarray:
    return cv2.distanceTransform(np.pad(hole, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
