"""A public server that one request cannot knock over: every endpoint the page registers,
called directly over HTTP as anyone on the internet can, with decompression bombs, paths
that were never uploaded and payloads of the wrong shape; results kept on disk within a cap."""
from __future__ import annotations

import json
from types import SimpleNamespace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import running_app
from webapp.loadtest import GradioApi, flat_png

CANVAS_LIMIT = "the limit is 4096 px on a side and 50 MP"
AFTER_CANVAS = {"run_canvas": [0.5, True], "face_part": ["Mouth"], "reference_": [None]}  # inputs after the canvas, by name


def after_canvas(name: str) -> list:
    return next((rest for prefix, rest in AFTER_CANVAS.items() if name.startswith(prefix)), [])


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {"12000": flat_png(folder / "wide.png", 12000, 12000), "30000": flat_png(folder / "huge.png", 30000, 30000)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    cache = folder / "gradio-cache"
    with running_app(folder, GRADIO_TEMP_DIR=str(cache), SKETCHFACE_RESULTS_MB="3",
                     SKETCHFACE_RESULTS_MIN_AGE="0") as app:
        yield SimpleNamespace(url=app.url, pid=app.pid, log=app.log, cache=cache)


class Api(GradioApi):
    def call(self, name: str, data: list) -> tuple[str, object]:
        event, payload = super().call(name, data)
        assert event in ("complete", "error"), (name, event, payload)
        return event, payload


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("small")
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    return {"photo": flat_png(folder / "photo.png", 64, 64), "mask": folder / "mask.png"}


def test_every_page_endpoint_with_images_refuses_a_bomb_by_its_header(server, bombs, small):
    """The 12000² and 30000² PNGs as background, three layers and composite, sent to every
    endpoint that takes the editor's value (the "private" face-part buttons included: a
    client calls them as easily as the page), and as the photo of the `edit` API: one plain
    message naming the limit, and the server's memory barely moves."""
    api = Api(server.url)
    endpoints = api.endpoints()
    canvas_id = endpoints["run_canvas"][0]
    takes_canvas = sorted(name for name, inputs in endpoints.items() if canvas_id in inputs)
    assert {"run_canvas", "photo_edges", "face_part"} <= set(takes_canvas)
    assert len([n for n in takes_canvas if n.startswith("face_part")]) == 6  # one per part button
    assert {"reference_mouth", "reference_eyes", "reference_brows", "reference_nose"} <= set(takes_canvas)
    photo, mask = api.upload(small["photo"]), api.upload(small["mask"])
    for size, path in bombs.items():
        bomb = api.upload(path)
        value = {"background": bomb, "layers": [bomb, bomb, bomb], "composite": bomb}
        calls = [(name, [value, *after_canvas(name)]) for name in takes_canvas]
        calls += [(name, [value, bomb]) for name in takes_canvas if name.startswith("reference_")]
        calls += [(name, [{"background": photo, "layers": []}, bomb]) for name in takes_canvas
                  if name.startswith("reference_")]  # a fine photo, the reference the bomb
        calls += [("edit", [bomb, bomb, None, None, 0.5, True]),
                  ("edit", [photo, mask, None, None, 0.5, True, bomb, ["mouth"]])]
        for name, data in calls:
            open(f"/proc/{server.pid}/clear_refs", "w").write("5")  # the peak starts again from now
            before = rss_mb(server.pid)
            event, message = api.call(name, data)
            growth = rss_mb(server.pid, "VmHWM") - before
            assert event == "error" and CANVAS_LIMIT in message and "\n" not in message, (name, size, message)
            assert growth < 300, f"{name} with a {size}² PNG grew the server by {growth:.0f} MB"
    assert "Traceback" not in server.log.read_text()


def test_client_mistakes_get_a_plain_message_not_an_empty_error(server, small):
    api = Api(server.url)
    never_uploaded = {"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}
    photo, mask = api.upload(small["photo"]), api.upload(small["mask"])
    canvas = {"background": photo, "layers": []}
    cases = [
        ("edit", [photo, mask, None, None, 0.5, True, never_uploaded, ["mouth"]], "not one uploaded to this app"),
        ("edit", [photo, None, None, None, 0.5, True, None, ["mouth"]], "no reference photo was given"),
        ("edit", [photo, mask, None, None, 0.5, True, photo, []], "no part to take from it"),
        ("edit", [photo, mask, None, None, 0.5, True, photo, ["ears"]], "not in the list of choices"),
        ("reference_mouth", [None, None], "Upload a photo first"),
        ("reference_mouth", [canvas, None], "Choose a reference photo first"),
        ("reference_nose", [canvas, photo], "No face found in the photo"),  # a flat grey photo
        ("edit", [never_uploaded, never_uploaded, None, None, 0.5, True], "not one uploaded to this app"),
        ("run_canvas", [{"background": never_uploaded, "layers": []}, 0.5, True], "not one uploaded to this app"),
        ("run_canvas", [[1, 2], 0.5, True], "do not fit this endpoint"),
        ("edit", ["nonsense"], "do not fit this endpoint"),
        ("photo_edges", [None], "Upload a photo first"),
        ("face_part", [None, "Mouth"], "Upload a photo first"),
        ("load_example", ["x"], "do not fit this endpoint"),
        ("brush_for", ["Lasers"], "not in the list of choices"),
    ]
    for name, data, expected in cases:
        event, message = api.call(name, data)
        assert event == "error" and message and expected in message, (name, message)
    assert api.call("example_layers", ["no such example"]) == ("complete", ["", "", "", ""])
    assert "Traceback" not in server.log.read_text()


def test_calls_by_index_to_no_server_function_and_gradios_own_helpers_get_a_plain_reply(server, small, tmp_path):
    """The four client mistakes of issue 40, over HTTP, with indices looked up in /config (they
    move as controls are added): an example loader given null, an fn_index past the end, one of
    an event the browser runs alone, a truncated JPEG as the canvas's photo or a layer."""
    api = Api(server.url)
    config = api.http.get("/config").json()
    browser_only = next(d["id"] for d in config["dependencies"] if not d.get("backend_fn"))
    served = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "example_layers")
    past_end = max(d["id"] for d in config["dependencies"]) + 999
    event, message = api.call("load_example", [None])
    assert event == "error" and message and "do not fit this endpoint" in message
    for index, words in ((past_end, "does not exist"), (-1, "does not exist"), (browser_only, "runs in the browser only"),
                         ("one", "does not exist")):
        reply = api.http.post("/gradio_api/queue/join",
                              json={"data": [], "fn_index": index, "session_hash": "s1", "trigger_id": None})
        assert reply.status_code == 404 and words in reply.json()["error"], (index, reply.text)
    reply = api.http.post("/gradio_api/queue/join",  # a served index still runs
                          json={"data": ["no such example"], "fn_index": served, "session_hash": "s2", "trigger_id": None})
    assert reply.status_code == 200 and "event_id" in reply.json(), (served, reply.text)
    jpeg = tmp_path / "photo.jpg"
    Image.open(small["photo"]).convert("RGB").save(jpeg, quality=90)
    (tmp_path / "cut.jpg").write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    cut, photo = api.upload(tmp_path / "cut.jpg"), api.upload(small["photo"])
    for value in ({"background": cut, "layers": []}, {"background": photo, "layers": [cut]}):
        event, message = api.call("run_canvas", [value, 0.5, True])
        assert event == "error" and "truncated or corrupt" in message, message
    assert "Traceback" not in server.log.read_text() and "Exception in ASGI" not in server.log.read_text()


def test_results_stay_under_the_cap_and_a_fresh_one_is_written_once(server, tmp_path):
    """3 MB cap, no minimum age: a dozen 1000×750 results (~0.6 MB each as PNG) leave at most
    3 MB in the results folder, every result is written once (Gradio serves it from there),
    and the last one can still be downloaded."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:750, 0:1000]
    photo = np.dstack([(x / 4) % 256, (y / 3) % 256, (x + y) / 7 % 256]).astype(np.uint8)
    photo = np.clip(photo.astype(int) + rng.integers(-6, 7, photo.shape), 0, 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    mask = np.zeros((750, 1000), np.uint8)
    mask[300:420, 400:600] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    api = Api(server.url)
    image, hole = api.upload(tmp_path / "photo.png"), api.upload(tmp_path / "mask.png")
    results = server.cache / "sketchface-results"
    for _ in range(12):
        event, (out,) = api.call("edit", [image, hole, None, None, 0.5, False])
        assert event == "complete"
        assert sum(p.stat().st_size for p in results.glob("*.png")) <= 3 * 2**20
    assert Path(out["path"]).parent == results  # served from where it was written: no second copy
    copies = [p for p in server.cache.rglob("*.png") if p.name == Path(out["path"]).name]
    assert copies == [Path(out["path"])]
    download = api.http.get(out["url"])
    assert download.status_code == 200 and download.content == Path(out["path"]).read_bytes()


def test_the_cap_never_takes_a_result_younger_than_the_minimum_age(tmp_path):
    import os
    import time

    from webapp.files import ResultFiles

    noise = np.random.default_rng(1).integers(0, 256, (200, 300, 3), dtype=np.uint8)  # ~180 kB as PNG
    results = ResultFiles(tmp_path, max_bytes=200_000)  # the default minimum age: minutes
    first, second = results.save(noise, "edited"), results.save(noise, "edited")
    assert Path(first).is_file() and Path(second).is_file()  # over the cap, but just made: kept
    old = time.time() - results.min_age - 1
    os.utime(first, (old, old))
    results.save(noise, "edited")
    assert not Path(first).exists() and Path(second).is_file()  # the oldest old enough goes first
    os.utime(second, (time.time() - results.max_age - 1,) * 2)
    results.prune()
    assert not Path(second).exists()  # past the maximum age, whatever the total


def test_a_short_load_test_answers_every_request_correctly(tmp_path):
    """webapp.loadtest, short: two clients for 20 s mixing good edits, canvas runs, a text
    file, a bomb and an empty mask; nothing wrong, nothing lost (docs/benchmarks.md has the long runs)."""
    from webapp import loadtest

    report = tmp_path / "load.json"
    assert loadtest.main(["--clients", "2", "--seconds", "20", "--max-requests", "40", "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert set(result["kinds"]) == set(loadtest.KINDS)
    assert all(k["wrong"] == 0 and k["lost"] == 0 for k in result["kinds"].values())
    assert result["rss_peak_mb"] - result["rss_after_warm_up_mb"] < 400
