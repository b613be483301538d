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
        ("edit", [photo, mask, None, None, 0.5, True, photo, ["mouth"], "auto", "teeth"], "not in the list of choices"),
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
    for route in ("/gradio_api/call/nothing", "/gradio_api/run/nothing", "/gradio_api/api/nothing"):
        reply = api.http.post(route, json={"data": []})
        assert reply.status_code == 404 and "no endpoint 'nothing'" in reply.json()["error"], (route, reply.text)
    for route in ("/gradio_api/call/edit/no-such-event", "/gradio_api/queue/data?session_hash=no-such-session"):
        reply = api.http.get(route)
        assert reply.status_code == 404 and "waiting" in reply.json()["error"], (route, reply.text)
    reply = api.http.post("/gradio_api/api/edit", json={"data": []})  # the synchronous route: a 422, not a 500
    assert reply.status_code == 422 and "do not fit this endpoint" in reply.json()["error"], reply.text
    reply = api.http.post("/gradio_api/queue/join",  # a served index still runs
                          json={"data": ["no such example"], "fn_index": served, "session_hash": "s2", "trigger_id": None})
    assert reply.status_code == 200 and "event_id" in reply.json(), (served, reply.text)
    jpeg = tmp_path / "photo.jpg"
    Image.open(small["photo"]).convert("RGB").save(jpeg, quality=90)
    (tmp_path / "cut.jpg").write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    cut, photo = api.upload(tmp_path / "cut.jpg"), api.upload(small["photo"])
    calls = [(name, [value, *after_canvas(name)]) for name in ("run_canvas", "photo_edges", "face_part", "reference_mouth")
             for value in ({"background": cut, "layers": []}, {"background": photo, "layers": [cut]})]
    calls += [("reference_mouth", [{"background": photo, "layers": []}, cut]), ("edit", [cut, photo, None, None, 0.5, True]),
              ("edit_info", [photo, cut])]
    for name, data in calls:
        event, message = api.call(name, data)
        assert event == "error" and "truncated or corrupt" in message, (name, message)
    assert "Traceback" not in server.log.read_text() and "Exception in ASGI" not in server.log.read_text()


def test_a_4096_px_photo_with_a_full_mask_stays_within_500_mb(server, tmp_path):
    """The largest legitimate edit, through `edit` and through the page's Run: the server's peak
    memory over the request grows by at most 500 MB (the paste-back works in bands)."""
    y, x = np.mgrid[0:4096, 0:4096]
    photo = np.dstack([(x // 16) % 256, (y // 16) % 256, ((x + y) // 32) % 256]).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png", compress_level=1)
    Image.fromarray(np.full((4096, 4096), 255, np.uint8)).save(tmp_path / "mask.png")
    Image.fromarray(np.full((4096, 4096, 4), 255, np.uint8), "RGBA").save(tmp_path / "layer.png")
    api = Api(server.url)
    photo, mask, layer = (api.upload(tmp_path / name) for name in ("photo.png", "mask.png", "layer.png"))
    calls = [("edit", [photo, mask, None, None, 0.5, True]),
             ("run_canvas", [{"background": photo, "layers": [layer]}, 0.5, True])]
    for name, data in calls:
        open(f"/proc/{server.pid}/clear_refs", "w").write("5")
        before = rss_mb(server.pid)
        event, result = api.call(name, data)
        growth = rss_mb(server.pid, "VmHWM") - before
        assert event == "complete", (name, result)
        assert growth <= 500, f"{name}: a 4096² full-mask edit grew the server by {growth:.0f} MB"
        print(name, round(growth))
    assert "Traceback" not in server.log.read_text()


def test_a_4096_px_photo_with_a_3000_px_reference_stays_within_500_mb(server, tmp_path):
    """The largest transplant: the astronaut at 4096² given the mouth and eyes of her mirrored copy
    at 3000²; both faces found and fitted, the parts moved in, all within 500 MB."""
    import cv2
    from skimage.data import astronaut

    big = cv2.resize(astronaut(), (4096, 4096), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(big).save(tmp_path / "photo.png", compress_level=1)
    Image.fromarray(cv2.resize(np.ascontiguousarray(big[:, ::-1]), (3000, 3000), interpolation=cv2.INTER_AREA)).save(
        tmp_path / "reference.png", compress_level=1)
    api = Api(server.url)
    photo, reference = api.upload(tmp_path / "photo.png"), api.upload(tmp_path / "reference.png")
    open(f"/proc/{server.pid}/clear_refs", "w").write("5")
    before = rss_mb(server.pid)
    event, result = api.call("edit", [photo, None, None, None, 0.5, True, reference, ["mouth", "eyes"]])
    growth = rss_mb(server.pid, "VmHWM") - before
    assert event == "complete", result
    assert growth <= 500, f"a 4096² transplant grew the server by {growth:.0f} MB"


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


def test_a_burst_never_takes_the_results_past_one_and_a_half_times_the_cap(tmp_path):
    """Young results are kept at the cap, so they can still be downloaded, but less and less
    as the total nears 1.5× the cap: a burst of saves never takes the folder past it."""
    import os
    import time

    from webapp.files import ResultFiles

    noise = np.random.default_rng(1).integers(0, 256, (200, 300, 3), dtype=np.uint8)  # ~180 kB as PNG
    size = None
    results = ResultFiles(tmp_path, max_bytes=1_000_000)  # the default minimum age: minutes
    kept = []
    for k in range(20):
        kept.append(Path(results.save(noise + k, "edited")))
        size = size or kept[0].stat().st_size
        assert results.used_bytes() <= 1.5 * results.max_bytes
    assert results.used_bytes() > results.max_bytes  # young ones kept beyond the cap, within 1.5×
    assert kept[-1].is_file() and not kept[0].exists()  # the oldest went first
    for path in tmp_path.glob("*.png"):
        os.utime(path, (time.time() - results.min_age - 1,) * 2)
    results.prune()
    assert results.used_bytes() <= results.max_bytes  # old enough: down to the cap
    for path in tmp_path.glob("*.png"):
        os.utime(path, (time.time() - results.max_age - 1,) * 2)
    results.prune()
    assert not list(tmp_path.glob("*.png"))  # past the maximum age, whatever the total


def test_the_timer_prunes_without_a_new_result_and_a_photo_is_written_once(tmp_path):
    import os
    import time

    from webapp.files import BoundedFolder, Janitor, ResultFiles

    results = ResultFiles(tmp_path / "results", max_bytes=10**9)
    photo = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    first = results.save_once(photo, "photo")
    assert results.save_once(photo.copy(), "photo") == first and len(list(results.folder.glob("*.png"))) == 1
    assert results.save_once(photo[::-1], "photo") != first
    (tmp_path / "upload").mkdir()
    (tmp_path / "upload" / "a.jpg").write_bytes(b"x" * 5000)
    uploads = BoundedFolder(tmp_path, min_age=0, max_bytes=1000, pattern="**/*", exclude=results.folder)
    os.utime(first, (time.time() - results.max_age - 1,) * 2)
    janitor = Janitor([results, uploads], interval=0.05).start()
    try:
        deadline = time.time() + 5
        while (Path(first).exists() or (tmp_path / "upload" / "a.jpg").exists()) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        janitor.stop()
    assert not Path(first).exists() and not (tmp_path / "upload" / "a.jpg").exists()
    assert len(list(results.folder.glob("*.png"))) == 1  # the upload cap leaves the results alone


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


def test_thirty_edits_of_a_12_mp_photo_never_leave_more_than_one_and_a_half_times_the_cap(tmp_path_factory):
    """Issue 40's burst: `SKETCHFACE_RESULTS_MB=100`, the default minimum age, 30 edits of a
    4000×3000 photo as fast as the server answers: the results folder never holds over 150 MB."""
    folder = tmp_path_factory.mktemp("burst")
    y, x = np.mgrid[0:3000, 0:4000]
    photo = np.dstack([(x / 9) % 256, (y / 7) % 256, (x + y) / 13 % 256]).astype(np.uint8)
    photo = np.clip(photo.astype(np.int16) + np.random.default_rng(0).integers(-3, 4, photo.shape), 0, 255)
    Image.fromarray(photo.astype(np.uint8)).save(folder / "photo.png", compress_level=1)
    mask = np.zeros((3000, 4000), np.uint8)
    mask[1200:1700, 1700:2400] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    cache = folder / "gradio-cache"
    with running_app(folder, GRADIO_TEMP_DIR=str(cache), SKETCHFACE_RESULTS_MB="100") as app:
        api = Api(app.url)
        image, hole = api.upload(folder / "photo.png"), api.upload(folder / "mask.png")
        results, most = cache / "sketchface-results", 0
        for _ in range(30):
            event, _ = api.call("edit", [image, hole, None, None, 0.5, False])
            assert event == "complete"
            most = max(most, sum(p.stat().st_size for p in results.glob("*.png")))
        assert 100 * 2**20 < most <= 150 * 2**20, most / 2**20  # young results kept past the cap, within 1.5×
