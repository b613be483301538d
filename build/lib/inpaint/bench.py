"""Speed benchmark: `python -m inpaint.bench [--repeats 10]`.

First the 256-px edit against this machine's limit: the network's FLOPs (the trained
module's, counted with `torch.utils.flop_counter`), divided by the rate a plain 3×3
convolution reaches here (256→256 channels on 64×64, timed in the same run, interleaved
with the edits so both see the same machine), give the fastest such an edit could be; the
edit's median time over that is the ratio reported, for the serving network
(`inpaint.serving`, which decodes only around the hole) on a mouth-sized hole and on one
spanning the frame, and for the trained module. The serving network's own FLOPs for the
hole and its time against them are printed beside (how near the CPU's rate it runs). Then the
median milliseconds per `Editor.edit()` for the small and the paper-size generator (random
weights: speed does not depend on training) and for OpenCV's Telea on the same inputs,
at 256×256 and on a 1024×1024 photo, with each row's peak RSS. Then a phone photo end to
end with face alignment: 4032×3024, the astronaut scaled 3× into it, a mouth-sized mask,
the small generator, `align=True`, with the median of each stage (read, detect, frame,
engine, paste, output: building the PIL result). Every row runs in a fresh subprocess so its peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np
import torch

ROWS = {
    "pconv-small": 0.5,
    "pconv-paper": 1.0,
    "cv2-telea": None,
}
SIZES = (256, 1024)


def _inputs(size: int) -> tuple[np.ndarray, np.ndarray]:
    from skimage.data import astronaut

    image = cv2.resize(astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    hole = np.zeros((size, size), np.uint8)
    s = size / 256
    cv2.ellipse(hole, (int(128 * s), int(150 * s)), (int(60 * s), int(35 * s)), 0, 0, 360, 255, -1)
    return image, hole  # about 10 % of the image: a mouth/chin sized edit


PHOTO = (4032, 3024)
STAGES = ("read", "detect", "frame", "engine", "paste", "output")


def _photo() -> tuple[np.ndarray, np.ndarray]:
    """A gradient canvas with the astronaut scaled 3× (her face ~270 px wide) off centre,
    and an ellipse over her mouth."""
    from skimage.data import astronaut

    width, height = PHOTO
    y, x = np.mgrid[0:height:8, 0:width:8].astype(np.float32)
    small = np.stack([x / width * 150 + 50, y / height * 120 + 60, 110 + 0 * x], axis=2).astype(np.uint8)
    image = cv2.resize(small, PHOTO, interpolation=cv2.INTER_LINEAR)
    place = np.array([[3.0, 0.0, 2300.0], [0.0, 3.0, 900.0]])  # astronaut (x, y) → photo
    cv2.warpAffine(astronaut(), place, PHOTO, dst=image, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    hole = np.zeros((height, width), np.uint8)
    cv2.ellipse(hole, (2300 + 3 * 222, 900 + 3 * 141), (3 * 32, 3 * 18), 0, 0, 360, 255, -1)
    return image, hole


def run_photo(repeats: int) -> dict:
    from .editor import Editor
    from .engines import PConvEngine
    from .face import load_models
    from .generator import GeneratorConfig, SketchPConvUNet

    torch.manual_seed(0)
    editor = Editor(PConvEngine(SketchPConvUNet(GeneratorConfig(width=ROWS["pconv-small"])), "pconv-small"))
    image, hole = _photo()
    load_models()  # once per process, like the app; not part of an edit
    stages: dict[str, list[float]] = {k: [] for k in STAGES}

    infos = []

    def edit() -> None:
        infos.append(editor.edit(image, hole, align=True, return_info=True).info)
        for k in STAGES:
            stages[k].append(infos[-1].ms[k])

    ms = _time(edit, repeats)
    info = infos[-1]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    split = {k: statistics.median(v[1:]) for k, v in stages.items()}  # [0] is the warm-up
    return {"row": "photo-aligned", "ms": ms, "peak_mb": peak_mb, "path": info.path, "note": info.note, "split": split}


REFERENCE_CONV = (256, 64)  # channels in = out, side: a plain 3×3 convolution oneDNN runs near its peak


def _flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def run_flop_limit(repeats: int) -> dict:
    """The 256-px edit (serving and training network) against the FLOP limit, in one process."""
    from .editor import Editor
    from .engines import PConvEngine
    from .generator import GeneratorConfig, SketchPConvUNet

    torch.manual_seed(0)
    model = SketchPConvUNet(GeneratorConfig(width=ROWS["pconv-small"]))
    image, hole = _inputs(256)
    spanning = np.zeros_like(hole)  # a hole whose box is the whole frame: the decoder runs everywhere
    cv2.ellipse(spanning, (128, 128), (128, 128), 0, 0, 360, 255, -1)
    edits = {name: Editor(PConvEngine(model, name, serving=name == "serving")) for name in ("serving", "training")}
    calls = {name: (lambda e=editor: e.edit(image, hole, align=False)) for name, editor in edits.items()}
    calls["spanning"] = lambda: edits["serving"].edit(image, spanning, align=False)
    channels, side = REFERENCE_CONV
    weight = torch.randn(channels, channels, 3, 3).contiguous(memory_format=torch.channels_last)
    x = torch.randn(1, channels, side, side).contiguous(memory_format=torch.channels_last)
    calls["reference"] = lambda: torch.nn.functional.conv2d(x, weight, None, 1, 1)
    with torch.inference_mode():
        flops = {name: _flops(fn) for name, fn in calls.items()}
        for fn in calls.values():
            fn(), fn()  # warm-up
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(repeats):  # interleaved, so a busy spell slows all three alike
            for name, fn in calls.items():
                start = time.perf_counter()
                fn()
                times[name].append(1000 * (time.perf_counter() - start))
    ms = {name: statistics.median(t) for name, t in times.items()}
    rate = flops["reference"] / ms["reference"] / 1e6  # GFLOP/s
    limit = flops["training"] / rate / 1e6  # the model's FLOPs at the reference rate, in ms
    executed = flops["serving"] / rate / 1e6  # what the serving network executes, at the reference rate
    return {"row": "flop-limit", "gflop": flops["training"] / 1e9, "gflop_serving": flops["serving"] / 1e9,
            "gflop_spanning": flops["spanning"] / 1e9, "reference_gflops": rate, "limit_ms": limit,
            "ms": ms["serving"], "ms_training": ms["training"], "ms_spanning": ms["spanning"],
            "ratio": ms["serving"] / limit, "ratio_training": ms["training"] / limit,
            "ratio_spanning": ms["spanning"] / limit, "efficiency": ms["serving"] / executed}


def _time(fn, repeats: int) -> float:
    fn()  # warm-up (allocator, oneDNN kernels)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def run_row(row: str, size: int, repeats: int) -> dict:
    image, hole = _inputs(size)
    width = ROWS[row]
    if width is None:
        fn = lambda: cv2.inpaint(image, hole, 5, cv2.INPAINT_TELEA)  # noqa: E731
        params = 0
    else:
        from .editor import Editor
        from .engines import PConvEngine
        from .generator import GeneratorConfig, SketchPConvUNet, count_parameters

        torch.manual_seed(0)
        model = SketchPConvUNet(GeneratorConfig(width=width))
        params = count_parameters(model)
        editor = Editor(PConvEngine(model, row))
        fn = lambda: editor.edit(image, hole, align=False)  # noqa: E731
    ms = _time(fn, repeats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"row": row, "size": size, "ms": ms, "peak_mb": peak_mb, "params_m": params / 1e6}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--row", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.row == "flop-limit":
        print(json.dumps(run_flop_limit(args.repeats)))
        return
    if args.row == "photo-aligned":
        print(json.dumps(run_photo(args.repeats)))
        return
    if args.row:
        print(json.dumps(run_row(args.row, args.size, args.repeats)))
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"{torch.backends.cpu.get_cpu_capability()}")
    cmd = [sys.executable, "-m", "inpaint.bench", "--row", "flop-limit", "--repeats", str(max(args.repeats, 15))]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(f"edit() at 256 px: {r['gflop']:.2f} GFLOP; a 3×3 conv runs at {r['reference_gflops']:.0f} GFLOP/s here, "
          f"so the limit is {r['limit_ms']:.1f} ms\n"
          f"  serving network {r['ms']:.1f} ms = {r['ratio']:.2f}× the limit (it executes {r['gflop_serving']:.2f} "
          f"GFLOP for this mouth-sized hole, at {r['efficiency']:.2f}× their own limit)\n"
          f"  serving, a hole spanning the frame ({r['gflop_spanning']:.2f} GFLOP) {r['ms_spanning']:.1f} ms = "
          f"{r['ratio_spanning']:.2f}×; training network {r['ms_training']:.1f} ms = {r['ratio_training']:.2f}×\n")
    print(f"{'engine':<14}{'params':>8}{'size':>7}{'median ms':>11}{'peak RSS MB':>13}")
    small_edit_ms = None
    for size in SIZES:
        for row in ROWS:
            cmd = [sys.executable, "-m", "inpaint.bench", "--row", row, "--size", str(size), "--repeats", str(args.repeats)]
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            if (row, size) == ("pconv-small", 256):
                small_edit_ms = result["ms"]
            params = f"{result['params_m']:.1f}M" if result["params_m"] else "-"
            print(f"{row:<14}{params:>8}{size:>7}{result['ms']:>11.1f}{result['peak_mb']:>13.0f}", flush=True)
    cmd = [sys.executable, "-m", "inpaint.bench", "--row", "photo-aligned", "--repeats", str(args.repeats)]
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    split = ", ".join(f"{k} {v:.0f}" for k, v in result["split"].items())
    without_output = result["ms"] - result["split"]["output"]
    print(f"\n{PHOTO[0]}×{PHOTO[1]} photo, pconv-small, align=True: median {result['ms']:.0f} ms "
          f"({split}), peak RSS {result['peak_mb']:.0f} MB\n  path {result['path']}: {result['note']}\n"
          f"  = {result['ms'] / small_edit_ms:.1f}× the 256-px edit; {without_output / small_edit_ms:.1f}× without "
          f"the output stage (PIL keeps RGB at 4 bytes a pixel: building a 12-MP image is a whole copy)")


if __name__ == "__main__":
    main()
