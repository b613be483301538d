"""Cost of the app's "Start from the photo's edges" against an edit of the same mask.

    python -m webapp.edges_bench [--side 1024] [--repeats 3]

On scikit-image's astronaut scaled to `--side` px, with the mouth's one-click mask: the
median ms of `Service.photo_edges` and of `Service.edit` (mode redraw) on the same photo
and mask, measured in one run after the warm-up, their ratio, and how far the process's
memory rises above its level before the call, while the edges are found (sampled every
2 ms from /proc/self/statm).
"""
from __future__ import annotations

import argparse
import os
import threading
import time

import cv2
import numpy as np
from skimage.data import astronaut

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def peak_rise_mb(call) -> float:
    """How far RSS rises above its level before `call()` while it runs."""
    before, peak, done = rss_mb(), [0.0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        call()
    finally:
        done.set()
        watcher.join()
    return max(peak[0], rss_mb()) - before


def median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - clock))
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp.edges_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from .service import Service

    service = Service.start()
    photo = cv2.resize(astronaut(), (args.side, args.side), interpolation=cv2.INTER_CUBIC)
    mask = service.face_part(photo, "Mouth")
    rise = peak_rise_mb(lambda: service.photo_edges(photo, mask))
    edges = median_ms(lambda: service.photo_edges(photo, mask), args.repeats)
    edit = median_ms(lambda: service.edit(photo, mask, mode="redraw"), args.repeats)
    print(f"{args.side}-px photo, mouth mask: edges {edges:.0f} ms, edit {edit:.0f} ms ({edges / edit:.2f}×); "
          f"memory while finding the edges +{rise:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
