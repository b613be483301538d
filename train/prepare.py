"""Decode a folder of face images once into a compact training cache, at the editor's geometry.

    python -m train.prepare --data DIR --out CACHE [--size 256] [--align] [--detector auto|hed|gradient] [--limit N]

Writes, for N images of side S:

* CACHE/images.npy     N×S×S×3 uint8: with `--align`, each face aligned to the editor's
                       canonical frame (`inpaint.face.face_frame`, the frame `Editor.edit`
                       serves); a face that is not found stays a centre crop;
* CACHE/aligned.npy    N uint8: 1 = aligned, 0 = centre crop (no face found, or no `--align`);
* CACHE/landmarks.npy  N×68×2 float32: the 68 landmarks in the cached image's pixels
                       (NaN where no face was found), for face-part training masks;
* CACHE/lines.npy      thin edge lines (bit-packed) of the cached image;
* CACHE/done.npy       0 = to do, 1 = ready, 2 = unreadable; and CACHE/meta.json.

Images are prepared in an interleaved order (every `INTERLEAVE`-th file first, then the
next offset, …), so a cache that is still being written already holds a spread of every
source (the held-out validation faces, `train.data.is_holdout`, come first), and training can start on it (`train.data.CacheSource` reads only finished images).
Run it again to resume: finished images are skipped. Unreadable files are listed in
CACHE/unreadable.txt and skipped by the loader.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from tqdm import tqdm

from inpaint.imageio import list_images, square_resize

from .data import edge_lines, is_holdout

FORMAT_VERSION = 2
FLUSH_EVERY = 256
INTERLEAVE = 16
NO_LANDMARKS = np.full((68, 2), np.nan, np.float32)


def aligned_face(rgb: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The largest face of `rgb` in the canonical frame: (size×size×3 uint8, its 68
    landmarks in frame pixels), or None when no face is found. Raises
    FaceDetectorUnavailable without dlib."""
    from inpaint.face import detect_faces, face_frame, grey_image
    from inpaint.face.detect import MIN_IMAGE_SIDE
    from inpaint.frame import apply_affine, to_frame

    if min(rgb.shape[:2]) < MIN_IMAGE_SIDE:
        return None
    faces = detect_faces(grey_image(rgb))
    if not faces:
        return None
    frame = face_frame(faces[0].landmarks, size)
    landmarks = apply_affine(frame.matrix, faces[0].landmarks)
    return to_frame(rgb, frame), landmarks.astype(np.float32)


def crop_landmarks(image: np.ndarray) -> np.ndarray:
    """Landmarks of the largest face found in an unaligned crop (NaN when none)."""
    from inpaint.face import detect_faces, grey_image

    faces = detect_faces(grey_image(image))
    return faces[0].landmarks.astype(np.float32) if faces else NO_LANDMARKS


def interleaved(indices: np.ndarray, every: int = INTERLEAVE) -> np.ndarray:
    """`indices` ordered by (index mod `every`, index): a balanced subset of the sorted files first."""
    return indices[np.lexsort((indices, indices % every))]


def open_cache(out: Path, files: list[Path], root: Path, size: int, detector: str, align: bool):
    """Create the cache, or reopen it when it was made from the same files with the same settings."""
    meta = {"format_version": FORMAT_VERSION, "size": size, "detector": detector, "align": align,
            "root": str(root), "files": [str(p.relative_to(root)) for p in files]}
    meta_path = out / "meta.json"
    if meta_path.is_file():
        old = json.loads(meta_path.read_text())
        if {k: old.get(k) for k in meta} != meta:
            raise SystemExit(f"{out} holds a cache made from other files or settings; choose another --out")
        mode = "r+"
    else:
        out.mkdir(parents=True, exist_ok=True)
        mode = "w+"
    n = len(files)
    arrays = {
        "images": open_memmap(out / "images.npy", mode, np.uint8, (n, size, size, 3)),
        "lines": open_memmap(out / "lines.npy", mode, np.uint8, (n, size, (size + 7) // 8)),
        "landmarks": open_memmap(out / "landmarks.npy", mode, np.float32, (n, 68, 2)),
        "aligned": open_memmap(out / "aligned.npy", mode, np.uint8, (n,)),
        "done": open_memmap(out / "done.npy", mode, np.uint8, (n,)),
    }
    if mode == "w+":
        meta_path.write_text(json.dumps(meta) + "\n")
    return arrays


def prepare_one(rgb: np.ndarray, size: int, align: bool, detector) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray]:
    """(image, landmarks, aligned?, thin lines) of one decoded photo."""
    face = aligned_face(rgb, size) if align else None
    if face is not None:
        image, landmarks = face
    else:
        image = square_resize(rgb, size)
        landmarks = crop_landmarks(image) if align else NO_LANDMARKS
    return image, landmarks, face is not None, edge_lines(image, detector)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.prepare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, type=Path, help="folder of images (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="cache folder to write")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--align", action="store_true", help="align faces to the editor's frame and keep landmarks (dlib)")
    p.add_argument("--detector", default="auto", choices=["auto", "hed", "gradient"], help="edge detector")
    p.add_argument("--limit", type=int, help="only the first N images (sorted by path)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from inpaint.imageio import to_rgb
    from sketch import get_detector

    files = list_images(args.data)[: args.limit]
    if not files:
        print(f"error: no images under {args.data}", file=sys.stderr)
        return 2
    detector = get_detector(None if args.detector == "auto" else args.detector)
    cache = open_cache(args.out, files, args.data, args.size, detector.name, args.align)
    done = cache["done"]
    todo = interleaved(np.flatnonzero(done[:] == 0))
    todo = np.concatenate([todo[is_holdout(todo)], todo[~is_holdout(todo)]])  # validation faces first
    unreadable = []
    progress = tqdm(todo, desc="prepare", unit="img", initial=len(files) - len(todo), total=len(files))
    for count, i in enumerate(progress, start=1):
        try:
            rgb = to_rgb(files[i])
        except ValueError as exc:
            unreadable.append(f"{files[i]}\t{exc}")
            done[i] = 2
            continue
        image, landmarks, aligned, lines = prepare_one(rgb, args.size, args.align, detector)
        cache["images"][i], cache["landmarks"][i], cache["aligned"][i] = image, landmarks, aligned
        cache["lines"][i] = np.packbits(lines, axis=-1)
        done[i] = 1  # written last: an interrupted image is redone on resume
        if count % FLUSH_EVERY == 0:
            for array in cache.values():
                array.flush()
    for array in cache.values():
        array.flush()
    if unreadable:
        with open(args.out / "unreadable.txt", "a") as handle:
            handle.write("\n".join(unreadable) + "\n")
    ready = done[:] == 1
    print(f"{int(ready.sum())} of {len(files)} images ready in {args.out} ({detector.name} edges, "
          f"{int((cache['aligned'][:] == 1).sum())} aligned); {int((done[:] == 2).sum())} unreadable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
