"""Train several recipe arms side by side and compare them at equal images seen.

    python -m train.arms train/recipes/arms/ink.toml --data CACHE --out RUNS [--images 9000]
        [--only a-sharp,b-no-vgg] [--threads 1] [--minutes M] [--report 60] [--vgg FILE] [--set key=value …]

An arms file names a base recipe, the weights every arm starts from, and per arm the
recipe overrides that make it different (see train/recipes/arms/). Each arm is one
`train.fit` process in RUNS/ARM (log in RUNS/ARM/train.log); a run that is there already
is resumed, so the same command continues a study. While they run, one line per arm says
its step, images and img/s; at the end, a table of images, wall time, img/s and the last
in-loop validation (transfer ink and structure beside Telea's, edge F1, sharpness, grid).
On a CPU give each arm `--threads` (one each when they share two cores); on a GPU they
share the device (each process gets its loader workers from the recipe).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .config import Recipe, load_recipe

ROOT = Path(__file__).resolve().parent.parent
RATE = re.compile(r"(\d+)/\d+ \[[^\]]*img_s=([\d.]+)")
REPORTED = ("transfer_ink", "transfer_ink_telea", "transfer_structure", "transfer_structure_telea", "transfer_f1",
            "edge_f1_sketch", "sharpness", "large_grid", "hole_psnr")


@dataclass(frozen=True)
class Arm:
    name: str
    why: str = ""
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Study:
    base: str
    init: str | None
    arms: tuple[Arm, ...] = field(default_factory=tuple)


def read_study(path: Path, base: str | None = None) -> Study:
    """The arms file: `base`, optional `init`, and `[arms.NAME]` tables with `why` and
    `overrides`; `base` replaces the file's (the same arms on a GPU recipe)."""
    data = tomllib.loads(path.read_text())
    arms = tuple(Arm(name, table.get("why", ""), tuple(table.get("overrides", ())))
                 for name, table in data.get("arms", {}).items())
    if not arms:
        raise ValueError(f"{path}: no [arms.NAME] tables")
    base = base or data.get("base")
    if not base:
        raise ValueError(f"{path}: no base recipe")
    for arm in arms:  # every arm's recipe must parse before anything starts
        arm_recipe(base, arm)
    return Study(base, data.get("init"), arms)


def arm_recipe(base: str, arm: Arm, extra: list[str] = ()) -> Recipe:
    recipe = load_recipe(base, [*arm.overrides, *extra])
    recipe.validate()
    return recipe


def images_per_step(recipe: Recipe) -> float:
    """Mean images a step trains on (every `full_every`-th step is `full_batch` whole faces)."""
    d = recipe.data
    if d.crop and d.full_every:
        return ((d.full_every - 1) * d.batch_size + min(d.full_batch, d.batch_size)) / d.full_every
    return float(d.batch_size)


def fit_command(study: Study, arm: Arm, args: argparse.Namespace, steps: int) -> list[str]:
    run = args.out / arm.name
    command = [sys.executable, "-m", "train.fit", "--data", str(args.data), "--recipe", study.base,
               "--out", str(run), "--steps", str(steps)]
    if (run / "last.pt").is_file():
        command.append("--resume")
    else:
        init = start_from(study.init, arm.name, ".safetensors")
        command += ["--init", str(init)] if init else []
        disc = start_from(args.init_disc, arm.name, ".disc.safetensors")
        command += ["--init-disc", str(disc)] if disc else []
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.minutes:
        command += ["--minutes", str(args.minutes)]
    if args.vgg:
        command += ["--vgg", args.vgg]
    return command + ["--device", args.device] + list(arm.overrides) + list(args.set)


def start_from(source: str | Path | None, arm: str, suffix: str) -> Path | None:
    """A weights file every arm starts from, or a folder of one per arm (ARM + suffix, as a
    burst brings them back); None when there is none for this arm."""
    if not source:
        return None
    path = Path(source) if Path(source).is_absolute() else ROOT / source
    if path.is_dir():
        own = path / f"{arm}{suffix}"
        return own if own.is_file() else None
    return path


def last_progress(log: Path) -> tuple[int, float] | None:
    """(step, img/s) from the last progress line of a train.fit log."""
    if not log.is_file():
        return None
    with open(log, "rb") as handle:
        handle.seek(max(0, log.stat().st_size - 4096))
        tail = handle.read().decode(errors="replace")
    found = RATE.findall(tail)
    return (int(found[-1][0]), float(found[-1][1])) if found else None


def last_validation(run: Path) -> dict:
    path = run / "validation.jsonl"
    if not path.is_file():
        return {}
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}


def summary(study: Study, args: argparse.Namespace) -> str:
    """A markdown table: one row per arm, read from its saved state and validation."""
    import torch

    rows = ["| arm | steps | images | wall h | img/s | " + " | ".join(REPORTED) + " |",
            "|---|---:|---:|---:|---:|" + "---:|" * len(REPORTED)]
    for arm in study.arms:
        run = args.out / arm.name
        if not (run / "last.pt").is_file():
            continue
        state = torch.load(run / "last.pt", map_location="cpu", weights_only=True)
        wall = state["wall"]
        rate = state["images_seen"] / wall if wall else float("nan")
        val = last_validation(run)
        cells = " | ".join(f"{val[k]:.3f}" if k in val else "–" for k in REPORTED)
        rows.append(f"| {arm.name} | {state['step']} | {state['images_seen']} | {wall / 3600:.2f} | {rate:.2f} | {cells} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.arms", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("arms", type=Path, help="an arms file (train/recipes/arms/*.toml)")
    p.add_argument("--data", required=True, type=Path, help="the prepared cache")
    p.add_argument("--out", required=True, type=Path, help="folder of the arms' run folders")
    p.add_argument("--images", type=int, default=9000, help="train each arm until it has seen this many images")
    p.add_argument("--base", help="the recipe every arm builds on (default: the arms file's `base`)")
    p.add_argument("--init", help="weights every new arm starts from, or a folder of ARM.safetensors (default: the "
                                  "arms file's `init`)")
    p.add_argument("--init-disc", help="a folder of ARM.disc.safetensors: each new arm's discriminator starts there")
    p.add_argument("--only", help="comma-separated arm names (default: all)")
    p.add_argument("--threads", type=int, help="torch CPU threads per arm")
    p.add_argument("--minutes", type=float, help="stop every arm after this much time (it saves; rerun to resume)")
    p.add_argument("--report", type=float, default=60.0, help="seconds between progress lines")
    p.add_argument("--set", action="append", default=[], help="a recipe override for every arm (repeatable)")
    p.add_argument("--vgg", help="train.fit --vgg for every arm (e.g. a pack's vgg.safetensors)")
    p.add_argument("--device", default="auto", help="train.fit --device for every arm")
    args = p.parse_args(argv)
    try:
        study = read_study(args.arms, args.base)
    except (ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    arms = study.arms
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {a.name for a in arms}
        if unknown:
            print(f"error: no arm(s) {', '.join(sorted(unknown))} in {args.arms}", file=sys.stderr)
            return 2
        arms = tuple(a for a in arms if a.name in wanted)
    study = Study(study.base, args.init or study.init, arms)

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    processes = {}
    for arm in arms:
        recipe = arm_recipe(study.base, arm, args.set)
        steps = math.ceil(args.images / images_per_step(recipe))
        run = args.out / arm.name
        run.mkdir(parents=True, exist_ok=True)
        command = fit_command(study, arm, args, steps)
        log = open(run / "train.log", "a")
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        processes[arm.name] = (subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log)
        print(f"{arm.name}: {steps} steps ({args.images} images), {arm.why}", flush=True)

    failed = []
    try:
        while processes:
            time.sleep(args.report)
            for name, (process, log) in list(processes.items()):
                progress = last_progress(args.out / name / "train.log")
                if progress:
                    print(f"{name}: step {progress[0]}, {progress[1]:.1f} img/s", flush=True)
                if process.poll() is not None:
                    log.close()
                    del processes[name]
                    if process.returncode:
                        failed.append(name)
                        print(f"{name}: train.fit exited {process.returncode} (see {args.out / name / 'train.log'})",
                              flush=True)
    except KeyboardInterrupt:
        for process, _ in processes.values():
            process.terminate()  # train.fit saves on SIGTERM
        for process, _ in processes.values():
            process.wait()
    table = summary(study, args)
    (args.out / "arms.md").write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
