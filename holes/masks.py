"""Hole masks for training and evaluation: bool H×W arrays, True = hole.

Three families of primitives, drawn with OpenCV into one uint8 canvas:

* free-form brush strokes in the manner of DeepFill v2: a zig-zag polyline whose segments
  alternate between an upward and a downward heading around a mean angle, with a random
  brush width. Two bugs of the original generator are fixed: its random flips discarded
  their result (so every stroke drifted rightwards), and it swapped height and width (so a
  non-square mask was drawn in the wrong frame). Here flips mirror the stroke's vertices,
  and x always runs over the width, y over the height;
* LaMa-style "irregular + box" masks: thick polylines with free headings, and rectangles;
* face-region blobs: ellipses over the eyes, nose and mouth of the canonical aligned face
  (or of given 68-point landmarks), the parts a user most often redraws.

`random_mask` hits a hole ratio drawn uniformly from `MaskParams.hole_ratio`: primitives are
added until the target is reached, and a primitive that overshoots the range is cut by a
random straight edge so that exactly the target number of pixels is kept.

The fixed evaluation set (one folder per PConv hole-ratio bucket) is made by
`python -m holes.masks --out DIR`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from inpaint.frame import CANONICAL
from inpaint.landmarks import GROUPS

Region = tuple[float, float, float, float]  # centre x, centre y, half-width, half-height (fractions)

# Canonical aligned face at any size: centre (x, y) and half-axes (a, b) of an ellipse over
# each region, as fractions of the side. "left" = image left. The centres come from the one
# definition of the aligned frame, `inpaint.frame.CANONICAL` (eye and mouth centres, measured
# on CelebA-HQ), so the blobs sit where the editor's aligned faces have their parts; the nose
# sits 44 % of the way from the eye line to the mouth.
_EYE_L, _EYE_R, _MOUTH = (tuple(float(v) for v in row) for row in CANONICAL)
_NOSE_Y = _EYE_L[1] + 0.44 * (_MOUTH[1] - _EYE_L[1])
FACE_REGIONS: dict[str, Region] = {
    "eye_left": (*_EYE_L, 0.09, 0.05),
    "eye_right": (*_EYE_R, 0.09, 0.05),
    "nose": ((_EYE_L[0] + _EYE_R[0]) / 2, _NOSE_Y, 0.07, 0.09),
    "mouth": (*_MOUTH, 0.13, 0.06),
}
# The same regions in the 68-point landmark scheme.
LANDMARK_GROUPS: dict[str, slice] = {name: GROUPS[name] for name in FACE_REGIONS}
LANDMARK_PAD = 1.6  # ellipse half-axis / half-extent of the landmark group
LANDMARK_MIN_AXIS = 0.04  # fraction of the side; eyes are thin in landmarks

# PConv's evaluation buckets of hole ratio, each (lo, hi]
BUCKETS: tuple[tuple[float, float], ...] = ((0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))
KINDS = ("free_form", "irregular", "box", "face")
MAX_PRIMITIVES = 64


@dataclass(frozen=True)
class MaskParams:
    """Mask mixture and shape parameters; lengths and widths are fractions of the shorter side."""

    hole_ratio: tuple[float, float] = (0.02, 0.6)  # the ratio is drawn uniformly in (lo, hi]
    weights: dict[str, float] = field(
        default_factory=lambda: {"free_form": 0.35, "irregular": 0.25, "box": 0.15, "face": 0.25}
    )
    mix: float = 0.3  # chance that each primitive after the first is of a kind drawn afresh from `weights`
    flip: float = 0.5  # per-axis chance of mirroring a free-form stroke
    ff_vertices: tuple[int, int] = (4, 12)
    ff_length: float = 0.12  # mean segment length (normal, sd = half of it, clipped at 0 and 2× mean)
    ff_width: tuple[float, float] = (0.04, 0.12)
    ff_angle: float = 2 * math.pi / 5  # mean heading of a segment, alternately up and down
    ff_angle_range: float = 2 * math.pi / 15
    irr_vertices: tuple[int, int] = (1, 5)
    irr_length: tuple[float, float] = (0.1, 0.45)
    irr_width: tuple[float, float] = (0.03, 0.15)
    box_side: tuple[float, float] = (0.1, 0.45)
    box_margin: float = 0.03
    face_regions: dict[str, Region] = field(default_factory=lambda: dict(FACE_REGIONS))
    face_scale: tuple[float, float] = (1.0, 1.8)  # multiplies the region's half-axes
    face_growth: float = 1.25  # each further face blob in one mask is this much larger (big holes)
    face_jitter: float = 0.03  # centre jitter, fraction of the side
    face_tilt: float = 15.0  # degrees


def _shape(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    if h < 1 or w < 1:
        raise ValueError(f"mask size must be positive, not {size}")
    return int(h), int(w)


def free_form_stroke(canvas: np.ndarray, rng: np.random.Generator, p: MaskParams) -> None:
    """Draw one DeepFill-v2-style brush stroke into `canvas` (uint8 H×W, set to 1)."""
    h, w = canvas.shape
    side = min(h, w)
    n = int(rng.integers(p.ff_vertices[0], p.ff_vertices[1] + 1))
    width = max(1, int(round(rng.uniform(*p.ff_width) * side)))
    angles = rng.uniform(p.ff_angle - p.ff_angle_range, p.ff_angle + p.ff_angle_range, n)
    angles[::2] = 2 * math.pi - angles[::2]
    mean = p.ff_length * side
    lengths = np.clip(rng.normal(mean, mean / 2, n), 0, 2 * mean)
    pts = np.empty((n + 1, 2))
    pts[0] = rng.uniform(0, w), rng.uniform(0, h)
    for i in range(n):
        pts[i + 1, 0] = min(max(pts[i, 0] + lengths[i] * math.cos(angles[i]), 0), w - 1)
        pts[i + 1, 1] = min(max(pts[i, 1] + lengths[i] * math.sin(angles[i]), 0), h - 1)
    flip_x, flip_y = rng.random(2) < p.flip  # always drawn, so p.flip does not shift the stream
    target = np.zeros_like(canvas) if flip_x or flip_y else canvas
    pts = np.round(pts).astype(np.int32)
    cv2.polylines(target, [pts], False, 1, thickness=width)
    for x, y in pts:
        cv2.circle(target, (int(x), int(y)), width // 2, 1, thickness=-1)
    if target is not canvas:  # mirror the drawn stroke itself (the original's flips were discarded)
        canvas |= target[::-1 if flip_y else 1, ::-1 if flip_x else 1]


def irregular_stroke(canvas: np.ndarray, rng: np.random.Generator, p: MaskParams) -> None:
    """One LaMa-style thick polyline: free headings, a new length and width per segment."""
    h, w = canvas.shape
    side = min(h, w)
    n = int(rng.integers(p.irr_vertices[0], p.irr_vertices[1] + 1))
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    angles = rng.uniform(0, 2 * math.pi, n)
    lengths = rng.uniform(*p.irr_length, n) * side
    widths = np.maximum(1, np.round(rng.uniform(*p.irr_width, n) * side)).astype(int)
    for angle, length, width in zip(angles, lengths, widths):
        nx = min(max(x + length * math.cos(angle), 0), w - 1)
        ny = min(max(y + length * math.sin(angle), 0), h - 1)
        cv2.line(canvas, (round(x), round(y)), (round(nx), round(ny)), 1, thickness=int(width))
        x, y = nx, ny


def box(canvas: np.ndarray, rng: np.random.Generator, p: MaskParams) -> None:
    """One filled rectangle, kept `box_margin` away from the border."""
    h, w = canvas.shape
    bw = max(1, int(rng.uniform(*p.box_side) * w))
    bh = max(1, int(rng.uniform(*p.box_side) * h))
    mx, my = int(p.box_margin * w), int(p.box_margin * h)
    x0 = int(rng.integers(mx, max(mx, w - mx - bw) + 1))
    y0 = int(rng.integers(my, max(my, h - my - bh) + 1))
    canvas[y0 : y0 + bh, x0 : x0 + bw] = 1


def landmark_regions(landmarks: np.ndarray, size: int | tuple[int, int]) -> dict[str, Region]:
    """Face regions (same form as FACE_REGIONS, fractions) from 68×2 (x, y) pixel landmarks."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"landmarks must be 68×2 (x, y), not {pts.shape}")
    h, w = _shape(size)
    regions = {}
    for name, idx in LANDMARK_GROUPS.items():
        group = pts[idx]
        cx, cy = group.mean(axis=0)
        ax = max(np.ptp(group[:, 0]) / 2 * LANDMARK_PAD, LANDMARK_MIN_AXIS * min(h, w))
        ay = max(np.ptp(group[:, 1]) / 2 * LANDMARK_PAD, LANDMARK_MIN_AXIS * min(h, w))
        regions[name] = (cx / w, cy / h, ax / w, ay / h)
    return regions


def face_blob(canvas: np.ndarray, rng: np.random.Generator, p: MaskParams, regions=None, grow: float = 1.0) -> None:
    """One filled ellipse over a random face region (canonical positions unless `regions` given)."""
    h, w = canvas.shape
    regions = regions or p.face_regions
    names = sorted(regions)
    cx, cy, ax, ay = regions[names[int(rng.integers(len(names)))]]
    scale = rng.uniform(*p.face_scale) * grow
    jx, jy = rng.uniform(-p.face_jitter, p.face_jitter, 2)
    centre = (round((cx + jx) * w), round((cy + jy) * h))
    axes = (max(1, round(ax * scale * w)), max(1, round(ay * scale * h)))
    cv2.ellipse(canvas, centre, axes, float(rng.uniform(-p.face_tilt, p.face_tilt)), 0, 360, 1, thickness=-1)


def _ratio_bounds(lo: float, hi: float, total: int) -> tuple[int, int]:
    """Smallest and largest hole-pixel counts whose ratio lies in (lo, hi]."""
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"hole_ratio must satisfy 0 <= lo < hi <= 1, not ({lo}, {hi})")
    need_lo, need_hi = math.floor(lo * total) + 1, math.floor(hi * total)
    while need_lo / total <= lo:
        need_lo += 1
    while need_hi / total > hi:
        need_hi -= 1
    if need_lo > need_hi:
        raise ValueError(f"no pixel count of a {total}-pixel mask has a ratio in ({lo}, {hi}]")
    return need_lo, need_hi


def _cut(before: np.ndarray, after: np.ndarray, keep: int, rng: np.random.Generator) -> np.ndarray:
    """`before` plus the `keep` newly drawn pixels nearest to the existing hole (so the cut part
    grows out of it rather than floating apart), ties and a first primitive split by a random line."""
    ys, xs = np.nonzero(after > before)
    theta = rng.uniform(0, 2 * math.pi)
    key = (xs * math.cos(theta) + ys * math.sin(theta)) * 1e-3
    if before.any():
        key = key + cv2.distanceTransform((before == 0).astype(np.uint8), cv2.DIST_L2, 3)[ys, xs]
    idx = np.argpartition(key, keep - 1)[:keep] if keep < len(key) else slice(None)
    out = before.copy()
    out[ys[idx], xs[idx]] = 1
    return out


def random_mask(
    rng: np.random.Generator,
    size: int | tuple[int, int],
    params: MaskParams = MaskParams(),
    landmarks: np.ndarray | None = None,
) -> np.ndarray:
    """A bool mask (True = hole) of `size` (side or (H, W)) whose hole ratio lies in `params.hole_ratio`.

    `landmarks` (68×2 pixel (x, y)) place the face blobs on the real face instead of the
    canonical positions."""
    h, w = _shape(size)
    total = h * w
    need_lo, need_hi = _ratio_bounds(*params.hole_ratio, total)
    target = int(rng.integers(need_lo, need_hi + 1))
    kinds = [k for k in KINDS if params.weights.get(k, 0) > 0]
    if not kinds:
        raise ValueError(f"MaskParams.weights gives no positive weight to any of {KINDS}")
    probs = np.array([params.weights[k] for k in kinds], dtype=np.float64)
    probs /= probs.sum()
    regions = landmark_regions(landmarks, (h, w)) if landmarks is not None else None

    canvas = np.zeros((h, w), np.uint8)
    before = canvas
    primary = kinds[int(rng.choice(len(kinds), p=probs))]
    faces = 0
    count = 0
    for step in range(MAX_PRIMITIVES):
        kind = primary if step == 0 or rng.random() >= params.mix else kinds[int(rng.choice(len(kinds), p=probs))]
        before = canvas.copy()
        if kind == "free_form":
            free_form_stroke(canvas, rng, params)
        elif kind == "irregular":
            irregular_stroke(canvas, rng, params)
        elif kind == "box":
            box(canvas, rng, params)
        else:
            face_blob(canvas, rng, params, regions, params.face_growth**faces)
            faces += 1
        count = cv2.countNonZero(canvas)
        if count >= target:
            break
    kernel = np.ones((3, 3), np.uint8)
    while count < target:  # rare: many tiny primitives; grow what is there
        if count == 0:
            canvas[h // 2, w // 2] = 1
        before = canvas
        canvas = cv2.dilate(canvas, kernel)
        count = cv2.countNonZero(canvas)
    if count > need_hi:
        canvas = _cut(before, canvas, target - cv2.countNonZero(before), rng)
    return canvas.astype(bool)


# ---- the fixed evaluation set ---------------------------------------------------------------

def bucket_name(lo: float, hi: float) -> str:
    return f"{lo:g}-{hi:g}"


def bucket_masks(seed: int = 0, size: int = 256, per_bucket: int = 50,
                 params: MaskParams = MaskParams()) -> dict[str, list[np.ndarray]]:
    """The evaluation masks of every bucket; bucket i draws from its own stream (seed, i)."""
    out = {}
    for i, (lo, hi) in enumerate(BUCKETS):
        rng = np.random.default_rng([seed, i])
        bucket_params = replace(params, hole_ratio=(lo, hi))
        out[bucket_name(lo, hi)] = [random_mask(rng, size, bucket_params) for _ in range(per_bucket)]
    return out


def fingerprint(masks: dict[str, list[np.ndarray]]) -> str:
    """sha256 over every mask (in bucket and file order): names the exact evaluation set."""
    digest = hashlib.sha256()
    for name in sorted(masks, key=lambda n: float(n.split("-")[0])):
        for mask in masks[name]:
            digest.update(name.encode() + np.packbits(mask).tobytes())
    return digest.hexdigest()


def save_bucket_masks(out: str | Path, size: int = 256, per_bucket: int = 50, seed: int = 0) -> dict[str, list[Path]]:
    """Write `out/b<lo>-<hi>/NNNN.png` (255 = hole) and `out/manifest.json`; returns the paths."""
    out = Path(out)
    masks = bucket_masks(seed, size, per_bucket)
    paths: dict[str, list[Path]] = {}
    for name, bucket in masks.items():
        folder = out / f"b{name}"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.png"):
            stale.unlink()
        paths[name] = []
        for j, mask in enumerate(bucket):
            path = folder / f"{j:04d}.png"
            cv2.imwrite(str(path), mask.astype(np.uint8) * 255)
            paths[name].append(path)
    manifest = {
        "seed": seed, "size": size, "per_bucket": per_bucket, "buckets": [list(b) for b in BUCKETS],
        "params": asdict(MaskParams()), "sha256": fingerprint(masks),
        "ratios": {name: [round(float(m.mean()), 6) for m in bucket] for name, bucket in masks.items()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return paths


def load_bucket_masks(directory: str | Path) -> dict[str, list[np.ndarray]]:
    """Read a saved evaluation set: {"0.1-0.2": [bool H×W, …], …}, buckets by hole ratio, files by name."""
    directory = Path(directory)
    folders = [f for f in directory.glob("b*-*") if f.is_dir()]
    if not folders:
        raise FileNotFoundError(f"{directory}: no bucket folders (b<lo>-<hi>); make them with python -m holes.masks")
    out = {}
    for folder in sorted(folders, key=lambda f: float(f.name[1:].split("-")[0])):
        masks = []
        for path in sorted(folder.glob("*.png")):
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise ValueError(f"{path}: not a readable PNG")
            masks.append(image > 127)
        out[folder.name[1:]] = masks
    return out


def _bench(n: int, size: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(n):
        random_mask(rng, size)
    return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m holes.masks", description="Write the fixed evaluation masks.")
    parser.add_argument("--out", type=Path, help="folder for b<lo>-<hi>/NNNN.png and manifest.json")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--per-bucket", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bench", type=int, metavar="N", help="instead: time N training masks and print masks/s")
    args = parser.parse_args(argv)
    if args.bench:
        print(f"{_bench(args.bench, args.size, args.seed):.0f} masks/s at {args.size} px")
        return 0
    if args.out is None:
        parser.error("--out is required")
    paths = save_bucket_masks(args.out, args.size, args.per_bucket, args.seed)
    print(f"wrote {sum(len(p) for p in paths.values())} masks in {len(paths)} buckets to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
