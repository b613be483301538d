"""Pack a training subset small enough to travel to a lent GPU, and unpack it there.

    python -m release.pack --cache CACHE --out .pack [--max-mib 42] [--format webp|jpeg] [--quality 85]   (here)
    python -m release.pack --unpack .pack --out /tmp/cache               (on the device)

The device gets the working tree and at most 64 MiB in all, and cannot reach
`../shared` or `~/.cache`. A pack holds faces of a `train.prepare` cache, encoded (below;
196 KB a face raw), their lines (bit-packed, compressed) and
landmarks, which faces are held out for validation, and the first three VGG16 stages the
perceptual loss uses (`vgg.safetensors`, fp16), taken from the HED weights here: that
machine has no HED cache. Faces are WebP at quality 85 by default: 6.7 KB a face at 40 dB
PSNR (JPEG 95, the old form: 18.9 KB at 45 dB; measured on 150 cached faces, sharpness kept
within 2 %), so 5,000 faces and their lines fit in ~41 MiB beside the working tree. Faces are taken in an even spread over the cache, held-out faces
first. `--unpack` writes a cache `train.fit` reads as usual.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from train.data import is_holdout

FORMATS = {"webp": cv2.IMWRITE_WEBP_QUALITY, "jpeg": cv2.IMWRITE_JPEG_QUALITY}
FACES_FILE, VGG_FILE = "faces.npz", "vgg.safetensors"


def _encode(image: np.ndarray, image_format: str = "webp", quality: int = 85) -> bytes:
    suffix = ".jpg" if image_format == "jpeg" else "." + image_format
    ok, data = cv2.imencode(suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [FORMATS[image_format], quality])
    if not ok:
        raise ValueError(f"{image_format} encoding failed")
    return data.tobytes()


def pack(cache: Path, out: Path, max_mib: float = 40.0, vgg: str = "hed", image_format: str = "webp",
         quality: int = 85) -> dict:
    """Write out/faces.npz (+ out/vgg.safetensors unless vgg is "none"); returns a summary."""
    done = np.load(cache / "done.npy")
    ready = np.flatnonzero(done == 1)
    if ready.size == 0:
        raise ValueError(f"{cache}: no prepared images")
    order = np.concatenate([ready[is_holdout(ready)], ready[~is_holdout(ready)]])
    held = int(is_holdout(ready).sum())
    rest = order[held:]
    images = np.load(cache / "images.npy", mmap_mode="r")
    lines = np.load(cache / "lines.npy", mmap_mode="r")
    landmarks = np.load(cache / "landmarks.npy", mmap_mode="r")
    budget = max_mib * 2**20
    # an even spread over the cache: a stride through the non-held-out faces, refined until full
    sample = _encode(np.asarray(images[rest[0]]), image_format, quality)
    estimate = max(1, int(budget / (len(sample) + 1800)))  # image + compressed lines + landmarks
    picks = rest[np.unique(np.linspace(0, len(rest) - 1, min(len(rest), estimate)).astype(int))]
    chosen = np.concatenate([order[:held], picks])
    blobs, size = [], 0
    for i in chosen:
        blob = _encode(np.asarray(images[i]), image_format, quality)
        if size + len(blob) + 1800 > budget:
            break
        blobs.append(blob)
        size += len(blob) + 1800
    chosen = chosen[: len(blobs)]
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / FACES_FILE, encoded=np.frombuffer(b"".join(blobs), np.uint8), offsets=offsets,
                        lines=np.asarray(lines[chosen]), landmarks=np.asarray(landmarks[chosen]),
                        holdout=is_holdout(chosen), source_index=chosen,
                        meta=np.frombuffer(json.dumps(json.loads((cache / "meta.json").read_text()) | {"files": []})
                                           .encode(), np.uint8))
    if vgg != "none":
        from train.losses import VGGFeatures

        VGGFeatures(vgg).save(out / VGG_FILE)
    return {"faces": len(blobs), "held_out": int(is_holdout(chosen).sum()), "format": f"{image_format} {quality}",
            "mib": round(sum(p.stat().st_size for p in out.iterdir()) / 2**20, 1)}


def unpack(folder: Path, out: Path) -> int:
    """Write a `train.prepare`-style cache from a pack; returns the number of faces."""
    with np.load(folder / FACES_FILE) as z:
        encoded, offsets = z["encoded" if "encoded" in z else "jpeg"], z["offsets"]  # older packs: JPEG
        lines, landmarks, holdout = z["lines"], z["landmarks"], z["holdout"]
        meta = json.loads(z["meta"].tobytes())
    n = len(offsets) - 1
    first = cv2.imdecode(encoded[offsets[0]:offsets[1]], cv2.IMREAD_COLOR)
    if first is None:
        raise ValueError(f"{folder}: this OpenCV cannot decode the packed faces; pack them with --format jpeg")
    images = np.empty((n,) + first.shape, np.uint8)
    for k in range(n):
        images[k] = cv2.cvtColor(cv2.imdecode(encoded[offsets[k]:offsets[k + 1]], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "images.npy", images)
    np.save(out / "lines.npy", lines)
    np.save(out / "landmarks.npy", landmarks)
    np.save(out / "aligned.npy", np.isfinite(landmarks).all(axis=(1, 2)).astype(np.uint8))
    np.save(out / "done.npy", np.ones(n, np.uint8))
    np.save(out / "holdout.npy", holdout)
    (out / "meta.json").write_text(json.dumps(meta | {"files": [f"packed/{k}" for k in range(n)]}) + "\n")
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m release.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", type=Path, help="a train.prepare cache to pack")
    p.add_argument("--unpack", type=Path, help="a pack to turn back into a cache")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-mib", type=float, default=40.0, help="size budget of the faces")
    p.add_argument("--format", default="webp", choices=sorted(FORMATS), help="how faces are stored")
    p.add_argument("--quality", type=int, default=85, help="their encoding quality")
    p.add_argument("--vgg", default="hed", help="VGG16 weights to pack for the perceptual loss (hed, random, none)")
    args = p.parse_args(argv)
    if (args.cache is None) == (args.unpack is None):
        p.error("give exactly one of --cache and --unpack")
    try:
        if args.cache is not None:
            print(json.dumps(pack(args.cache, args.out, args.max_mib, args.vgg, args.format, args.quality)))
        else:
            print(f"unpacked {unpack(args.unpack, args.out)} faces into {args.out}")
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
