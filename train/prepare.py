"""Decode a folder of face images once into a compact training cache.

    python -m train.prepare --data DIR --out CACHE [--size 256] [--align] [--detector auto|hed|gradient] [--limit N]

Writes CACHE/images.npy (N×S×S×3 uint8), CACHE/lines.npy (thin edge lines, bit-packed),
CACHE/done.npy (0 = to do, 1 = ready, 2 = unreadable) and CACHE/meta.json. Run it again
to resume: finished images are skipped. Unreadable files are listed in
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

from .data import edge_lines, list_images, square_resize

FORMAT_VERSION = 1
FLUSH_EVERY = 256


def _aligned(rgb: np.ndarray, size: int) -> np.ndarray | None:
    from inpaint.face import align_face

    result = align_face(rgb, size)
    return None if result is None else result[0]


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
    images = open_memmap(out / "images.npy", mode, np.uint8, (n, size, size, 3))
    lines = open_memmap(out / "lines.npy", mode, np.uint8, (n, size, (size + 7) // 8))
    done = open_memmap(out / "done.npy", mode, np.uint8, (n,))
    if mode == "w+":
        meta_path.write_text(json.dumps(meta) + "\n")
    return images, lines, done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.prepare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, type=Path, help="folder of images (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="cache folder to write")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--align", action="store_true", help="align faces to the model's frame (dlib)")
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
    images, lines, done = open_cache(args.out, files, args.data, args.size, detector.name, args.align)
    todo = np.flatnonzero(done[:] == 0)
    unreadable = []
    for count, i in enumerate(tqdm(todo, desc="prepare", unit="img", initial=len(files) - len(todo),
                                   total=len(files)), start=1):
        try:
            rgb = to_rgb(files[i])
        except ValueError as exc:
            unreadable.append(f"{files[i]}\t{exc}")
            done[i] = 2
            continue
        face = _aligned(rgb, args.size) if args.align else None
        image = face if face is not None else square_resize(rgb, args.size)
        images[i] = image
        lines[i] = np.packbits(edge_lines(image, detector), axis=-1)
        done[i] = 1
        if count % FLUSH_EVERY == 0:
            images.flush(), lines.flush(), done.flush()
    images.flush(), lines.flush(), done.flush()
    if unreadable:
        with open(args.out / "unreadable.txt", "a") as handle:
            handle.write("\n".join(unreadable) + "\n")
    ready = int((done[:] == 1).sum())
    print(f"{ready} of {len(files)} images ready in {args.out} ({detector.name} edges); "
          f"{int((done[:] == 2).sum())} unreadable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
