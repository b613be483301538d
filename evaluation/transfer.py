"""The sketch-transfer and colour-transfer cases: another face's part, drawn into this face.

What a user does when they draw a new mouth: mask face A's part and sketch a part that is
not A's. The test makes that sketch from face B: B's thin lines of the same part, moved
onto A by the similarity that best maps B's landmarks of that part onto A's. The ceiling is
B's real part pasted into the hole by the same warp: a photo that matches the sketch.

* sketch transfer: F1 of the result's Canny edges against the given lines (3-px
  tolerance) inside the hole, the result's sharpness against A's photo, its structure
  against the pasted real part (local SSIM, `quality.structure`), and its ink: how much
  darker the given lines are than the rest of the hole in the result, beyond what they
  are in the real part (grey levels; `quality.line_contrast`). Edge F1 alone rewards ink:
  lines painted dark put edges exactly on the drawing;
* colour transfer: a dozen dabs of B's lip colour (or an unusual colour) inside the hole;
  how far the fill's mean colour moves from where it is without hints toward the hint
  (1 = all the way, 0 = not at all);
* a part moved in (`inpaint.transplant`): `transplant_scores` adds the seam against the
  photo and the skin ring's ΔE, and `self_reference` makes A's own copy as the reference,
  so A itself is the truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inpaint.face.parts import draw_parts, grow_mask
from inpaint.landmarks import INNER_LIPS
from inpaint.reference import fit_part, reference_layers, warp_reference
from inpaint.transplant import NOT_SKIN

from . import quality

PARTS = ("mouth", "nose", "eyes")
TRANSFER_TOLERANCE = 3
GROW_AT_256 = 8  # the part mask's margin at 256 px (scales with the side)


@dataclass(frozen=True)
class TransferCase:
    hole: np.ndarray  # bool: A's part, grown
    sketch: np.ndarray  # bool: B's lines of the part, warped onto A, inside the hole
    ceiling: np.ndarray  # uint8 RGB: A with B's real part pasted into the hole


def part_hole(landmarks: np.ndarray, shape: tuple[int, int], part: str) -> np.ndarray:
    grow = max(1, round(GROW_AT_256 * min(shape) / 256))
    return grow_mask(draw_parts(landmarks, shape, [part]), grow)


def transfer_case(image_a: np.ndarray, landmarks_a: np.ndarray, image_b: np.ndarray, lines_b: np.ndarray,
                  landmarks_b: np.ndarray, part: str) -> TransferCase:
    """B's `part` moved onto A (all arrays at the same scale; landmarks 68×2 pixel x, y) by one
    fit of the part's landmarks (both eyes jointly): the training data's and the in-loop
    validation's case, on the aligned cache."""
    matrix = fit_part(landmarks_a, landmarks_b, part, joint=True)[0].matrix
    h, w = image_a.shape[:2]
    hole = part_hole(landmarks_a, (h, w), part)
    warped = cv2.warpAffine(lines_b.astype(np.float32), matrix, (w, h), flags=cv2.INTER_LINEAR) > 0.2
    pasted = cv2.warpAffine(image_b, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    ceiling = np.where(hole[..., None], pasted, image_a)
    return TransferCase(hole, warped & hole, ceiling)


def reference_case(image_a: np.ndarray, image_b: np.ndarray, part: str, detector=None) -> TransferCase:
    """B's `part` moved onto A as the editor's reference path moves it (`inpaint.reference`:
    the hole is both parts grown, a fit per eye): the case of transfer protocol 2."""
    layers = reference_layers(image_a, image_b, [part], detector)
    ceiling = np.where(layers.mask[..., None], warp_reference(image_b, layers), image_a)
    return TransferCase(layers.mask, layers.sketch, ceiling)


def transfer_scores(result: np.ndarray, truth: np.ndarray, case: TransferCase) -> dict[str, float]:
    """F1 of `result`'s edges against the given lines, its sharpness against A's photo (`truth`),
    its structure against the pasted real part and its ink beyond the real part's."""
    region = quality.inner(case.hole)
    ink = (quality.line_contrast(result, case.sketch, case.hole)
           - quality.line_contrast(case.ceiling, case.sketch, case.hole))
    return {"f1": quality.f1_of(quality.edges(result), case.sketch, region, TRANSFER_TOLERANCE),
            "sharpness": quality.sharpness(result, truth, case.hole),
            "structure": quality.structure(result, case.ceiling, case.hole), "ink": ink,
            "colour": colour_distance(result, case.ceiling, case.hole)}


def colour_distance(result: np.ndarray, reference: np.ndarray, hole: np.ndarray) -> float:
    """ΔE (CIE 1976) between the mean CIELAB colours of `result` and `reference` inside the
    shrunk hole: how far the fill's colour is from the real part's (0 = the same)."""
    region = quality.inner(hole)
    return quality.mean_colour_difference(result, reference, region if region.any() else hole)


def edge_skin(hole: np.ndarray, landmarks: np.ndarray, width: int) -> np.ndarray:
    """The hole's pixels within `width` px of its edge that lie on no part of the face: the
    skin where a transplant meets the photo."""
    inside = cv2.distanceTransform(np.pad(hole.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    parts = grow_mask(draw_parts(landmarks, hole.shape, list(NOT_SKIN)), max(1, width // 2))
    return hole & (inside <= width) & ~parts


def transplant_scores(result: np.ndarray, photo: np.ndarray, case: TransferCase, ring: np.ndarray) -> dict[str, float]:
    """`transfer_scores` against the truth (`case.ceiling`, sharpness too), the seam measured
    against the photo's own detail there, and the skin ring's ΔE from the photo."""
    scores = transfer_scores(result, case.ceiling, case)
    scores["seam"] = quality.seam(result, photo, case.hole)
    scores["ring"] = quality.mean_colour_difference(result, photo, ring)
    return scores


def self_reference(image: np.ndarray, rng: np.random.Generator, mirror: bool = True) -> np.ndarray:
    """`image` as another photo of the same face: mirrored (unless not `mirror`), turned ±6°,
    scaled ×0.85–1.15 about its centre, warped by a smooth field of up to ~1 % of its side,
    and recoloured (per-channel gain ×0.85–1.15 and a gamma of 0.85–1.15). Editing a face
    with it as the reference has the face itself as the truth, however the code warps. A
    mirrored copy's part is the face's other side, so its truth holds only as far as the face
    is symmetric (gaze, light from one side): the unmirrored copy tells the method's share."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-6, 6), rng.uniform(0.85, 1.15))
    source = np.ascontiguousarray(image[:, ::-1]) if mirror else image
    out = cv2.warpAffine(source, matrix, (w, h), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REFLECT_101)
    coarse = rng.normal(0.0, 1.0, (6, 6, 2)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * (0.01 * min(h, w) / 2)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(out, xs + field[..., 0], ys + field[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    gain = rng.uniform(0.85, 1.15, 3)
    gamma = rng.uniform(0.85, 1.15)
    return np.clip(255.0 * (out / 255.0) ** gamma * gain, 0, 255).round().astype(np.uint8)


TELEA_RADIUS = 5  # as evaluation.evaluate and the app's fallback


def telea_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """OpenCV's Telea over the hole: the sketch-blind reference of the transfer measures."""
    return cv2.inpaint(image, hole.astype(np.uint8) * 255, TELEA_RADIUS, cv2.INPAINT_TELEA)


def lip_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The median RGB of the lips (outer lip polygon minus the inner one)."""
    shape = image.shape[:2]
    lips = draw_parts(landmarks, shape, ["mouth"])
    inner = np.zeros(shape, np.uint8)
    cv2.fillPoly(inner, [np.rint(landmarks[INNER_LIPS]).astype(np.int32)], 1)
    region = lips & ~inner.astype(bool)
    return np.median(image[region if region.any() else lips], axis=0)


def colour_dabs(hole: np.ndarray, colour: np.ndarray, rng: np.random.Generator,
                count: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """`count` small round dabs of `colour` at random hole pixels: (RGB uint8, bool mask)."""
    ys, xs = np.nonzero(quality.inner(hole, 2))
    if ys.size == 0:
        ys, xs = np.nonzero(hole)
    mask = np.zeros(hole.shape, np.uint8)
    radius = max(1, round(2 * min(hole.shape) / 256))
    for k in rng.choice(ys.size, size=min(count, ys.size), replace=False):
        cv2.circle(mask, (int(xs[k]), int(ys[k])), radius, 1, -1)
    hint = mask.astype(bool) & hole
    rgb = np.zeros(hole.shape + (3,), np.uint8)
    rgb[hint] = np.clip(np.rint(colour), 0, 255).astype(np.uint8)
    return rgb, hint


def colour_move(hinted: np.ndarray, unhinted: np.ndarray, hole: np.ndarray, colour: np.ndarray) -> float:
    """How far the fill's mean colour moved toward `colour`: the projection of the change onto
    (colour − unhinted mean), over that distance. 1 = all the way; NaN when already there."""
    region = quality.inner(hole, 2)
    region = region if region.any() else hole
    before = unhinted[region].astype(np.float64).mean(0)
    after = hinted[region].astype(np.float64).mean(0)
    direction = np.asarray(colour, np.float64) - before
    distance = float(direction @ direction)
    if distance < 25.0:  # within 5 levels: nothing to move
        return float("nan")
    return float((after - before) @ direction / distance)


def fit_errors(landmarks_a: np.ndarray, landmarks_b: np.ndarray, part: str) -> dict[str, float]:
    """How well B's `part` lands on A's, per landmark group (one fit per eye or brow) and
    jointly, in % of A's eye distance: in-sample RMS, and leave-one-out RMS (each point
    predicted by the fit of the others of its fit; a fit with more freedom always scores lower
    in sample, so the held-out error is the fair comparison)."""
    from inpaint.frame import apply_affine, fit_similarity, key_points

    left, right, _ = key_points(landmarks_a)
    scale = 100.0 / float(np.linalg.norm(right - left))
    out = {}
    for joint in (False, True):
        inside, held_out = [], []
        for fit in fit_part(landmarks_a, landmarks_b, part, joint=joint):
            src, dst = landmarks_b[fit.points], landmarks_a[fit.points]
            inside += [fit.residual ** 2] * len(src)  # the fit's RMS, per point
            for k in range(len(src)):
                keep = np.arange(len(src)) != k
                matrix = fit_similarity(src[keep], dst[keep])
                held_out.append(float(((apply_affine(matrix, src[k:k + 1]) - dst[k]) ** 2).sum()))
        name = "joint" if joint else "per_group"
        out[f"{name}_rms"] = scale * float(np.sqrt(np.mean(inside)))
        out[f"{name}_held_out"] = scale * float(np.sqrt(np.mean(held_out)))
    return out
