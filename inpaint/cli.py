"""Command line: `python -m inpaint --image in.jpg --mask mask.png [--sketch s.png] [--color c.png]
[--out out.png] [--weights ...] [--faithfulness 0.5] [--mode auto] [--no-align]`, or the same with folders
(masks, sketches and colour layers matched to images by file stem).

Bad input exits with status 2 and one line on stderr saying what is wrong; no traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from tqdm import tqdm

from .editor import Editor
from .registrations import REGISTRATIONS
from .imageio import IMAGE_SUFFIXES, check_file, save_image
from .inputs import MODES, REFERENCE_MODES
from .reference import REFERENCE_PARTS
from .weights import WeightsError



class UsageError(ValueError):
    pass


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    prog = "sketchface" if Path(sys.argv[0]).name == "sketchface" else "python -m inpaint"
    p = argparse.ArgumentParser(prog=prog, description="Redraw the masked region of a face photo.")
    p.add_argument("--image", required=True, type=Path, help="photo, or a folder of photos")
    p.add_argument("--mask", type=Path, help="mask (white/opaque = redraw), or a folder of masks; optional with --reference")
    p.add_argument("--sketch", type=Path, help="sketch strokes (white/opaque = line), file or folder")
    p.add_argument("--color", type=Path, help="RGBA colour hints (opaque = hint), file or folder")
    p.add_argument("--out", type=Path, help="output file (default: IMAGE_edited.png) or folder")
    p.add_argument("--weights", help='weights: a .safetensors path or "hub:owner/name" (default: embedded)')
    p.add_argument("--faithfulness", type=float, default=0.5, help="0 = follow the sketch exactly, 1 = loosely")
    p.add_argument("--mode", choices=MODES, default="auto",
                   help="reshape: move the photo's own part onto the sketch's lines; redraw: the network redraws the "
                        "mask; auto (default): reshape when the sketch matches the photo's own lines, else redraw")
    p.add_argument("--registration", choices=REGISTRATIONS, default="classical",
                   help="how a reshape finds its field: classical (default, the better measured) or learned (the "
                        "flow network shipped beside the weights)")
    p.add_argument("--no-align", action="store_true", help="run on the whole image instead of the face")
    p.add_argument("--reference", type=Path, help="a photo whose parts (--part) to move in (its own pixels, matched "
                                                  "to the photo's light); one reference for every image of a folder")
    p.add_argument("--reference-mode", choices=REFERENCE_MODES, default="pixels",
                   help="pixels (default): the reference's own part moved in; lines: the network draws it from the "
                        "reference's lines and colour dabs")
    p.add_argument("--part", action="append", choices=REFERENCE_PARTS, default=[],
                   help="a part to take from --reference (repeat for several)")
    args = p.parse_args(argv)
    if args.mask is None and args.reference is None:
        p.error("give --mask, or --reference with --part")
    if args.reference is not None and not args.part:
        p.error(f"--reference needs at least one --part ({', '.join(REFERENCE_PARTS)})")
    if args.part and args.reference is None:
        p.error("--part takes its part from --reference; give one")
    return args


Job = tuple[Path, Path | None, Path | None, Path | None, Path]  # image, mask, sketch, color, out


def _by_stem(folder: Path | None, role: str) -> tuple[dict[str, Path], list[str]]:
    """{stem: file} of a folder's images, and one problem line per stem that two files share
    (a.png and a.jpg: which one is meant cannot be guessed, so neither is used)."""
    if folder is None:
        return {}, []
    if not folder.is_dir():
        raise UsageError(f"{folder}: expected a folder (the image argument is a folder)")
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            found.setdefault(path.stem, []).append(path)
    unique = {stem: paths[0] for stem, paths in found.items() if len(paths) == 1}
    clashes = [f"{role}s {' and '.join(p.name for p in paths)} share the name {stem!r}: rename one"
               for stem, paths in found.items() if len(paths) > 1]
    return unique, clashes


def _folder_jobs(args: argparse.Namespace) -> tuple[list[Job], list[str]]:
    """(the pairs to edit, a problem line for each image that cannot be)."""
    images, problems = _by_stem(args.image, "image")
    masks, mask_clashes = _by_stem(args.mask, "mask")
    sketches, sketch_clashes = _by_stem(args.sketch, "sketch")
    colors, color_clashes = _by_stem(args.color, "color layer")
    if not images and not problems:
        raise UsageError(f"{args.image}: no images in this folder")
    out_dir = args.out or args.image.with_name(args.image.name + "_edited")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a folder")
    inputs = [f for f in (args.image, args.mask, args.sketch, args.color) if f is not None and f.is_dir()]
    if any(out_dir.resolve() == folder.resolve() for folder in inputs):
        raise UsageError(f"{out_dir}: is an input folder; choose another --out so the inputs are not overwritten")
    problems += mask_clashes + sketch_clashes + color_clashes
    jobs = []
    for stem, path in images.items():
        if stem not in masks and args.reference is None:
            problems.append(f"{path}: no mask named {stem}.* in {args.mask}; skipped")
            continue
        jobs.append((path, masks.get(stem), sketches.get(stem), colors.get(stem), out_dir / f"{stem}.png"))
    return jobs, problems


def _single_job(args: argparse.Namespace) -> Job:
    out = args.out or args.image.with_name(args.image.stem + "_edited.png")
    given = [f for f in (args.image, args.mask, args.sketch, args.color, args.reference) if f is not None]
    if out.exists() and any(out.resolve() == f.resolve() for f in given):
        raise UsageError(f"{out}: is an input file; choose another --out so it is not overwritten")
    return args.image, args.mask, args.sketch, args.color, out


def check_inputs(job: tuple, reference: Path | None = None, writable: bool = True) -> None:
    """Each input file (and the reference) readable as an image by its header, and the output
    writable: before the model loads, so a mistyped path is reported at once."""
    *inputs, out = job
    for path in filter(None, [*inputs, reference]):
        try:
            check_file(path)
        except ValueError as exc:
            text = str(exc)
            raise UsageError(text if str(path) in text else f"{path}: {text}") from None
    if writable:
        check_writable(out)


def check_writable(out: Path) -> None:
    """`out` can be written: its folder exists (or is made) and takes new files."""
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: cannot create its folder {folder} ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{out}: its folder {folder} is not writable")
    if out.is_dir():
        raise UsageError(f"{out}: is a folder; give a file name such as {out / 'edited.png'}")


def _edit_one(editor: Editor, job: Job, args: argparse.Namespace) -> str:
    image_path, mask_path, sketch_path, color_path, out_path = job
    try:
        done = editor.edit(image_path, mask_path, sketch_path, color_path, args.faithfulness,
                           align=not args.no_align, reference=args.reference, parts=args.part, mode=args.mode,
                           reference_mode=args.reference_mode, return_info=True)
    except ValueError as exc:
        text = str(exc)
        named = args.reference if args.reference is not None and "the reference" in text else image_path
        raise UsageError(text if str(named) in text else f"{named}: {text}") from None
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        save_image(done.image, out_path)
    except OSError as exc:
        raise UsageError(f"{out_path}: cannot write the result ({exc.strerror or exc})") from None
    info = done.info
    for warning in info.warnings:
        about = args.reference if args.reference is not None and warning.startswith("the reference") else image_path
        tqdm.write(f"warning: {about}: {warning}", file=sys.stderr)
    taken = f", {info.reference}" if info.reference else ""
    mode = f"{info.mode}: {info.mode_note}" if info.mode_note else info.mode
    return f"{out_path} ({info.model_name}, {mode}, {info.path}{taken}, {sum(info.ms.values()):.0f} ms)"


def run(args: argparse.Namespace) -> int:
    """Single file: any problem is fatal. Folder: bad files are reported and skipped, the
    rest are still written, and the exit status is 2 if any failed."""
    if not args.image.exists():
        raise UsageError(f"{args.image}: no such file or folder")
    if not args.image.is_dir():
        job = _single_job(args)
        check_inputs(job, args.reference)
        editor = Editor.load(args.weights, registration=args.registration)
        print(_edit_one(editor, job, args))
        if editor.warning:
            print(f"warning: {editor.warning}", file=sys.stderr)
        return 0
    jobs, problems = _folder_jobs(args)
    if args.reference is not None:
        check_inputs((args.reference, args.image / "probe.png"), None, writable=False)
    out_dir = args.out or args.image.with_name(args.image.name + "_edited")
    check_writable(out_dir / "probe.png")
    editor = Editor.load(args.weights, registration=args.registration)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    failures = len(problems)
    for job in tqdm(jobs, unit="img"):
        try:
            _edit_one(editor, job, args)
        except (ValueError, OSError) as exc:
            failures += 1
            tqdm.write(f"error: {exc}", file=sys.stderr)
    print(f"{len(jobs) + len(problems) - failures} of {len(jobs) + len(problems)} written to {out_dir}")
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
