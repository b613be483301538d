"""Full-resolution paste-back: the photo's own fine detail in the fill, and no seam.

The network draws at 256 px; on a phone photo its fill is scaled up by 2–6× on the way
back and reads as a smooth patch. Two steps, both inside the paste-back box only:

* `match_colour`: the fill's colour drift, measured as the difference to the photo in a
  ring just outside the hole, is spread into the hole by normalised convolution (a
  Gaussian of the ring's differences over a Gaussian of the ring), so the fill meets the
  photo at the photo's brightness and colour (no step at the mask's edge).
* `add_detail`: the band of frequencies the frame cannot hold (above its Nyquist) is
  synthesised inside the hole from the photo's own high band around it. The hole is tiled
  with overlapping windows; each tile copies a patch of the photo's high band from the
  ring around the hole, chosen among the nearest candidates as the one whose low band
  (local colour) best matches the fill's there: structure comes from the model, texture
  from the photo. Windows are sine/cosine tapers whose squares sum to 1, so uncorrelated
  patches add up to the photo's own contrast, neither washed out nor doubled. A smooth
  cheek has a weak high band, so it stays smooth. Why patches and not noise: skin pores,
  stubble and hair have structure a Gaussian noise model lacks; why not OpenCV's
  `xphoto` inpainting: it is in opencv-contrib only, and it fills from the hole's own
  pixels, which the user asked to replace.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import cKDTree

SHRINK_FROM_SIGMA = 6.0  # wider blurs run on a shrunk copy (see `smooth`)
MIN_UPSCALE = 1.3  # below this the fill already has the photo's resolution: no detail step
NETWORK_BLUR = 2.0  # frame px: the finest detail of the network's fills (see `detail_scale`)
CANDIDATES = 12  # patch sources considered per tile (the spatially nearest)
STRUCTURE_ENERGY = 3.0  # patches with more high-band energy than this × the ring's median hold an edge: not sources


def high_band(image: np.ndarray, sigma: float) -> np.ndarray:
    """image − Gaussian(image, σ), float32."""
    image = image.astype(np.float32)
    return image - cv2.GaussianBlur(image, (0, 0), sigma)


def smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (float32). From σ = SHRINK_FROM_SIGMA px on, it runs on a copy shrunk by
    f ≈ σ/3 (area filter), blurred by the rest of σ, and scaled back (bilinear): OpenCV's
    kernel grows with σ, so the full-size blurs of the colour match took 90 ms of a 1024-px
    edit's paste-back; the result is smooth at that scale, so shrinking loses nothing visible."""
    image = image.astype(np.float32, copy=False)
    factor = int(sigma // 3)
    if sigma < SHRINK_FROM_SIGMA or factor < 2 or min(image.shape[:2]) < 4 * factor:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    small = cv2.resize(image, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
    rest = np.sqrt(max((sigma / factor) ** 2 - 1 / 12, 0.25))  # the area filter is a box of 1 small pixel
    small = cv2.GaussianBlur(small, (0, 0), rest)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return out.reshape(image.shape)


def local_mean(values: np.ndarray, where: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Normalised convolution: the Gaussian-weighted mean of `values` over `where`, and its weight."""
    weight = smooth(where.astype(np.float32), sigma)
    mean = smooth(values * where[..., None].astype(np.float32), sigma)
    return mean / np.maximum(weight, 1e-6)[..., None], weight


def match_colour(fill: np.ndarray, photo: np.ndarray, hole: np.ndarray, reach: float) -> np.ndarray:
    """`fill` (float32 H×W×3) with its colour step at the hole's edge removed: the local mean
    of the photo just outside the hole minus the fill's just inside, added inside the hole
    and fading over `reach` px, so the fill keeps its own interior (a dark mouth stays dark)."""
    reach = max(2.0, reach)
    width = max(2.0, reach / 3)
    outside = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5)
    ring_out = (outside > 0) & (outside <= width)
    del outside
    if ring_out.sum() < 8:  # a hole spanning the photo: no ring to match, nothing more to compute
        return fill
    inside = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5)
    ring_in = hole & (inside <= width)
    if ring_in.sum() < 8:
        return fill
    photo_mean, w_out = local_mean(photo.astype(np.float32), ring_out, reach)
    fill_mean, w_in = local_mean(fill, ring_in, reach)
    confident = np.clip(np.minimum(w_out, w_in) / 0.05, 0, 1)
    fade = np.exp(-inside / reach) * hole  # the photo's own pixels outside the hole need no shift
    return fill + (photo_mean - fill_mean) * (confident * fade)[..., None]


def _taper(size: int) -> np.ndarray:
    """A 1-D window whose square, added to its half-shifted copy's square, is 1."""
    t = (np.arange(size, dtype=np.float32) + 0.5) / size
    return np.sin(np.pi * t)


def _taper2d(size: int) -> np.ndarray:
    window = _taper(size)
    return (window[:, None] * window[None, :])[..., None]


def add_detail(fill: np.ndarray, photo: np.ndarray, hole: np.ndarray, upscale: float,
               rng: np.random.Generator) -> np.ndarray:
    """`fill` (float32 H×W×3, the network's fill upsampled by `upscale`) plus high-band
    texture synthesised from `photo` around the hole; unchanged when `upscale` is small or
    there is no texture to borrow."""
    if upscale < MIN_UPSCALE or not hole.any():
        return fill
    sigma = 0.5 * upscale  # the frame's Nyquist in photo pixels, roughly
    tile = int(np.clip(round(6 * upscale), 8, 64)) // 2 * 2
    half = tile // 2
    h, w = hole.shape
    # candidate patch centres: the whole patch outside the hole (and its feather), close to it
    # (found first: a hole spanning the photo has none, and then nothing else is computed)
    distance = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5)
    hole_rows, hole_cols = np.flatnonzero(hole.any(1)), np.flatnonzero(hole.any(0))  # its box, not its pixels
    y_min, y_max, x_min, x_max = hole_rows[0], hole_rows[-1], hole_cols[0], hole_cols[-1]
    extent = max(y_max - y_min, x_max - x_min) + 1
    ok = (distance > half * 1.5 + 2) & (distance <= half * 1.5 + 2 + max(4 * tile, extent / 2))
    del distance
    ok[:half, :] = ok[-half:, :] = False
    ok[:, :half] = ok[:, -half:] = False
    cy, cx = np.nonzero(ok[::2, ::2])
    if cy.size < 4:
        return fill
    cy, cx = cy * 2, cx * 2
    source = high_band(photo, sigma)
    low_photo = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 2 * sigma)
    low_fill = cv2.GaussianBlur(fill, (0, 0), 2 * sigma)
    # texture, not structure: a patch holding an edge (an eye's lid, a lip's outline, a
    # nostril near a nose hole) would draw that edge where the model drew none
    energy = cv2.boxFilter((source ** 2).sum(2), -1, (tile, tile))[cy, cx]
    keep = energy <= STRUCTURE_ENERGY * np.median(energy)
    if keep.sum() >= 4:
        cy, cx = cy[keep], cx[keep]
    # the tiles: a grid of stride `half` from the hole's corner, those that touch the hole
    # (box sums of an integral image), in coordinates padded by one tile so none is clipped
    pad = tile
    oy, ox = y_min - half + pad, x_min - half + pad
    rows, cols = (y_max + pad - oy) // half + 1, (x_max + pad - ox) // half + 1
    total = cv2.integral(np.pad(hole, pad).astype(np.uint8))
    y = oy + half * np.arange(rows)[:, None]
    x = ox + half * np.arange(cols)[None, :]
    touches = (total[y + tile, x + tile] - total[y, x + tile] - total[y + tile, x] + total[y, x]) > 0
    ty, tx = np.nonzero(touches)
    centres = np.clip(np.c_[oy - pad + ty * half, ox - pad + tx * half] + half, 0, (h - 1, w - 1))
    # every tile's nearest candidates at once (a k-d tree), then the best colour match among them
    k = min(CANDIDATES, cy.size)
    _, near = cKDTree(np.c_[cy, cx]).query(centres, k=k)
    near = near.reshape(len(centres), k)
    mismatch = ((low_photo[cy[near], cx[near]] - low_fill[centres[:, 0], centres[:, 1]][:, None]) ** 2).sum(2)
    mismatch += rng.random(mismatch.shape) * (np.median(mismatch, axis=1, keepdims=True) + 1.0)  # vary among close ones
    best = near[np.arange(len(centres)), np.argmin(mismatch, axis=1)]
    # every chosen patch at once, tapered; then the four interleaved sets of tiles that do not
    # overlap (row and column parity) are added into a canvas in grid coordinates as blocks
    rows_of = np.lib.stride_tricks.sliding_window_view(source.reshape(h, w * 3), (tile, tile * 3))  # views, no copy
    chosen = rows_of[cy[best] - half, (cx[best] - half) * 3].reshape(-1, tile, tile, 3)  # runs of tile·3 floats
    chosen *= _taper2d(tile)
    patches = np.zeros((rows, cols, tile, tile, 3), np.float32)
    patches[ty, tx] = chosen
    canvas = np.zeros((h + 2 * pad, w + 2 * pad, 3), np.float32)
    for py in (0, 1):
        for px in (0, 1):
            block = patches[py::2, px::2]
            ny, nx = block.shape[:2]
            y0, x0 = oy + py * half, ox + px * half
            tiles = block.transpose(0, 2, 1, 3, 4).reshape(ny * tile, nx * tile, 3)
            canvas[y0:y0 + ny * tile, x0:x0 + nx * tile] += tiles
    synthesis = canvas[pad:pad + h, pad:pad + w]
    inside = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), max(1.0, sigma / 2))
    return fill + synthesis * inside[..., None]


def detail_scale(upscale: float) -> float:
    """The size, in photo px, of the finest detail a fill holds: a frame pixel scaled up by
    `upscale`, but never finer than the network's own blur of `NETWORK_BLUR` frame px (at the
    frame's own scale its fills have about 0.45 of the photo's fine detail, the sharpness of
    a blur of that size), so a face edited near the frame's scale gets the photo's finest
    band too."""
    return max(upscale, NETWORK_BLUR * min(upscale, 1.0))


def refine(fill: np.ndarray, photo: np.ndarray, hole: np.ndarray, upscale: float, seed: int = 0) -> np.ndarray:
    """Both steps: the colour step removed, then the missing high band added. Deterministic
    for a given seed (the same edit gives the same pixels, whatever the thread)."""
    matched = match_colour(fill, photo, hole, reach=3 * max(1.0, upscale))
    return add_detail(matched, photo, hole, detail_scale(upscale), np.random.default_rng(seed))


def context_margin(upscale: float) -> int:
    """How far around the hole `refine` reads the photo (patch sources and the colour ring)."""
    tile = int(np.clip(round(6 * detail_scale(upscale)), 8, 64))
    return int(1.5 * tile / 2 + 2 + 4 * tile + 2)
