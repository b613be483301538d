"""A reference photo's own pixels moved into the photo: "make it look like this", for real.

For the parts a reference gives (`inpaint.reference`), inside the part's mask:

* **Placement.** Every photo pixel looks up the reference through the similarity fit of the
  part's landmarks (one per eye, per brow), so the reference part keeps its own shape and
  size; where the fits of several groups meet, their maps are blended over a short
  distance. No dense warp by the landmarks: it gives the new part the old one's outline,
  and between faces turned differently it folded and smeared the part (docs/transfer_results.md);
  a turned reference gets a warning instead.
* **Colour and light.** A low-frequency gain (the photo's blurred skin over the reference's)
  measured on a ring of skin around the part only, spread inward by normalised
  convolution. It is a ratio of local light, not whole-crop statistics, so teeth, sclera,
  irises and lips keep their own colours. Grain: a reference scaled up onto the photo gets
  the photo's own fine grain (`inpaint.detail.add_detail`), a grainier one has its finest
  band turned down to the photo's level on skin, so the skin on both sides of the seam has
  the same texture.
* **Seam.** A gradient-domain blend fixed at the mask's edge (`inpaint.membrane`), screened
  so the correction fades within `SEAM_REACH` of the edge (the interior keeps the matched
  light): the mask ends on skin (a part's margin) and pixels beyond it never change.
* **The network's share.** The pixels the reference cannot supply (beyond its image's
  edge) and any of the user's mask beyond the reference's: the editor's network fills them
  with the transplant as context. The photo's old part is gone wherever the mask reaches:
  the reference's own skin replaces it.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .detail import MIN_UPSCALE, add_detail, high_band, local_mean
from .face.parts import draw_parts, grow_mask
from .frame import apply_affine, eye_distance, mask_box
from .membrane import membrane
from .reference import ReferenceLayers

NOT_SKIN = ("eyes", "eyebrows", "nose", "mouth")  # the face's parts that are not skin
RING = 0.12  # the skin ring's width on each side of the mask's edge, in eye distances
LIGHT_SIGMA = 0.25  # the gain's reach, in eye distances: light varies slowly across a face
MEET = 0.04  # in eye distances: how far two groups' maps blend where they meet
MIN_RING_PIXELS = 32
SEAM_REACH = 0.1  # in eye distances: how far inside the correction of the seam reaches
GRAIN_SIGMA = 1.0  # px: the finest band, where skin's grain (and a camera's noise) lives


@dataclass(frozen=True)
class Transplant:
    """The photo with the reference's parts in place, and what is left to the network."""

    photo: np.ndarray  # H×W×3 uint8: the photo, with the reference's pixels inside the hole
    network: np.ndarray  # bool H×W: the pixels of the hole the reference cannot supply
    lines: np.ndarray  # bool H×W: the reference's lines where they now lie (the warp stage's own lines)


def lookup_maps(layers: ReferenceLayers, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For each photo pixel of `box`: where in the reference it is taken from (float32 x, y
    maps). Each fit rules near its own landmarks; between groups the maps blend (softmax of
    the distance to each group's outline, over MEET eye distances)."""
    x0, y0, x1, y1 = box
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    photo_lm = layers.photo_landmarks
    reach = MEET * eye_distance(photo_lm)
    maps, scores = [], []
    for fit in layers.fits:
        back = cv2.invertAffineTransform(fit.matrix)
        maps.append((back[0, 0] * gx + back[0, 1] * gy + back[0, 2], back[1, 0] * gx + back[1, 1] * gy + back[1, 2]))
        outline = np.zeros((y1 - y0, x1 - x0), np.uint8)
        hull = cv2.convexHull(np.rint(photo_lm[fit.points] - (x0, y0)).astype(np.int32))
        cv2.fillConvexPoly(outline, hull, 1)
        scores.append(-cv2.distanceTransform(1 - outline, cv2.DIST_L2, 5) / reach)
    if len(maps) == 1:
        return maps[0][0].astype(np.float32), maps[0][1].astype(np.float32)
    weights = np.exp(np.stack(scores) - np.max(scores, axis=0))
    weights /= weights.sum(0)
    mx = sum(w * m[0] for w, m in zip(weights, maps))
    my = sum(w * m[1] for w, m in zip(weights, maps))
    return mx.astype(np.float32), my.astype(np.float32)


def skin_ring(region: np.ndarray, not_skin: np.ndarray, width: int) -> np.ndarray:
    """The skin within `width` px of `region`'s edge, on both sides of it."""
    outside = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 5)
    inside = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 5)
    return ((outside > 0) & (outside <= width) | region & (inside <= width)) & ~not_skin


def light_ring(layers: ReferenceLayers, region: np.ndarray, valid: np.ndarray, offset: tuple[int, int],
               width: int) -> np.ndarray:
    """Where light is compared: the skin ring around `region` (box pixels from `offset`) that
    the reference covers, off the photo's parts; the whole ring where that leaves too little."""
    parts = draw_parts(layers.photo_landmarks - offset, region.shape, list(NOT_SKIN))
    ring = skin_ring(region, grow_mask(parts, max(1, width // 3)), width) & valid
    return ring if ring.sum() >= MIN_RING_PIXELS else skin_ring(region, np.zeros_like(region), width) & valid


def match_light(source: np.ndarray, photo: np.ndarray, ring: np.ndarray, sigma: float) -> np.ndarray:
    """`source` (float32) times the low-frequency gain photo / source measured on `ring` and
    spread by normalised convolution; where the ring is far, the ring's median gain."""
    eps = 4.0
    photo_mean, weight = local_mean(photo.astype(np.float32), ring, sigma)
    source_mean, _ = local_mean(source, ring, sigma)
    local = (photo_mean + eps) / (source_mean + eps)
    ratio = (photo[ring].astype(np.float32) + eps) / (source[ring] + eps)
    overall = np.median(ratio, axis=0)
    confident = np.clip(weight / 0.1, 0.0, 1.0)[..., None]
    gain = confident * local + (1.0 - confident) * overall
    return source * gain


def placed_parts(layers: ReferenceLayers, shape: tuple[int, int], offset: tuple[int, int]) -> np.ndarray:
    """bool: the reference's parts where its fits put them (box pixels from `offset`)."""
    placed = layers.photo_landmarks.copy()
    for fit in layers.fits:
        placed[fit.points] = apply_affine(fit.matrix, layers.reference_landmarks[fit.points])
    return draw_parts(placed - offset, shape, list(layers.parts))


def match_grain(source: np.ndarray, photo: np.ndarray, ring: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """`source` with its finest band on `skin` (a weight, 0–1) turned down to the photo's
    level on `ring`, when it is grainier (a sharper camera, a noisier one, a gain above 1)."""
    grain = high_band(source, GRAIN_SIGMA)
    own = float(np.sqrt(np.mean(high_band(photo, GRAIN_SIGMA)[ring] ** 2)))
    theirs = float(np.sqrt(np.mean(grain[ring] ** 2)))
    keep = min(1.0, own / max(theirs, 1e-6))
    return source - (1.0 - keep) * skin[..., None] * grain


def transplant(photo: np.ndarray, layers: ReferenceLayers, hole: np.ndarray, seed: int = 0) -> Transplant:
    """`layers.reference`'s parts moved into `photo` inside `hole` ∩ the reference's mask."""
    region = layers.mask & hole
    network = hole & ~region
    if not region.any():
        return Transplant(photo, network, layers.sketch & hole)
    gap = eye_distance(layers.photo_landmarks)
    width = max(3, round(RING * gap))
    upscale = max(float(np.sqrt(abs(np.linalg.det(f.matrix[:, :2])))) for f in layers.fits)
    pad = 2 * width + (int(8 * upscale) + 8 if upscale > MIN_UPSCALE else 0)
    height, full_width = hole.shape
    hx0, hy0, hx1, hy1 = mask_box(region)
    box = (max(0, hx0 - pad), max(0, hy0 - pad), min(full_width, hx1 + pad), min(height, hy1 + pad))
    x0, y0, x1, y1 = box
    mx, my = lookup_maps(layers, box)
    source = cv2.remap(layers.reference, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)
    ref_h, ref_w = layers.reference.shape[:2]
    valid = (mx >= 0) & (mx <= ref_w - 1) & (my >= 0) & (my <= ref_h - 1)
    crop = photo[y0:y1, x0:x1]
    inner = region[y0:y1, x0:x1]
    ring = light_ring(layers, inner, valid, (x0, y0), width)
    matched = match_light(source, crop, ring, LIGHT_SIGMA * gap) if ring.any() else source
    margin = max(1, width // 3)
    parts = grow_mask(placed_parts(layers, inner.shape, (x0, y0)), margin)
    if upscale > MIN_UPSCALE:  # the reference was scaled up: it lacks the photo's finest grain
        matched = add_detail(matched, crop, inner, upscale, np.random.default_rng(seed))
    elif ring.any():
        skin = 1.0 - cv2.GaussianBlur(parts.astype(np.float32), (0, 0), max(1.0, width / 3))
        matched = match_grain(matched, crop, ring, skin)
    matched[~valid] = crop[~valid]
    correction = membrane(crop.astype(np.float32) - matched, inner, None if SEAM_REACH is None else SEAM_REACH * gap)
    blended = np.clip(np.rint(matched + correction), 0, 255).astype(np.uint8)
    out = photo.copy()
    np.copyto(out[y0:y1, x0:x1], blended, where=inner[..., None])
    network[y0:y1, x0:x1] |= inner & ~cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return Transplant(out, network, layers.sketch & hole)

