"""Publish a generator checkpoint to a Hugging Face Hub model repo, with a model card.

    python -m release.push RUN_OR_CHECKPOINT --repo owner/name [--dry-run] [--private]

RUN_OR_CHECKPOINT is a `.safetensors` checkpoint (with its `.json`, as written by
`inpaint.weights.save_checkpoint`) or a folder holding exactly one, directly or in its
`export/` subfolder. The repo receives `default.safetensors`, `default.json` and a
generated `README.md`, the names `inpaint.weights.download_from_hub` looks for.
`--dry-run` stages the exact files in a local folder and lists them, then lists the
Space this checkout deploys as (its tracked files, by folder, against the Hub's 10 MiB
limit for files outside Git LFS); no network.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from inpaint.weights import DEFAULT_NAME, HUB_REPO_ENV, Checkpoint, WeightsError, read_checkpoint

ROOT = Path(__file__).resolve().parent.parent
HUB_FILE_LIMIT = 10 * 2**20  # bytes: larger files need Git LFS on the Hub
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
TAGS = ("image-inpainting", "face-editing", "sketch-guided", "partial-convolution", "safetensors", "sketchface")
DATASETS = (
    ("CelebAMask-HQ / CelebA-HQ", "C.-H. Lee, Z. Liu, L. Wu, P. Luo. MaskGAN: Towards Diverse and Interactive "
     "Facial Image Manipulation. CVPR 2020; T. Karras, T. Aila, S. Laine, J. Lehtinen. Progressive Growing of "
     "GANs for Improved Quality, Stability, and Variation. ICLR 2018"),
    ("SCUT-FBP5500", "L. Liang, L. Lin, L. Jin, D. Xie, M. Li. SCUT-FBP5500: A Diverse Benchmark Dataset for "
     "Multi-Paradigm Facial Beauty Prediction. ICPR 2018"),
    ("MEBeauty", "I. Lebedeva, F. Ying, Y. Guo. MEBeauty: a multi-ethnic facial beauty dataset in-the-wild. 2021"),
    ("FS2K", "D.-P. Fan et al. Deep Facial Synthesis: A New Challenge. 2022"),
    ("UTKFace", "Z. Zhang, Y. Song, H. Qi. Age Progression/Regression by Conditional Adversarial Autoencoder. "
     "CVPR 2017"),
)


class PushError(ValueError):
    """The thing to publish is missing, ambiguous or not a usable checkpoint."""


def find_checkpoint(source: str | Path) -> Path:
    """The `.safetensors` file meant by a checkpoint path (or its `.json`) or a run/export folder."""
    source = Path(source)
    if source.is_file():
        path = source.with_suffix(".safetensors") if source.suffix == ".json" else source
        if path.suffix != ".safetensors" or not path.is_file():
            raise PushError(f"{source}: expected a .safetensors checkpoint (or its .json)")
        return path
    if not source.is_dir():
        raise PushError(f"{source}: no such checkpoint or run folder")
    for folder in (source, source / "export"):
        found = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
        if len(found) > 1:
            raise PushError(f"{folder}: {len(found)} .safetensors files ({', '.join(f.name for f in found)}); name one")
        if found:
            return found[0]
    raise PushError(f"{source}: no .safetensors checkpoint in it or in its export/ folder")


def find_results(checkpoint: Path, source: Path | None = None) -> Path | None:
    """An evaluation `results.md` beside the checkpoint, beside its export/ folder, or in the run folder."""
    places = [checkpoint.parent]
    if checkpoint.parent.name == "export":
        places.append(checkpoint.parent.parent)
    if source is not None and source.is_dir():
        places.append(source)
    for place in places:
        if (place / "results.md").is_file():
            return place / "results.md"
    for place in places[1:]:
        nested = sorted(place.glob("*/results.md"))
        if nested:
            return nested[0]
    return None


def _value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("|", "\\|")


def _parameters(checkpoint: Checkpoint) -> int:
    return sum(t.numel() for k, t in checkpoint.state_dict.items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))


def model_card(checkpoint: Checkpoint, repo_id: str, results_md: str | None = None) -> str:
    """The README.md of the Hub repo: front matter, architecture, training, evaluation, data terms."""
    config = checkpoint.config.to_dict()
    meta = checkpoint.meta
    training = meta.get("training") or {}
    lines = [
        "---",
        "license: other",
        "license_name: non-commercial-research",
        "library_name: pytorch",
        "pipeline_tag: image-to-image",
        "tags:",
        *[f"- {tag}" for tag in TAGS],
        "---",
        "",
        f"# SketchFace generator ({repo_id})",
        "",
        "Sketch-guided face inpainting: a partial-convolution U-Net (Liu et al. 2018) that fills a hole in an "
        "aligned face photo and follows the user's line sketch and colour hints inside it. Weights for the "
        "SketchFace app and CLI.",
        "",
        "**Terms: non-commercial research and education only** (inherited from the training data; see below).",
        "",
        "## Architecture",
        "",
        "| setting | value |",
        "|---|---|",
        f"| architecture | {meta.get('architecture', '?')} (format {meta.get('format_version', '?')}) |",
        *[f"| {key} | {_value(value)} |" for key, value in config.items()],
        f"| parameters | {_parameters(checkpoint) / 1e6:.2f} M |",
        f"| stored dtype | {meta.get('dtype', '?')} |",
        "",
        "Width scales every channel count of the image U-Net; a separate convolutional sketch encoder "
        "feeds the finest `sketch_levels` decoder layers as always-valid channels.",
        "",
        "## Training",
        "",
    ]
    if training:
        lines += ["| item | value |", "|---|---|", *[f"| {k} | {_value(v)} |" for k, v in training.items()]]
    else:
        lines.append("No training summary was recorded with these weights.")
    lines += ["", "## Evaluation", ""]
    if results_md:
        body = results_md.strip().splitlines()
        if body and body[0].startswith("# "):
            body = body[1:]
        while body and not body[0].strip():
            body = body[1:]
        lines += [line[1:] if line.startswith("##") else line for line in body]
    else:
        lines.append("No evaluation report (`results.md` of `python -m evaluation.evaluate`) was found with these weights.")
    lines += [
        "",
        "## Data and terms of use",
        "",
        "The SketchFace training images come from public face datasets that are released for "
        "**non-commercial research and education only**. These weights are derived from those images and "
        "inherit that restriction: use them for non-commercial research and education only, and cite the "
        "datasets below. The code of SketchFace is under its own licence; the restriction applies to the weights.",
        "",
        *[f"- {name}: {citation}." for name, citation in DATASETS],
        "",
        "## Usage",
        "",
        "```bash",
        f"{HUB_REPO_ENV}={repo_id} python app.py",
        f"python -m inpaint --weights hub:{repo_id} --image face.jpg --mask hole.png --sketch lines.png",
        "```",
        "",
    ]
    return "\n".join(lines)


def stage(source: str | Path, out_dir: str | Path, repo_id: str) -> list[Path]:
    """Validate the checkpoint and write the files to upload into `out_dir`; returns them."""
    checkpoint_path = find_checkpoint(source)
    try:
        checkpoint = read_checkpoint(checkpoint_path)
    except WeightsError as error:
        raise PushError(str(error)) from None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{DEFAULT_NAME}.safetensors"
    shutil.copyfile(checkpoint_path, weights)
    config = out_dir / f"{DEFAULT_NAME}.json"
    sidecar = checkpoint_path.with_suffix(".json")
    if sidecar.is_file():
        shutil.copyfile(sidecar, config)
    else:
        config.write_text(json.dumps(checkpoint.meta, indent=2) + "\n")
    results = find_results(checkpoint_path, Path(source))
    card = out_dir / "README.md"
    card.write_text(model_card(checkpoint, repo_id, results.read_text() if results else None))
    return [weights, config, card]


def upload(folder: Path, repo_id: str, private: bool) -> str:
    """Create the model repo if needed and upload the folder in one commit; returns the repo URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, repo_type="model", folder_path=str(folder),
                      commit_message="Upload SketchFace generator weights and model card")
    return str(url)


def space_layout(root: Path = ROOT) -> tuple[dict[str, tuple[int, int]], list[tuple[str, int]]]:
    """The Space a push of this checkout makes: {top-level entry: (files, bytes)} of the
    tracked files, and the files over the Hub's limit for files outside Git LFS."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True)
    groups: dict[str, tuple[int, int]] = {}
    too_big = []
    for name in filter(None, listed.stdout.split("\0")):
        path = root / name
        if not path.is_file():
            continue
        size = path.stat().st_size
        top = name.split("/", 1)[0] + ("/" if "/" in name else "")
        count, total = groups.get(top, (0, 0))
        groups[top] = (count + 1, total + size)
        if size > HUB_FILE_LIMIT:
            too_big.append((name, size))
    return groups, too_big


def print_space_layout(root: Path = ROOT) -> bool:
    """Print the Space layout; False when a file would be refused."""
    groups, too_big = space_layout(root)
    files, total = sum(c for c, _ in groups.values()), sum(b for _, b in groups.values())
    print(f"Space (this checkout, README front matter: sdk gradio, app_file app.py): {files} files, {total:,} bytes")
    for top, (count, size) in sorted(groups.items()):
        print(f"  {top:<22} {count:>4} file(s) {size:>12,} bytes")
    for name, size in too_big:
        print(f"  REFUSED by the Hub without Git LFS (> 10 MiB): {name} ({size:,} bytes)")
    return not too_big


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m release.push", description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="checkpoint .safetensors, or a run/export folder holding one")
    parser.add_argument("--repo", required=True, help="Hub model repo, owner/name")
    parser.add_argument("--dry-run", action="store_true", help="stage and list the files; no network")
    parser.add_argument("--private", action="store_true", help="create the repo private")
    parser.add_argument("--stage-dir", type=Path, help="with --dry-run: stage here instead of a new temp folder")
    args = parser.parse_args(argv)
    if not REPO_ID.match(args.repo):
        print(f"error: --repo must be owner/name, not {args.repo!r}", file=sys.stderr)
        return 2

    if args.dry_run:
        folder = args.stage_dir or Path(tempfile.mkdtemp(prefix="sketchface-push-"))
        try:
            files = stage(args.source, folder, args.repo)
        except PushError as error:
            print(f"error: {_one_line(error)}", file=sys.stderr)
            return 2
        visibility = "private" if args.private else "public"
        print(f"dry run: would upload to https://huggingface.co/{args.repo} ({visibility} model repo):")
        for path in files:
            print(f"  {path.name:<22} {path.stat().st_size:>12,} bytes  sha256 {_sha256(path)[:16]}")
        print(f"staged in {folder}\n")
        return 0 if print_space_layout() else 2

    with tempfile.TemporaryDirectory(prefix="sketchface-push-") as tmp:
        try:
            stage(args.source, tmp, args.repo)
        except PushError as error:
            print(f"error: {_one_line(error)}", file=sys.stderr)
            return 2
        try:
            url = upload(Path(tmp), args.repo, args.private)
        except Exception as error:  # network, auth, quota: one line, not a traceback
            print(f"error: upload to {args.repo} failed: {type(error).__name__}: {_one_line(error)}", file=sys.stderr)
            return 1
    print(f"uploaded {DEFAULT_NAME}.safetensors, {DEFAULT_NAME}.json, README.md to {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
