"""The load a public Space faces, on loopback: clients mixing good edits with bad and oversized uploads.

    python -m webapp.loadtest [--concurrency 1] [--clients 4] [--seconds 60] [--max-requests 400]
    python -m webapp.loadtest --url http://127.0.0.1:7860/ …     (an app that is already running)

Without `--url` it starts `python app.py` itself (SKETCHFACE_CONCURRENCY = `--concurrency`,
its Gradio cache in a temporary folder) and stops it after. Each client loops over the
request kinds in turn, through Gradio's HTTP API as any client can (upload, call, read the
event stream): a good `edit`, a good `run_canvas`, a file that is not an image, a 12000²
PNG (a decompression bomb), an empty mask. A good request counts as correct only when its
result has the photo's size and leaves every pixel far from the mask as it was; a bad one
only when it is refused with its own message. Reports throughput, p50/p95 latency by kind,
outcomes by kind (read from the event stream: a failed job arrives as an event on HTTP 200),
the server's RSS after warm-up, at the end and at its peak, and the disk its results use.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("edit", "canvas", "not-an-image", "bomb", "empty-mask")
EXPECTED = {"not-an-image": "not an image", "bomb": "the limit is 4096 px", "empty-mask": "mask is empty"}
FAR = 20  # px from the mask beyond which a result must equal the photo


@dataclass
class Outcome:
    kind: str
    seconds: float
    result: str  # "correct", "wrong" (a good request failed or was wrong; a bad one not refused as it should) or "lost"
    detail: str = ""


def flat_png(path: Path, width: int, height: int, grey: int = 128) -> Path:
    """A one-colour grey PNG of any size, written row by row: a few hundred KB on disk for
    a picture of many gigapixels (a decompression bomb) without holding it in memory."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes([grey]) * width  # filter byte, then the pixels
    packer = zlib.compressobj(9)
    body = bytearray()
    for _ in range(height):
        body += packer.compress(row)
    body += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b""))
    return path


def make_inputs(folder: Path) -> dict[str, Path]:
    """A 640×480 photo with structure, its mask, an empty mask, a text file and a bomb."""
    y, x = np.mgrid[0:480, 0:640]
    photo = np.dstack([(x / 3) % 256, (y / 2) % 256, (x + y) / 5 % 256]).astype(np.uint8)
    mask = np.zeros((480, 640), np.uint8)
    mask[200:280, 260:380] = 255
    files = {name: folder / f"{name}.png" for name in ("photo", "mask", "empty")}
    Image.fromarray(photo).save(files["photo"])
    Image.fromarray(mask).save(files["mask"])
    Image.fromarray(np.zeros_like(mask)).save(files["empty"])
    files["text"] = folder / "notes.png"
    files["text"].write_text("not an image, despite the name\n")
    files["bomb"] = flat_png(folder / "bomb.png", 12000, 12000)
    return files


class GradioApi:
    """Gradio's HTTP API as any client sees it, without gradio_client: upload, call, and the
    outcome read from the event stream (a failed job arrives as an event on HTTP 200)."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=300)

    def upload(self, path: Path) -> dict:
        with open(path, "rb") as handle:
            [server_path] = self.http.post("/gradio_api/upload", files=[("files", (path.name, handle))]).json()
        return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def call(self, name: str, data: list) -> tuple[str, object]:
        """("complete", outputs), ("error", the message), or ("http" / "lost", what went wrong)."""
        reply = self.http.post(f"/gradio_api/call/{name}", json={"data": data})
        if reply.status_code != 200:
            return "http", f"HTTP {reply.status_code}: {reply.text[:200]}"
        event = None
        with self.http.stream("GET", f"/gradio_api/call/{name}/{reply.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(line.split(":", 1)[1])
                    return event, (payload.get("error") if event == "error" else payload)
        return "lost", "the event stream ended without a result"

    def endpoints(self) -> dict[str, list[int]]:
        """Every endpoint with a server function the page registers, by name, with its input ids."""
        config = self.http.get("/config").json()
        return {d["api_name"]: d["inputs"] for d in config["dependencies"] if d.get("backend_fn")}


class Client(GradioApi):
    """One load-test client: the request kinds over the inputs of `make_inputs`."""

    def __init__(self, url: str, files: dict[str, Path]):
        super().__init__(url)
        self.files = files
        self.photo = np.asarray(Image.open(files["photo"]).convert("RGB"))
        hole = np.asarray(Image.open(files["mask"])) > 127
        import cv2

        self.far = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5) > FAR

    def upload(self, name: str | Path) -> dict:
        return super().upload(self.files[name] if isinstance(name, str) else name)

    def check_result(self, file: dict) -> str:
        """'' when the result is right: the photo's size, pixels far from the mask unchanged."""
        data = self.http.get(file["url"]).content
        result = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        if result.shape != self.photo.shape:
            return f"result is {result.shape}, the photo {self.photo.shape}"
        if not np.array_equal(result[self.far], self.photo[self.far]):
            return "pixels far from the mask changed"
        return ""

    def request(self, kind: str) -> Outcome:
        clock = time.perf_counter()
        try:
            if kind == "canvas":
                layer = self.upload("mask")
                value = {"background": self.upload("photo"), "layers": [layer], "composite": None}
                event, payload = self.call("run_canvas", [value, 0.5, False])
                file = payload[0][1] if event == "complete" else None
            else:
                photo = {"not-an-image": "text", "bomb": "bomb"}.get(kind, "photo")
                mask = "empty" if kind == "empty-mask" else "mask"
                event, payload = self.call("edit", [self.upload(photo), self.upload(mask), None, None, 0.5, False])
                file = payload[0] if event == "complete" else None
        except (httpx.HTTPError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            return Outcome(kind, time.perf_counter() - clock, "lost", f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - clock
        if event in ("http", "lost"):
            return Outcome(kind, seconds, "lost", str(payload))
        if kind in EXPECTED:
            right = event == "error" and EXPECTED[kind] in str(payload)
            return Outcome(kind, seconds, "correct" if right else "wrong", str(payload)[:120])
        if event != "complete":
            return Outcome(kind, seconds, "wrong", str(payload)[:120])
        problem = self.check_result(file)
        return Outcome(kind, seconds, "wrong" if problem else "correct", problem)


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20 if folder.is_dir() else 0.0


@dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int
    log: Path


@contextlib.contextmanager
def started_app(folder: Path, **env: str):
    """`python app.py` as users start it, on a free loopback port, with `env` added to its
    environment (no Hub, no analytics); its log in `folder`. Yields a RunningApp; stopped on exit."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    full_env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    for name in ("GRADIO_SERVER_NAME", "SKETCHFACE_WEIGHTS_REPO"):
        full_env.pop(name, None)
    full_env.update(env)
    log = folder / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 180
        while "Running on local URL" not in log.read_text():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the app did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield RunningApp(f"http://127.0.0.1:{port}/", proc.pid, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(url: str, pid: int | None, files: dict[str, Path], clients: int, seconds: float, max_requests: int,
        results: Path | None) -> dict:
    def warm_up(offset: int) -> None:
        client = Client(url, files)
        for k in range(len(KINDS)):
            client.request(KINDS[(k + offset) % len(KINDS)])

    # warm-up: every path once per client, the clients at once, so that each edit slot the
    # server runs in parallel has made its first-time allocations before RSS is read
    warmers = [threading.Thread(target=warm_up, args=(i,)) for i in range(clients)]
    for thread in warmers:
        thread.start()
    for thread in warmers:
        thread.join()
    after_warm_up = rss_mb(pid) if pid else float("nan")
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(offset: int) -> None:
        client, k = Client(url, files), offset
        while time.monotonic() < stop:
            with lock:
                if len(outcomes) >= max_requests:
                    return
            outcome = client.request(KINDS[k % len(KINDS)])
            k += 1
            with lock:
                outcomes.append(outcome)

    clock = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - clock
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    kinds = {}
    for kind, items in by_kind.items():
        times = np.array([o.seconds for o in items])
        counts = {r: sum(o.result == r for o in items) for r in ("correct", "wrong", "lost")}
        kinds[kind] = {"n": len(items), "p50_s": float(np.percentile(times, 50)),
                       "p95_s": float(np.percentile(times, 95)), **counts,
                       "problems": sorted({o.detail for o in items if o.result != "correct"})[:3]}
    return {"requests": len(outcomes), "wall_s": wall, "per_s": len(outcomes) / wall, "clients": clients,
            "kinds": kinds, "rss_after_warm_up_mb": after_warm_up,
            "rss_end_mb": rss_mb(pid) if pid else float("nan"), "rss_peak_mb": rss_mb(pid, "VmHWM") if pid else float("nan"),
            "results_mb": folder_mb(results) if results else float("nan")}


def markdown(report: dict, concurrency: int | str) -> str:
    lines = [f"SKETCHFACE_CONCURRENCY {concurrency}, {report['clients']} clients, {report['requests']} requests in "
             f"{report['wall_s']:.0f} s ({report['per_s']:.2f}/s); server RSS after warm-up "
             f"{report['rss_after_warm_up_mb']:.0f} MB, at the end {report['rss_end_mb']:.0f} MB, peak "
             f"{report['rss_peak_mb']:.0f} MB; results on disk {report['results_mb']:.1f} MB", "",
             "| kind | n | p50 s | p95 s | correct | wrong | lost |", "|---|---:|---:|---:|---:|---:|---:|"]
    for kind in KINDS:
        k = report["kinds"].get(kind)
        if k:
            lines.append(f"| {kind} | {k['n']} | {k['p50_s']:.2f} | {k['p95_s']:.2f} | {k['correct']} | {k['wrong']} "
                         f"| {k['lost']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m webapp.loadtest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running app (default: start one)")
    p.add_argument("--concurrency", type=int, default=1, help="SKETCHFACE_CONCURRENCY of the app it starts")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--max-requests", type=int, default=400)
    p.add_argument("--json", type=Path, help="also write the report here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sketchface-load-") as tmp:
        files = make_inputs(Path(tmp))
        if args.url:
            report = run(args.url, None, files, args.clients, args.seconds, args.max_requests, None)
            label: int | str = "of the running app"
        else:
            cache = Path(tmp) / "gradio"
            with started_app(Path(tmp), GRADIO_TEMP_DIR=str(cache), SKETCHFACE_CONCURRENCY=str(args.concurrency)) as app:
                report = run(app.url, app.pid, files, args.clients, args.seconds, args.max_requests,
                             cache / "sketchface-results")
            label = args.concurrency
    print(markdown(report, label))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    bad = sum(k["wrong"] + k["lost"] for k in report["kinds"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
