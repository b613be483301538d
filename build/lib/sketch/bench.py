"""Speed of the sketch tools: `python -m sketch.bench [--size 256] [--seconds 3]`.

Prints samples/s of `synthesize_sketch` and `synthesize_color_hints` (edges precomputed, one
process, as a loader worker would run them) and ms/image of the soft-edge detector in use
and of `thin_lines` (the one-off cost of precomputing a data set's lines).
Runs on scikit-image's astronaut with random elliptic holes.
"""
from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
from skimage import data

from .edges import get_detector, soft_edges
from .lines import thin_lines
from .synthesis import synthesize_color_hints, synthesize_sketch


def random_holes(size: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Random filled ellipses covering roughly 5–35 % of a size×size image."""
    holes = []
    for _ in range(count):
        canvas = np.zeros((size, size), dtype=np.uint8)
        center = tuple(int(v) for v in rng.integers(size // 4, 3 * size // 4, size=2))
        axes = tuple(int(v) for v in rng.integers(size // 8, size // 3, size=2))
        cv2.ellipse(canvas, center, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        holes.append(canvas > 0)
    return holes


def rate(step, seconds: float) -> float:
    """Calls per second of `step(i)` over about `seconds` (after one warm-up call)."""
    step(0)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(count)
        count += 1
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sketch.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    image = cv2.resize(data.astronaut(), (args.size, args.size), interpolation=cv2.INTER_AREA)
    detector = get_detector()
    lines = thin_lines(soft_edges(image, detector))
    rng = np.random.default_rng(0)
    holes = random_holes(args.size, 16, rng)
    levels = rng.uniform(0, 1, size=len(holes))

    sketch_rate = rate(lambda i: synthesize_sketch(lines, holes[i % 16], levels[i % 16], rng), args.seconds)
    hint_rate = rate(lambda i: synthesize_color_hints(image, holes[i % 16], rng), args.seconds)
    edge_rate = rate(lambda i: soft_edges(image, detector), args.seconds)
    soft = soft_edges(image, detector)
    lines_rate = rate(lambda i: thin_lines(soft), args.seconds)
    note = " (FALLBACK: no HED weights)" if detector.is_fallback else ""
    threads = f"cv2 threads {cv2.getNumThreads()}"
    if "torch" in sys.modules:
        threads += f", torch threads {sys.modules['torch'].get_num_threads()}"
    print(f"size {args.size}px, one process, {threads}")
    print(f"sketch synthesis : {sketch_rate:8.1f} samples/s")
    print(f"colour hints     : {hint_rate:8.1f} samples/s (median filter included)")
    print(f"soft edges [{detector.name}]{note}: {1000.0 / edge_rate:8.1f} ms/image")
    print(f"thin_lines       : {1000.0 / lines_rate:8.1f} ms/image")


if __name__ == "__main__":
    main()
