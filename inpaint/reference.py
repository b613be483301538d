"""A part from a reference photo as the edit's mask, sketch and colour: "make it look like this".

For each part asked for (mouth, eyes, eyebrows, nose), the similarity that best maps the
reference face's landmarks of that part onto the photo's (`inpaint.frame.fit_similarity`;
one per eye and per brow, so two eyes that sit differently each land on their own) carries:

* the mask: the photo's own part and the reference part warped onto it, grown a little
  (a margin relative to the part's size, as the app's one-click part masks have);
* the sketch: the reference part's thin HED lines, taken on a crop of the reference at the
  photo's scale, warped, then thinned again to 1 px;
* the colour: a dozen small dabs per part of the reference part's own colours (its median
  colour around each sampled place), at the matching places of the photo.

The fit's residual (RMS distance of the warped landmarks from the photo's, in photo pixels)
says how well the two faces matched; a reference turned differently from the photo, or
fitted loosely, gets a warning. The transfer test (`evaluation.transfer`) warps with this code.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .face.parts import draw_parts, grow_mask, part_margin
from .frame import apply_affine, eye_distance, fit_similarity, key_points, mask_box
from .landmarks import BROW_LEFT, BROW_RIGHT, EYE_LEFT, EYE_RIGHT, MOUTH, NOSE

PART_GROUPS: dict[str, tuple[slice, ...]] = {
    "mouth": (MOUTH,), "nose": (NOSE,), "eyes": (EYE_LEFT, EYE_RIGHT), "eyebrows": (BROW_LEFT, BROW_RIGHT)}
REFERENCE_PARTS = tuple(PART_GROUPS)
MIN_REFERENCE_SIDE = 64
DABS_PER_PART = 12
NOSE_TIP = 30
TURN_WARNING = 0.15  # difference of the faces' turn (nose tip off the eyes' midline, in eye distances)
RESIDUAL_WARNING = 0.08  # a fit residual above this share of the photo's eye distance


@dataclass(frozen=True)
class PartFit:
    """One similarity fit: `points` of the reference's landmarks onto the photo's."""

    points: slice
    matrix: np.ndarray  # 2×3, reference pixels → photo pixels
    residual: float  # RMS distance of the warped points from the photo's, photo pixels


def fit_part(photo_landmarks: np.ndarray, reference_landmarks: np.ndarray, part: str,
             joint: bool = False) -> list[PartFit]:
    """The fits of `part`: one per landmark group (one per eye, per brow), or with `joint`
    one for the part's groups together."""
    if part not in PART_GROUPS:
        raise ValueError(f"unknown part {part!r}; choose from {', '.join(REFERENCE_PARTS)}")
    groups = PART_GROUPS[part]
    if joint and len(groups) > 1:
        indices = np.r_[tuple(groups)]
        groups = (indices,)
    fits = []
    for points in groups:
        src, dst = reference_landmarks[points], photo_landmarks[points]
        matrix = fit_similarity(src, dst)
        moved = apply_affine(matrix, src)
        fits.append(PartFit(points, matrix, float(np.sqrt(((moved - dst) ** 2).sum(1).mean()))))
    return fits


def regions_of(landmarks: np.ndarray, shape: tuple[int, int], part: str, fits: list[PartFit]) -> list[np.ndarray]:
    """The reference's grown part mask, split among the fits (each pixel to the nearest group)."""
    region = draw_parts(landmarks, shape, [part])
    region = grow_mask(region, part_margin(region))
    if len(fits) == 1 or not region.any():
        return [region] * len(fits)
    x0, y0, x1, y1 = mask_box(region)  # within the region's box: a 3000-px reference's full grids take 300 MB
    ys, xs = np.mgrid[y0:y1, x0:x1]
    centres = [landmarks[f.points].mean(0) for f in fits]
    nearest = np.stack([np.hypot(xs - cx, ys - cy) for cx, cy in centres]).argmin(0)
    out = []
    for k in range(len(fits)):
        mine = np.zeros(shape, bool)
        mine[y0:y1, x0:x1] = region[y0:y1, x0:x1] & (nearest == k)
        out.append(mine)
    return out


def warp_into(layer: np.ndarray, matrix: np.ndarray, box: tuple[int, int, int, int],
              interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """`layer` (reference pixels) warped by `matrix` into the photo's box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    shifted = matrix.copy()
    shifted[:, 2] -= (x0, y0)
    return cv2.warpAffine(layer, shifted, (x1 - x0, y1 - y0), flags=interpolation, borderValue=0)


def turn(landmarks: np.ndarray) -> float:
    """How far the face is turned: the nose tip's offset from the eyes' midpoint along the eye
    line, in eye distances (0 = frontal)."""
    left, right, _ = key_points(landmarks)
    axis = right - left
    gap = float(np.linalg.norm(axis)) or 1.0
    return float((landmarks[NOSE_TIP] - (left + right) / 2) @ axis / gap / gap)


@dataclass(frozen=True)
class ReferenceLayers:
    """The three layers a reference gives, at the photo's size, and how well it matched."""

    mask: np.ndarray  # bool
    sketch: np.ndarray  # bool, 1-px lines
    color: np.ndarray  # uint8 RGB where `color_mask`
    color_mask: np.ndarray  # bool
    parts: tuple[str, ...]
    residual: float  # the largest fit residual over the parts, photo pixels
    warnings: tuple[str, ...] = ()
    fits: tuple[PartFit, ...] = ()  # every fit, in part order
    photo_landmarks: np.ndarray | None = None
    reference_landmarks: np.ndarray | None = None
    reference: np.ndarray | None = None  # the reference photo's RGB pixels (what a transplant moves in)

    @property
    def note(self) -> str:
        named = ", ".join(self.parts[:-1]) + " and " + self.parts[-1] if len(self.parts) > 1 else self.parts[0]
        return f"{named} from the reference (landmarks fit within {self.residual:.1f} px)"


def largest_face(rgb: np.ndarray, which: str) -> np.ndarray:
    """The 68 landmarks of the largest face in `rgb`, or a ValueError naming `which` image."""
    from .face import detect_faces, grey_image
    from .face.detect import MIN_IMAGE_SIDE

    faces = detect_faces(grey_image(rgb)) if min(rgb.shape[:2]) >= MIN_IMAGE_SIDE else []
    if not faces:
        raise ValueError(f"no face found in the {which} (faces smaller than about 40 px are not detected)")
    return faces[0].landmarks


def reference_layers(photo: np.ndarray, reference: np.ndarray, parts: list[str] | tuple[str, ...],
                     detector=None, joint: bool = False, seed: int = 0) -> ReferenceLayers:
    """Mask, sketch and colour at `photo`'s size from `reference`'s `parts` (RGB uint8 both).
    Raises ValueError naming the image without a face, an unknown part, or a reference too small."""
    from sketch import soft_edges, thin_lines

    parts = tuple(dict.fromkeys(parts))
    if not parts:
        raise ValueError(f"no part was named; choose from {', '.join(REFERENCE_PARTS)}")
    unknown = [p for p in parts if p not in PART_GROUPS]
    if unknown:
        raise ValueError(f"unknown part(s) {', '.join(map(repr, unknown))}; choose from {', '.join(REFERENCE_PARTS)}")
    if min(reference.shape[:2]) < MIN_REFERENCE_SIDE:
        h, w = reference.shape[:2]
        raise ValueError(f"the reference is {w}×{h}; it must be at least {MIN_REFERENCE_SIDE} px on each side")
    photo_lm, ref_lm = largest_face(photo, "photo"), largest_face(reference, "reference")
    shape, ref_shape = photo.shape[:2], reference.shape[:2]
    mask, sketch = np.zeros(shape, bool), np.zeros(shape, bool)
    color, dabs = np.zeros((*shape, 3), np.uint8), np.zeros(shape, np.uint8)
    rng = np.random.default_rng(seed)
    eye_gap = eye_distance(photo_lm)
    radius = max(1, round(0.03 * eye_gap))
    residual, all_fits = 0.0, []
    for part in parts:
        fits = fit_part(photo_lm, ref_lm, part, joint)
        all_fits += fits
        own = draw_parts(photo_lm, shape, [part])
        part_mask = own.copy()
        for fit, region in zip(fits, regions_of(ref_lm, ref_shape, part, fits)):
            residual = max(residual, fit.residual)
            ys, xs = np.nonzero(region)
            x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
            corners = apply_affine(fit.matrix, np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64))
            pad = 2 * radius + 2
            box = (int(max(0, np.floor(corners[:, 0].min()) - pad)), int(max(0, np.floor(corners[:, 1].min()) - pad)),
                   int(min(shape[1], np.ceil(corners[:, 0].max()) + pad)), int(min(shape[0], np.ceil(corners[:, 1].max()) + pad)))
            if box[2] <= box[0] or box[3] <= box[1]:
                continue  # the warped part falls outside the photo
            bx0, by0, bx1, by1 = box
            crop = (slice(y0, y1), slice(x0, x1))
            to_crop = fit.matrix.copy()
            to_crop[:, 2] += fit.matrix[:, :2] @ (x0, y0)  # crop pixels → photo pixels
            warped_region = warp_into(region[crop].astype(np.uint8), to_crop, box, cv2.INTER_NEAREST) > 0
            part_mask[by0:by1, bx0:bx1] |= warped_region
            edges = soft_edges(reference[crop], detector) * region[crop]
            lines = thin_lines(warp_into(edges.astype(np.float32), to_crop, box))
            sketch[by0:by1, bx0:bx1] |= lines & warped_region
            inner = cv2.erode(region[crop].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            py, px = np.nonzero(inner if inner.any() else region[crop])
            for k in rng.choice(py.size, size=min(DABS_PER_PART // len(fits), py.size), replace=False):
                y, x = py[k], px[k]
                patch = reference[crop][max(0, y - 1):y + 2, max(0, x - 1):x + 2].reshape(-1, 3)
                cx, cy = to_crop[:, :2] @ (x, y) + to_crop[:, 2]
                centre = (int(round(cx)), int(round(cy)))
                cv2.circle(color, centre, radius, tuple(int(v) for v in np.median(patch, axis=0)), -1)
                cv2.circle(dabs, centre, radius, 1, -1)
        mask |= grow_mask(part_mask, part_margin(own))
    warnings = []
    if residual > RESIDUAL_WARNING * eye_gap:
        warnings.append(f"the reference's parts fit the photo's loosely ({residual:.1f} px off): "
                        "check the lines before you run")
    difference = abs(turn(photo_lm) - turn(ref_lm))
    if difference > TURN_WARNING:
        warnings.append("the reference face is turned differently from the photo's: its part may look "
                        "turned once moved in")
    color_mask = dabs > 0
    return ReferenceLayers(mask, sketch & mask, color, color_mask & mask, parts, residual, tuple(warnings),
                           tuple(all_fits), photo_lm, ref_lm, reference)


def warp_reference(reference: np.ndarray, layers: ReferenceLayers) -> np.ndarray:
    """The reference photo moved onto the photo inside `layers.mask`, each pixel by the fit of
    the nearest landmark group (what pasting its real part in looks like); 0 elsewhere."""
    shape = layers.mask.shape
    ys, xs = np.nonzero(layers.mask)
    out = np.zeros((*shape, 3), np.uint8)
    if ys.size == 0 or not layers.fits:
        return out
    centres = np.array([layers.photo_landmarks[f.points].mean(0) for f in layers.fits])
    nearest = np.stack([np.hypot(xs - cx, ys - cy) for cx, cy in centres]).argmin(0)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    for k, fit in enumerate(layers.fits):
        mine = nearest == k
        if mine.any():
            moved = warp_into(reference, fit.matrix, box, cv2.INTER_CUBIC)  # its own sharpness, not a blur
            out[ys[mine], xs[mine]] = moved[ys[mine] - box[1], xs[mine] - box[0]]
    return out
