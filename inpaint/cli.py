"""Command line: `python -m inpaint --image in.jpg --mask mask.png [--sketch s.png] [--color c.png]
[--out out.png] [--weights ...] [--faithfulness 0.5] [--no-align]`, or the same with folders
(masks, sketches and colour layers matched to images by file stem).

Bad input exits with status 2 and one line on stderr saying what is wrong; no traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from .editor import Editor
from .imageio import open_image
from .weights import WeightsError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


class UsageError(ValueError):
    pass


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m inpaint", description="Redraw the masked region of a face photo.")
    p.add_argument("--image", required=True, type=Path, help="photo, or a folder of photos")
    p.add_argument("--mask", required=True, type=Path, help="mask (white/opaque = redraw), or a folder of masks")
    p.add_argument("--sketch", type=Path, help="sketch strokes (white/opaque = line), file or folder")
    p.add_argument("--color", type=Path, help="RGBA colour hints (opaque = hint), file or folder")
    p.add_argument("--out", type=Path, help="output file (default: IMAGE_edited.png) or folder")
    p.add_argument("--weights", help='weights: a .safetensors path or "hub:owner/name" (default: embedded)')
    p.add_argument("--faithfulness", type=float, default=0.5, help="0 = follow the sketch exactly, 1 = loosely")
    p.add_argument("--no-align", action="store_true", help="run on the whole image instead of the face")
    return p.parse_args(argv)


def _by_stem(folder: Path | None) -> dict[str, Path]:
    if folder is None:
        return {}
    if not folder.is_dir():
        raise UsageError(f"{folder}: expected a folder (the image argument is a folder)")
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def _jobs(args: argparse.Namespace) -> list[tuple[Path, Path, Path | None, Path | None, Path]]:
    if not args.image.exists():
        raise UsageError(f"{args.image}: no such file or folder")
    if args.image.is_dir():
        images = _by_stem(args.image)
        masks, sketches, colors = _by_stem(args.mask), _by_stem(args.sketch), _by_stem(args.color)
        if not images:
            raise UsageError(f"{args.image}: no images in this folder")
        unmatched = sorted(set(images) - set(masks))
        if unmatched:
            raise UsageError(f"no mask in {args.mask} for {len(unmatched)} image(s), e.g. {unmatched[0]}")
        out_dir = args.out or args.image.with_name(args.image.name + "_edited")
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"{out_dir}: exists and is not a folder")
        return [
            (path, masks[stem], sketches.get(stem), colors.get(stem), out_dir / f"{stem}.png")
            for stem, path in images.items()
        ]
    out = args.out or args.image.with_name(args.image.stem + "_edited.png")
    return [(args.image, args.mask, args.sketch, args.color, out)]


def _edit_one(editor: Editor, job: tuple, args: argparse.Namespace) -> str:
    image_path, mask_path, sketch_path, color_path, out_path = job
    limits = (editor.max_side, editor.max_pixels)
    image = open_image(image_path, *limits)
    mask = open_image(mask_path, *limits)
    sketch = None if sketch_path is None else open_image(sketch_path, *limits)
    color = None if color_path is None else open_image(color_path, *limits)
    try:
        result = editor.edit(image, mask, sketch, color, args.faithfulness, align=not args.no_align)
    except ValueError as exc:
        raise UsageError(f"{image_path}: {exc}") from None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result.save(out_path)
    info = editor.last_info
    return f"{out_path} ({info.engine}, {info.path}, {sum(info.ms.values()):.0f} ms)"


def run(args: argparse.Namespace) -> int:
    """Single file: any problem is fatal. Folder: bad files are reported and skipped, the
    rest are still written, and the exit status is 2 if any failed."""
    jobs = _jobs(args)
    editor = Editor.load(args.weights)
    failures = 0
    if len(jobs) == 1:
        print(_edit_one(editor, jobs[0], args))
    else:
        for job in tqdm(jobs, unit="img"):
            try:
                _edit_one(editor, job, args)
            except (ValueError, OSError) as exc:
                failures += 1
                tqdm.write(f"error: {exc}", file=sys.stderr)
        print(f"{len(jobs) - failures} of {len(jobs)} written to {jobs[0][4].parent}")
    if editor.warning:
        print(f"warning: {editor.warning}", file=sys.stderr)
    return 2 if failures else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s: %(message)s")
    args = parse_args(argv)
    try:
        return run(args)
    except (ValueError, WeightsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
