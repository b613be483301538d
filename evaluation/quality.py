"""What a person sees in a fill, as numbers: how crisp it is and whether its edges are in place.

PSNR and SSIM reward the mean of all plausible fills, a blur. These two measures do not:

* `sharpness`: mean |Laplacian| of the grey result divided by the truth's, inside the hole
  shrunk by `SHRINK` px (so the seam does not count). 1 = as much fine detail as the
  photo; a Gaussian blur (σ = 2 px) of the truth scores about 0.2; above ~1.25 is noise.
* `grid`: the periodic pattern a U-Net's nearest upsampling leaves in a large hole. The mean
  |step| between neighbouring pixels is taken per phase (position mod `GRID_PERIOD`) along
  each axis, inside the shrunk hole; `grid` is that profile's spread (std / mean), averaged
  over the two axes. A photo's steps do not care where the decoder's lattice lies (about
  0.05); a fill with a texture of the lattice's period scores several times that.
* `structure`: mean local SSIM (grey, `STRUCTURE_WINDOW`-px window) of the result against a
  reference photo inside the hole shrunk by `STRUCTURE_SHRINK` px: whether the fill has
  the reference's shapes (lips, nostrils, lids), which edge F1 against a drawing cannot
  tell from ink.
* `line_contrast`: the mean grey level of the hole's pixels off the given lines minus the
  mean on them. A real part has some (edges of lips are darker); a fill that paints the
  pen's strokes onto skin has far more. Transfer "ink" is the result's line contrast minus
  the real part's (`evaluation.transfer`).
* `seam`: mean |Laplacian| on a band straddling the mask's edge (`SEAM_BAND` px each
  side), over the same of the photo the result should match there: ~1 is an invisible
  seam; above it, a drawn outline or a step; below, a smear across the edge.
* `mean_colour_difference`: ΔE (CIE 1976) between the mean CIELAB colours of two images
  over a region (a skin ring: does the new skin meet the photo's in colour and light?).
* `edge_f1`: Canny edges of the result against reference edges (the truth's, or a given
  drawing) inside the shrunk hole, each edge pixel counted as found when the other map has
  one within `tolerance` px: F1 of that precision and recall.

Canny runs on the grey image smoothed by σ = `CANNY_SIGMA` (scikit-image's `canny`, with
hysteresis thresholds as quantiles of the gradient of the image itself), so a fill is
judged by where its structure is, not by whether its contrast matches the photo's.
Calibration (12 test faces × 3 buckets, 256 px): the σ = 2 blurred truth scores F1 0.71 and
sharpness 0.15; the first default model 0.32 unguided, 0.57 with the oracle sketch; Telea 0.23.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.feature import canny

SHRINK = 3
GRID_PERIOD = 8  # the 32² map's lattice at 256 px (the 16² map's 16-px one repeats on it)
EDGE_TOLERANCE = 2
CANNY_SIGMA = 1.0
CANNY_QUANTILES = (0.8, 0.9)  # low / high hysteresis thresholds, quantiles of the gradient magnitude
STRUCTURE_WINDOW = 7
STRUCTURE_SHRINK = 4
SEAM_BAND = 3


def grey(image: np.ndarray) -> np.ndarray:
    """float32 H×W in [0, 255] from RGB uint8 (or pass-through for grey)."""
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)


def inner(hole: np.ndarray, shrink: int = SHRINK) -> np.ndarray:
    """The hole shrunk by `shrink` px (Euclidean): the pixels a seam cannot reach."""
    if shrink <= 0:
        return hole.astype(bool)
    padded = np.pad(hole.astype(np.uint8), 1)  # the image border is not a hole border
    padded[0, :] = padded[-1, :] = padded[:, 0] = padded[:, -1] = 1
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    return distance > shrink


def detail(image: np.ndarray, region: np.ndarray) -> float:
    """Mean |Laplacian| of the grey image over `region`."""
    laplacian = cv2.Laplacian(grey(image), cv2.CV_32F, ksize=1)
    return float(np.abs(laplacian[region]).mean()) if region.any() else float("nan")


def sharpness(result: np.ndarray, truth: np.ndarray, hole: np.ndarray, shrink: int = SHRINK) -> float:
    """Fine detail of `result` over `truth`'s inside the shrunk hole (NaN where it is empty or the truth is flat)."""
    region = inner(hole, shrink)
    reference = detail(truth, region)
    if not region.any() or reference == 0:
        return float("nan")
    return detail(result, region) / reference


def grid(result: np.ndarray, hole: np.ndarray, period: int = GRID_PERIOD, shrink: int = SHRINK) -> float:
    """Spread of the mean |step| over the `period` phases, per axis, inside the shrunk hole (both
    pixels of a step inside it); NaN where the hole is too small to tell."""
    g, region = grey(result), inner(hole, shrink)
    spreads = []
    for axis in (0, 1):
        step = np.abs(np.diff(g, axis=axis))
        both = region[1:] & region[:-1] if axis == 0 else region[:, 1:] & region[:, :-1]
        phase = np.indices(step.shape)[axis] % period
        counts = np.bincount(phase[both], minlength=period)
        if counts.min() < 64:
            return float("nan")
        profile = np.bincount(phase[both], weights=step[both], minlength=period) / counts
        spreads.append(profile.std() / profile.mean() if profile.mean() > 0 else 0.0)
    return float(np.mean(spreads))


def structure(result: np.ndarray, reference: np.ndarray, hole: np.ndarray, shrink: int = STRUCTURE_SHRINK,
              window: int = STRUCTURE_WINDOW) -> float:
    """Mean local SSIM of `result` against `reference` (grey) inside the shrunk hole; NaN where it is empty."""
    from skimage.metrics import structural_similarity

    region = inner(hole, shrink)
    if not region.any():
        return float("nan")
    ys, xs = np.nonzero(region)
    pad = window  # the window's reach, so the box's SSIM equals the whole image's there
    y0, y1 = max(ys.min() - pad, 0), ys.max() + pad + 1
    x0, x1 = max(xs.min() - pad, 0), xs.max() + pad + 1
    a, b = grey(result)[y0:y1, x0:x1], grey(reference)[y0:y1, x0:x1]
    if min(a.shape) < window:
        return float("nan")
    _, local = structural_similarity(a, b, win_size=window, data_range=255.0, full=True)
    return float(local[region[y0:y1, x0:x1]].mean())


def seam(result: np.ndarray, truth: np.ndarray, hole: np.ndarray, band: int = SEAM_BAND) -> float:
    """The result's fine detail on the band along the mask's edge over the truth's there."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    mask = hole.astype(np.uint8)
    region = (cv2.dilate(mask, kernel) > 0) & ~(cv2.erode(mask, kernel, borderType=cv2.BORDER_REPLICATE) > 0)
    reference = detail(truth, region)
    return detail(result, region) / reference if region.any() and reference > 0 else float("nan")


def mean_colour_difference(result: np.ndarray, reference: np.ndarray, region: np.ndarray) -> float:
    """ΔE76 of the mean CIELAB colour of `result` against `reference`'s over `region` (NaN if empty)."""
    if not region.any():
        return float("nan")
    lab = [cv2.cvtColor(x[None, region].astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[0].mean(0)
           for x in (result, reference)]
    return float(np.linalg.norm(lab[0] - lab[1]))


def line_contrast(image: np.ndarray, lines: np.ndarray, hole: np.ndarray) -> float:
    """Mean grey of the hole off `lines` minus the mean on them (NaN without both kinds of pixel)."""
    g = grey(image)
    on, off = lines & hole, hole & ~lines
    if not on.any() or not off.any():
        return float("nan")
    return float(g[off].mean() - g[on].mean())


def edges(image: np.ndarray) -> np.ndarray:
    """bool H×W Canny edges (see the module docstring for the settings)."""
    return canny(grey(image), sigma=CANNY_SIGMA, low_threshold=CANNY_QUANTILES[0],
                 high_threshold=CANNY_QUANTILES[1], use_quantiles=True)


def _near(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels within `tolerance` px of any True pixel of `points`."""
    if not points.any():
        return np.zeros_like(points)
    distance = cv2.distanceTransform((~points).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return distance <= tolerance


def f1_of(found: np.ndarray, reference: np.ndarray, region: np.ndarray, tolerance: float) -> float:
    """F1 of edge map `found` against `reference`, both counted inside `region` only.
    NaN when neither has an edge there; 0 when only one has."""
    found, reference = found & region, reference & region
    n_found, n_reference = int(found.sum()), int(reference.sum())
    if n_found == 0 and n_reference == 0:
        return float("nan")
    if n_found == 0 or n_reference == 0:
        return 0.0
    precision = float((found & _near(reference, tolerance)).sum()) / n_found
    recall = float((reference & _near(found, tolerance)).sum()) / n_reference
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def edge_f1(result: np.ndarray, truth: np.ndarray, hole: np.ndarray, tolerance: float = EDGE_TOLERANCE,
            shrink: int = SHRINK) -> float:
    """F1 of `result`'s Canny edges against `truth`'s inside the shrunk hole."""
    return f1_of(edges(result), edges(truth), inner(hole, shrink), tolerance)


def scores(result: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    """Both measures of one result."""
    return {"sharpness": sharpness(result, truth, hole), "edge_f1": edge_f1(result, truth, hole)}


def nanmean(values) -> float:
    """Mean of the finite values (NaN when there are none)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")
