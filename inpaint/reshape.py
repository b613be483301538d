"""The warp stage: the photo's own part moved onto the user's lines, before the network.

Registration runs between the photo's own lines (`sketch.own_strokes`, the lines "Start
from the photo's edges" puts on the Sketch layer, with the fainter ones beside them:
`sketch.own_and_faint_strokes`) and the user's sketch, in the frame sampled
at the photo's own resolution (up to `REGISTRATION_SCALE` times the engine's: an eye grown by
a quarter moves its outline a pixel or two of the frame); lengths below are in the engine's
frame pixels, and `at_frame` brings the result down to it:

1. both are thinned to centre lines inside the hole, the own lines first drawn as wide as
   the sketch's strokes (`drawn_width`), and the sketch's are read as the smooth curves
   through their turning points (`sketch.curves`);
2. the own lines are grouped by the face's landmarks, and each part the mask is about gets
   the affine map that lays its lines on the sketch (`inpaint.part_maps`);
3. what is left, point by point along the lines, is added (scaled by 1 − faithfulness:
   at 0 the lines land on the sketch, at 1 each part only takes its overall move);
4. a thin-plate spline through those moves, pinned to no move on the hole's edge, gives
   a dense backward field (source = p + field[p]), faded to exactly zero at the edge and
   relaxed until its Jacobian determinant is positive everywhere (no folds).

The network's hole is what the move cannot supply: sketch lines no moved own line reaches
(with the inside of a new loop they close, such as parted lips) and stretches beyond
`MAX_STRETCH`. `warp_photo` applies the field to the full-resolution photo's pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.sparse import coo_matrix
from scipy.spatial import cKDTree
from skimage.morphology import thin

from sketch.curves import smooth_curves
from sketch.lines import ridge_normals
from sketch.photo import thicken

from .frame import Frame
from .part_maps import MIN_LINE_PIXELS, distance_inside, fit_parts, follow_weights, group_points, moved_points

ALONG = 5.0  # frame px: the pull is averaged over the line points this close
RESIDUAL_REACH = 2.0  # frame px: how far a line point looks for its sketch line after its part's map
CONTROL_SPACING = 2.0  # frame px between the spline's control points
SPLINE_SMOOTHING = 50.0  # the spline's smoothing (scipy's): a pen's jagged pulls would stretch skin into blots
EDGE_SPACING = 3.0  # ... and between its anchors on the hole's edge
MATCH_TOLERANCE = 2.0  # frame px: a sketch pixel this close to a moved own line is supplied by the move
MIN_UNMATCHED = 10  # frame px: shorter runs of unmatched sketch are a pen's wobble, not a new line
BAND = 2  # frame px the network's hole reaches around an unmatched line
MAX_STRETCH = 2.25  # area: a target pixel fed by less than 1/this of a source pixel is the network's
MIN_DETERMINANT = 0.05  # the field's Jacobian determinant stays above this (no folds)
CURVE_TOLERANCE = 0.5  # frame px: a sketch line's turning points are found to this
CURVE_SPACING = 1.0  # frame px between the points read along a sketch's curve
REGISTRATION_SCALE = 2.0  # the lines are registered at up to this × the frame's resolution
MIN_MATCHED = 0.5  # `auto` reshapes when at least this share of the sketch is reached by the move


@dataclass(frozen=True)
class Reshape:
    """What the warp stage found, in the frame."""

    field: np.ndarray  # size×size×2 float32, backward: the pixel at p comes from p + field[p]
    hole: np.ndarray  # bool: the pixels the move cannot supply (the network's hole)
    matched: float  # share of the sketch's line pixels reached by the moved own lines
    sketch_pixels: int  # centre-line pixels of the sketch inside the hole
    own_pixels: int  # ... and of the photo's own lines

    @property
    def usable(self) -> bool:
        """Whether enough of the sketch matched the photo's lines for a reshape."""
        return self.own_pixels >= MIN_LINE_PIXELS and self.sketch_pixels >= MIN_LINE_PIXELS and \
            self.matched >= MIN_MATCHED


def centre_lines(lines: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """bool: `lines` inside `hole` thinned to 1-px centre lines."""
    return thin(lines & hole)


def drawn_width(lines: np.ndarray, centre: np.ndarray | None = None) -> int:
    """The width in pixels of the strokes of a line map (bool): twice the median distance
    from their centre lines to their edge, less one (1 for 1-px lines). The photo's lines
    are drawn as wide before they are thinned, so they are compared with the sketch as the
    user's pen would draw them: a wide pen merges an eye's nested lines (lid, lash line,
    crease) into one stroke whose centre runs between them, and stops a centre line half
    a width short of its stroke's end. `centre`: the lines' centre lines, when already thinned."""
    if not lines.any():
        return 1
    inside = cv2.distanceTransform(np.pad(lines, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    return max(1, int(round(2 * float(np.median(inside[thin(lines) if centre is None else centre])) - 1)))


def points_of(lines: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(lines)
    return np.c_[xs, ys].astype(np.float64)


def line_normals(lines: np.ndarray, points: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Unit normals (across the line) of a thin-line map at `points`."""
    smooth = cv2.GaussianBlur(lines.astype(np.float32), (0, 0), 1.5 * scale)
    cos, sin = ridge_normals(smooth)
    xs, ys = points[:, 0].astype(int), points[:, 1].astype(int)
    return np.c_[cos[ys, xs], sin[ys, xs]].astype(np.float64)


def line_targets(own: np.ndarray, labels: np.ndarray, maps: dict[int, np.ndarray], follow: np.ndarray,
                 sketch: np.ndarray, faithfulness: float, scale: float = 1.0) -> np.ndarray:
    """Where each own line point goes: its part's map, then (1 − faithfulness) of the way to
    the sketch points within RESIDUAL_REACH that chose it as their nearest (their mean),
    smoothed along the line; points no sketch point chose only ride along."""
    moved = moved_points(own, labels, maps, follow)
    if len(sketch) == 0 or faithfulness >= 1.0:
        return moved
    distance, nearest = cKDTree(moved).query(sketch, distance_upper_bound=RESIDUAL_REACH * scale)
    chosen = np.isfinite(distance)
    pull = np.zeros_like(moved)
    count = np.bincount(nearest[chosen], minlength=len(moved)).astype(np.float64)
    for axis in range(2):
        pull[:, axis] = np.bincount(nearest[chosen], weights=(sketch[chosen] - moved[nearest[chosen]])[:, axis],
                                    minlength=len(moved))
    found = count > 0
    pull[found] /= count[found, None]
    # the mean pull of each point's chosen neighbours along the line: pen wobble is not a move
    neighbours = cKDTree(moved).sparse_distance_matrix(cKDTree(moved), ALONG * scale, output_type="coo_matrix")
    adjacency = coo_matrix((np.ones(neighbours.nnz), (neighbours.row, neighbours.col)), shape=neighbours.shape).tocsr()
    adjacency.setdiag(1.0)
    weight = adjacency @ found.astype(np.float64)
    smoothed = np.where((found & (weight > 0))[:, None], (adjacency @ pull) / np.maximum(weight, 1)[:, None], 0.0)
    return moved + (1.0 - faithfulness) * smoothed


def spline_field(sources: np.ndarray, targets: np.ndarray, hole: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The backward field through the moves (target → source), pinned to 0 on the hole's edge."""
    field = np.zeros(hole.shape + (2,), np.float32)
    keep = np.unique(np.floor(targets / (CONTROL_SPACING * scale)).astype(np.int64), axis=0, return_index=True)[1]
    targets, sources = targets[keep], sources[keep]
    contours, _ = cv2.findContours(np.pad(hole, 1).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    edge = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64) - 1.0
    edge = edge[np.unique(np.floor(edge / (EDGE_SPACING * scale)).astype(np.int64), axis=0, return_index=True)[1]]
    near_edge = cKDTree(edge).query(targets)[0] < scale
    targets, sources = targets[~near_edge], sources[~near_edge]
    centres = np.r_[targets, edge]
    values = np.r_[sources - targets, np.zeros_like(edge)]
    if not np.abs(values).any():
        return field
    spline = RBFInterpolator(centres, values, kernel="thin_plate_spline", smoothing=SPLINE_SMOOTHING, degree=1)
    ys, xs = np.nonzero(hole)
    field[ys, xs] = spline(np.c_[xs, ys].astype(np.float64)).astype(np.float32)
    return field * fade(hole)[..., None]  # exactly 0 on the edge and beyond


def determinant(field: np.ndarray) -> np.ndarray:
    """Jacobian determinant of p ↦ p + field[p] (1 = no change of area; ≤ 0 = a fold)."""
    dux_dy, dux_dx = np.gradient(field[..., 0])
    duy_dy, duy_dx = np.gradient(field[..., 1])
    return (1.0 + dux_dx) * (1.0 + duy_dy) - dux_dy * duy_dx


def unfold(field: np.ndarray) -> np.ndarray:
    """The field scaled back until it has no folds (a few steps of 0.8)."""
    for _ in range(30):
        if determinant(field).min() > MIN_DETERMINANT:
            return field
        field = field * 0.8
    return np.zeros_like(field)


def remap_frame(image: np.ndarray, field: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """A frame image (or map) pulled through the field."""
    h, w = field.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + field[..., 0], ys + field[..., 1], interpolation, borderMode=cv2.BORDER_REFLECT_101)


def enclosed(lines: np.ndarray, hole: np.ndarray) -> list[np.ndarray]:
    """The regions inside the hole that `lines` close off from the hole's edge."""
    free = (hole & ~lines).astype(np.uint8)
    count, labels = cv2.connectedComponents(free, connectivity=4)
    rim = ~hole | (distance_inside(hole) <= 1)
    touching = set(np.unique(labels[rim & (free > 0)]))
    return [labels == i for i in range(1, count) if i not in touching]


def network_hole(own: np.ndarray, sketch: np.ndarray, field: np.ndarray, hole: np.ndarray,
                 scale: float = 1.0) -> tuple[np.ndarray, float]:
    """(the pixels the move cannot supply, the share of the sketch the moved lines reach)."""
    moved = remap_frame(own.astype(np.float32), field) > 0.25
    far = cv2.distanceTransform((~moved).astype(np.uint8), cv2.DIST_L2, 5) > MATCH_TOLERANCE * scale
    count, runs, stats, _ = cv2.connectedComponentsWithStats((sketch & far).astype(np.uint8), connectivity=8)
    long_runs = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= MIN_UNMATCHED * scale)
    unmatched = np.isin(runs, long_runs[long_runs > 0])
    matched = 1.0 - unmatched.sum() / max(1, sketch.sum())
    band = round(BAND * scale)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    out = cv2.dilate(unmatched.astype(np.uint8), kernel) > 0
    drawn = cv2.dilate(sketch.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    for region in enclosed(drawn, hole):  # a loop the sketch closes with lines the photo lacks
        rim = (cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & sketch
        if rim.any() and (rim & unmatched).sum() >= 0.4 * rim.sum():
            out |= cv2.dilate(region.astype(np.uint8), kernel) > 0
    out |= determinant(field) < 1.0 / MAX_STRETCH
    return out & hole, float(matched)


def register(own: np.ndarray, sketch: np.ndarray, hole: np.ndarray, landmarks: np.ndarray | None = None,
             faithfulness: float = 0.0, scale: float = 1.0) -> Reshape:
    """Register the photo's own lines to the sketch inside the hole (all maps bool, in a
    frame `scale` times finer than the engine's: the lengths above are in the engine's frame
    pixels; `landmarks` 68×2 in the maps' pixels, or None)."""
    sketch_lines = centre_lines(sketch, hole)
    own_lines = centre_lines(thicken(own, drawn_width(sketch & hole, sketch_lines)), hole)
    own_points = points_of(own_lines)
    sketch_points, normals = sketch_curves(sketch_lines, scale)
    field = np.zeros(hole.shape + (2,), np.float32)
    counts = (int(sketch_lines.sum()), len(own_points))
    if min(counts) < MIN_LINE_PIXELS * scale:
        return Reshape(field, hole.copy(), 0.0, *counts)
    if (sketch & hole & ~own).any():  # else every line drawn is one of the photo's own: nothing moves
        labels = group_points(own_points, landmarks, hole)
        xs, ys = own_points.T.astype(int)
        follow = follow_weights(hole, landmarks, scale)[ys, xs].astype(np.float64)
        maps = fit_parts(own_points, labels, sketch_points, normals, follow, landmarks, hole, scale)
        targets = line_targets(own_points, labels, maps, follow, sketch_points, faithfulness, scale)
        field = unfold(spline_field(own_points, targets, hole, scale))
    net_hole, matched = network_hole(own_lines, sketch_lines, field, hole, scale)
    return Reshape(field, net_hole, matched, *counts)


def sketch_curves(sketch_lines: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(points, unit normals) along the sketch's centre lines, read as smooth curves through
    their turning points (`sketch.curves`: a quick stroke's straight runs cut inside a curve)."""
    points, tangents = smooth_curves(sketch_lines, CURVE_TOLERANCE * scale, CURVE_SPACING * scale)
    normals = np.c_[-tangents[:, 1], tangents[:, 0]]
    loose = ~tangents.any(1)
    if loose.any():
        normals[loose] = line_normals(sketch_lines, np.rint(points[loose]), scale)
    return points, normals


def registration_scale(frame_scale: float) -> float:
    """How much finer than the engine's frame the lines are registered: at the photo's own
    resolution, at most REGISTRATION_SCALE times the frame's (a small part such as an eye
    moves by a pixel or two of the frame, and lines sampled into it are a pixel thick)."""
    return float(np.clip(1.0 / frame_scale, 1.0, REGISTRATION_SCALE))


def fade(hole: np.ndarray) -> np.ndarray:
    """1 inside the hole, falling to exactly 0 on its edge and beyond (float32)."""
    return np.clip(distance_inside(hole) - 0.5, 0, 1).astype(np.float32)


def at_frame(found: Reshape, hole: np.ndarray) -> Reshape:
    """A registration made in a finer frame, brought to the engine's frame (whose hole is
    `hole`): the field averaged over each frame pixel in frame pixels, faded to zero on the
    hole's edge and unfolded again; the network's hole wherever it covers part of a pixel."""
    scale = found.field.shape[0] / hole.shape[0]
    if found.field.shape[:2] == hole.shape:
        return found
    size = hole.shape[::-1]
    field = cv2.resize(found.field, size, interpolation=cv2.INTER_AREA) / scale
    field = unfold((field * fade(hole)[..., None]).astype(np.float32))
    network = cv2.resize(found.hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    return Reshape(field, network & hole, found.matched, round(found.sketch_pixels / scale),
                   round(found.own_pixels / scale))


def still(hole: np.ndarray) -> Reshape:
    """No move at all (a field of zeros), with `hole` (frame-sized bool) left to the network."""
    return Reshape(np.zeros((*hole.shape, 2), np.float32), hole, 1.0, 0, 0)


def warp_photo(rgb: np.ndarray, field: np.ndarray, frame: Frame, box: tuple[int, int, int, int],
               reach: np.ndarray, rows: int = 256) -> np.ndarray:
    """rgb[box] with the frame's field applied to the full-resolution pixels (bicubic), uint8.
    The field is sampled at each image pixel's place in the frame and turned into image
    pixels; it is applied only where `reach` (bool, box-sized) is set. Works `rows` rows at
    a time, so a 4000-px photo needs no full-size float maps."""
    x0, y0, x1, y1 = box
    out = rgb[y0:y1, x0:x1].copy()
    linear, shift = frame.matrix[:, :2], frame.matrix[:, 2]
    to_image = np.linalg.inv(linear).astype(np.float32)
    xs = np.arange(x0, x1, dtype=np.float32)
    for r0 in range(y0, y1, rows):
        r1 = min(y1, r0 + rows)
        gx, gy = np.meshgrid(xs, np.arange(r0, r1, dtype=np.float32))
        u = (linear[0, 0] * gx + linear[0, 1] * gy + shift[0]).astype(np.float32)
        v = (linear[1, 0] * gx + linear[1, 1] * gy + shift[1]).astype(np.float32)
        moved = cv2.remap(field, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        moved[~reach[r0 - y0:r1 - y0]] = 0
        if not moved.any():
            continue
        dx = to_image[0, 0] * moved[..., 0] + to_image[0, 1] * moved[..., 1]
        dy = to_image[1, 0] * moved[..., 0] + to_image[1, 1] * moved[..., 1]
        out[r0 - y0:r1 - y0] = cv2.remap(rgb, gx + dx, gy + dy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    return out
