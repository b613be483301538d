"""The app as users meet it: the real `python app.py` on a free loopback port, driven with
gradio_client; plus the handlers behind the buttons, called directly. Synthetic images and
scikit-image's public-domain astronaut only."""
from __future__ import annotations

import base64
import io
import os
import re
import sys
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conftest import free_port, running_app
from webapp.loadtest import RunningApp
from webapp import Handlers, Service
from inpaint.inputs import read_hints, read_inputs, read_marks

FEATHER = 16  # the editor's widest feather band, px: pixels farther than this from the mask never change
# The server runs without $SKETCHFACE_WEIGHTS_REPO, so it uses inpaint/checkpoints/ or the Telea fallback.
FALLBACK = not (ROOT / "inpaint" / "checkpoints" / "default.safetensors").is_file()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory) -> RunningApp:
    """`python app.py` as users start it, on a free port; stopped after the module."""
    with running_app(tmp_path_factory.mktemp("app")) as app:
        yield app


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    mask = np.zeros((90, 120), np.uint8)
    mask[30:60, 40:80] = 255
    sketch = np.zeros((90, 120, 4), np.uint8)
    sketch[45, 45:75] = (20, 20, 20, 255)
    paths = {"photo": folder / "photo.png", "mask": folder / "mask.png", "sketch": folder / "sketch.png",
             "empty": folder / "empty.png", "text": folder / "notes.png", "huge": folder / "huge.png"}
    Image.fromarray(photo).save(paths["photo"])
    Image.fromarray(mask).save(paths["mask"])  # grey-scale: white = redraw
    Image.fromarray(sketch, "RGBA").save(paths["sketch"])
    Image.fromarray(np.zeros((90, 120), np.uint8)).save(paths["empty"])
    paths["text"].write_text("not an image, despite the name\n")
    Image.new("L", (4097, 8)).save(paths["huge"])
    return paths


def far_from(mask: np.ndarray, distance: int) -> np.ndarray:
    """Pixels more than `distance` px from the mask."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) > distance


def check_edit(result_path: str, files: dict[str, Path]) -> None:
    photo = np.asarray(Image.open(files["photo"]))
    mask = np.asarray(Image.open(files["mask"])) > 127
    result = Image.open(result_path)
    assert result.format == "PNG" and result.size == (120, 90)
    out = np.asarray(result.convert("RGB"))
    outside = far_from(mask, FEATHER)
    assert np.array_equal(out[outside], photo[outside]), "pixels outside the mask changed"
    assert (out[mask] != photo[mask]).any(axis=-1).mean() > 0.5, "the masked region was not redrawn"


def edit(client, files, image="photo", mask="mask", **kwargs):
    from gradio_client import handle_file

    args = {"image": handle_file(files[image]), "mask": handle_file(files[mask])}
    return client.predict(**args, **kwargs, api_name="/edit")


# -- the `edit` API ----------------------------------------------------------------------------
def test_edit_returns_the_photo_redrawn_only_inside_the_mask(client, files, app_server):
    from gradio_client import handle_file

    check_edit(edit(client, files, sketch=handle_file(files["sketch"]), faithfulness=0.3, align=False), files)
    check_edit(edit(client, files), files)  # sketch and color are optional; align defaults to True
    assert "Running on local URL:  http://127.0.0.1:" in app_server.log.read_text()  # loopback by default


def test_edit_with_a_reference_and_no_mask_changes_only_around_that_part(client, tmp_path):
    """The API as the README shows it: the astronaut, a mirrored copy as the reference, the
    mouth taken; no mask, sketch or colour given. Only pixels near her mouth change, and they
    are the reference's own, moved in; with reference_mode "lines" the network draws them. A
    client that sends the six inputs `edit` had before keeps its old behaviour
    (tests/test_app_limits.py)."""
    from gradio_client import handle_file

    photo = np.asarray(Image.open(ROOT / "webapp" / "examples" / "astronaut.png").convert("RGB"))
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(np.ascontiguousarray(photo[:, ::-1])).save(tmp_path / "mirrored.png")
    out = np.asarray(Image.open(client.predict(handle_file(tmp_path / "photo.png"), None, None, None, 0.5, True,
                                               handle_file(tmp_path / "mirrored.png"), ["mouth"],
                                               api_name="/edit")).convert("RGB"))
    changed = (out != photo).any(axis=-1)
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 500  # the lips span about x 196–249, y 135–160
    assert 170 < xs.min() and xs.max() < 280 and 110 < ys.min() and ys.max() < 190
    # Her mirrored mouth's own pixels, moved in: no network runs, so any engine gives these bytes
    from inpaint import Editor

    moved_in = Editor.telea(256).edit(photo, reference=np.ascontiguousarray(photo[:, ::-1]), parts=["mouth"])
    assert np.array_equal(out, np.asarray(moved_in))
    drawn = np.asarray(Image.open(client.predict(handle_file(tmp_path / "photo.png"), None, None, None, 0.5, True,
                                                 handle_file(tmp_path / "mirrored.png"), ["mouth"], "auto", "lines",
                                                 api_name="/edit")).convert("RGB"))
    ys, xs = np.nonzero((drawn != photo).any(axis=-1))
    assert not np.array_equal(drawn, out) and 170 < xs.min() and xs.max() < 280 and 110 < ys.min() and ys.max() < 190


def test_edit_reshapes_with_the_photos_own_lines_and_gives_the_photo_back(client, tmp_path):
    """The astronaut's own lines over her mouth, as "Start from the photo's edges" draws them,
    sent with mode reshape: the photo comes back unchanged; with mode redraw the mouth is redrawn."""
    from gradio_client import handle_file

    import sketch
    from inpaint.face import face_part_mask
    from inpaint.face.parts import grow_mask, part_margin

    photo = np.asarray(Image.open(ROOT / "webapp" / "examples" / "astronaut.png").convert("RGB"))
    region = face_part_mask(photo, ["mouth"])
    mask = grow_mask(region, part_margin(region))
    own = sketch.own_strokes(photo, mask)  # the detector the server has (the same cache)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    Image.fromarray(own.astype(np.uint8) * 255).save(tmp_path / "own.png")
    inputs = [handle_file(tmp_path / name) for name in ("photo.png", "mask.png", "own.png")]
    for mode, same in (("reshape", True), ("redraw", False)):
        out = np.asarray(Image.open(client.predict(*inputs, None, 0.0, True, None, [], mode,
                                                   api_name="/edit")).convert("RGB"))
        assert np.array_equal(out, photo) == same, mode
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="mode must be one of auto, reshape, redraw|not in the list of choices"):
        client.predict(*inputs, None, 0.0, True, None, [], "warp", api_name="/edit")


def test_edit_info_tells_an_api_client_what_was_done_and_the_api_page_says_what_is_optional(client, files):
    from gradio_client import handle_file

    path, report = client.predict(handle_file(files["photo"]), handle_file(files["mask"]), api_name="/edit_info")
    check_edit(path, files)
    assert report["mode"] == "redraw" and report["frame"] in ("crop", "full", "aligned") and report["model"]
    assert isinstance(report["warnings"], list) and set(report["ms"]) >= {"read", "engine", "paste"}
    for name in ("/edit", "/edit_info"):
        parameters = {p["parameter_name"]: p for p in client.view_api(print_info=False, return_format="dict")
                      ["named_endpoints"][name]["parameters"]}
        assert not parameters["image"]["parameter_has_default"]
        assert all(parameters[k]["parameter_has_default"] for k in ("mask", "sketch", "color", "reference", "mode"))


@pytest.mark.parametrize("image, mask, kwargs, message", [
    ("text", "mask", {}, "not an image"),
    ("photo", "empty", {}, "The mask is empty"),
    ("huge", "mask", {}, "4097×8; the limit is 4096 px"),
    ("photo", "mask", {"faithfulness": 1.5}, "Faithfulness must be from 0"),
])
def test_bad_input_gets_a_plain_error_and_the_next_request_works(client, files, image, mask, kwargs, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as error:
        edit(client, files, image=image, mask=mask, **kwargs)
    assert message in str(error.value)
    assert "/tmp" not in str(error.value)  # names the user's file, not the server's temp path
    check_edit(edit(client, files, align=False), files)


def test_messages_keep_file_names_as_typed_and_a_whole_photo_mask_is_warned_about(client, files, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    data = files["photo"].read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(AppError) as error:
        edit(client, dict(files, truncated=tmp_path / "truncated.png"), image="truncated")
    assert str(error.value).startswith("truncated.png: truncated or corrupt image")
    Image.new("L", (120, 90), 255).save(tmp_path / "all.png")
    layer = np.zeros((90, 120, 4), np.uint8)
    layer[...] = (255, 255, 255, 178)
    Image.fromarray(layer, "RGBA").save(tmp_path / "all_layer.png")
    value = {"background": handle_file(files["photo"]), "composite": None, "layers": [handle_file(tmp_path / "all_layer.png")]}
    _, _, status = client.predict(value, 0.5, False, api_name="/run_canvas")
    assert "⚠️ the mask covers 100% of the photo" in status


def test_mask_of_another_shape_is_refused(client, files, tmp_path):
    from gradio_client.exceptions import AppError

    Image.new("L", (50, 50), 255).save(tmp_path / "square.png")
    files = dict(files, square=tmp_path / "square.png")
    with pytest.raises(AppError, match="The mask is 50×50 but the photo is 120×90"):
        edit(client, files, mask="square")


def test_eight_concurrent_uploads_of_the_same_file_are_all_answered(client, files):
    from gradio_client import handle_file

    jobs = [client.submit(handle_file(files["photo"]), handle_file(files["mask"]), None, None, 0.5, False,
                          api_name="/edit") for _ in range(8)]
    results = [job.result(timeout=120) for job in jobs]
    for path in results:
        check_edit(path, files)
    first = np.asarray(Image.open(results[0]))
    assert all(np.array_equal(first, np.asarray(Image.open(path))) for path in results[1:])


# -- the UI's Run, through its endpoint --------------------------------------------------------
def test_run_on_the_editor_value(client, files, tmp_path):
    from gradio_client import handle_file

    layer = np.zeros((90, 120, 4), np.uint8)
    layer[30:60, 40:80] = (255, 255, 255, 178)  # the Mask brush: white at 70 %
    Image.fromarray(layer, "RGBA").save(tmp_path / "mask_layer.png")
    value = {"background": handle_file(files["photo"]), "composite": None,
             "layers": [handle_file(tmp_path / "mask_layer.png"), handle_file(files["sketch"])]}
    (before, after), download, status = client.predict(value, 0.5, False, api_name="/run_canvas")
    assert np.array_equal(np.asarray(Image.open(before)), np.asarray(Image.open(files["photo"])))
    check_edit(after, files)
    assert download["value"] == after and download["visible"]
    assert re.search(r"Ran \*\*[\w.-]+\*\*.* · whole image \(align=False\) · \d+ sketch px · \d+ ms", status)
    assert ("opencv-telea" in status and "No trained weights were found" in status) == FALLBACK


# -- the buttons' handlers, in process ---------------------------------------------------------
@pytest.fixture(scope="module")
def handlers(tmp_path_factory) -> Handlers:
    from webapp.files import ResultFiles

    return Handlers(Service.start(warm_up=False), ResultFiles(tmp_path_factory.mktemp("results")))


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.open(ROOT / "webapp" / "examples" / "astronaut.png").convert("RGBA")


def decode(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def test_face_part_button_adds_that_part_as_mask(handlers, astronaut):
    layer = decode(handlers.face_part({"background": astronaut, "layers": []}, "Mouth"))
    assert layer.shape == (512, 512, 4)
    marked = layer[..., 3] > 127
    ys, xs = np.nonzero(marked)
    # the astronaut's lips span about x 196–249, y 135–160
    assert 185 < xs.min() < 200 and 245 < xs.max() < 262 and 125 < ys.min() < 140 and 155 < ys.max() < 172
    assert set(np.unique(layer[..., 3])) == {0, 178} and (layer[marked][:, :3] == 255).all()
    eyes = decode(handlers.face_part({"background": astronaut, "layers": []}, "Eyes"))[..., 3] > 127
    assert eyes.any() and not (eyes & marked).any()


def test_face_part_on_a_photo_without_a_face_says_so(handlers):
    plain = Image.new("RGB", (200, 200), "grey")
    with pytest.raises(gr.Error, match="No face found.*paint the mask by hand"):
        handlers.face_part({"background": plain, "layers": []}, "Mouth")
    with pytest.raises(gr.Error, match="Upload a photo first"):
        handlers.face_part(None, "Mouth")


def test_photo_edges_fill_the_sketch_layer_inside_the_mask_only(handlers, astronaut):
    mask = np.zeros((512, 512, 4), np.uint8)
    mask[120:175, 180:265] = (255, 255, 255, 178)  # around the mouth
    value = {"background": astronaut, "layers": [Image.fromarray(mask, "RGBA")]}
    lines = decode(handlers.photo_edges(value))[..., 3] > 127
    assert lines.sum() > 40, "the lips and teeth should give lines"
    assert not lines[mask[..., 3] == 0].any()
    with pytest.raises(gr.Error, match="Mask layer is empty"):
        handlers.photo_edges({"background": astronaut, "layers": [Image.new("RGBA", (512, 512))]})


def test_example_layers_are_served_for_the_examples_only(handlers):
    *urls, cleared = handlers.example_layers("smile")
    assert cleared == "" and all(url.startswith("data:image/png") for url in urls)
    mask, sketch, color = (decode(url)[..., 3] > 127 for url in urls)
    assert not (sketch & ~mask).any() and not (color & ~mask).any()  # sketch and hints inside the mask
    assert handlers.example_layers("") == ("", "", "", "")


# -- layers at the photo's size ----------------------------------------------------------------
def test_smaller_layers_are_scaled_up_without_grey_and_other_shapes_refused():
    photo = Image.new("RGB", (400, 300))
    small = np.zeros((150, 200, 4), np.uint8)  # the canvas at half the photo's size
    small[50:60, 80:81] = (0, 0, 0, 255)  # a 1-px line
    small[10:20, 10:20] = (200, 40, 40, 255)
    mask = read_marks(small, "mask", (400, 300))
    assert mask.shape == (300, 400) and mask[100:120, 160:162].all() and mask.sum() == 20 * 2 + 20 * 20
    rgb, hint = read_hints(small, (400, 300))
    assert hint.sum() == mask.sum() and (rgb[20:40, 20:40] == (200, 40, 40)).all()
    with pytest.raises(ValueError, match="the sketch is 100×100 but the photo is 400×300"):
        read_inputs(photo, small, np.zeros((100, 100, 4), np.uint8))


# -- concurrency -------------------------------------------------------------------------------
def test_with_concurrency_2_two_requests_run_at_once(files):
    """Each edit waits at a two-party barrier inside the engine: the requests finish only if
    both are inside `Editor.edit` at the same time (one at a time, the barrier breaks)."""
    import threading

    from gradio_client import Client, handle_file

    import webapp
    from webapp.config import Settings

    settings = Settings("127.0.0.1", free_port(), concurrency=2, queue_size=8, max_file_size="50mb")
    service = Service.start(warm_up=False, concurrency=2)
    assert torch.get_num_threads() == max(1, (os.cpu_count() or 1) // 2)
    barrier, real_edit = threading.Barrier(2, timeout=20), service.editor.edit

    def edit_when_both_are_in(*args, **kwargs):
        barrier.wait()
        return real_edit(*args, **kwargs)

    service.editor.edit = edit_when_both_are_in
    demo, _ = webapp.create(settings, service=service)
    demo.launch(server_name=settings.host, server_port=settings.port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{settings.port}/", verbose=False)
        jobs = [client.submit(handle_file(files["photo"]), handle_file(files["mask"]), None, None, 0.5, False,
                              api_name="/edit") for _ in range(2)]
        for job in jobs:
            check_edit(job.result(timeout=120), files)
    finally:
        demo.close()
        torch.set_num_threads(os.cpu_count() or 1)


# -- metadata and settings ---------------------------------------------------------------------
def test_edit_api_result_keeps_the_uploads_icc_profile_and_exif(client, files, tmp_path):
    from gradio_client import handle_file

    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Test Camera"
    Image.open(files["photo"]).save(tmp_path / "tagged.jpg", quality=95, icc_profile=icc, exif=exif)
    result = Image.open(client.predict(image=handle_file(tmp_path / "tagged.jpg"), mask=handle_file(files["mask"]),
                                       align=False, api_name="/edit"))
    assert result.info.get("icc_profile") == icc and result.getexif().get(0x010F) == "Test Camera"


def test_a_bad_max_file_size_stops_the_app_before_the_model_loads(monkeypatch):
    from webapp.config import Settings

    monkeypatch.setenv("SKETCHFACE_MAX_FILE_SIZE", "lots")
    with pytest.raises(SystemExit, match="SKETCHFACE_MAX_FILE_SIZE must be a size such as 50mb"):
        Settings.from_env()
    monkeypatch.setenv("SKETCHFACE_MAX_FILE_SIZE", "2.5 GB")
    assert Settings.from_env().max_file_size == "2.5 GB"


# -- the README, as written --------------------------------------------------------------------
def readme_block(marker: str) -> str:
    """The README's ```python block that contains `marker`."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    found = [b for b in blocks if marker in b]
    assert len(found) == 1, marker
    return found[0]


def run_snippet(code: str, tmp_path: Path) -> str:
    """Run a snippet "from the repository root" (its example files), writing only into tmp_path."""
    import subprocess

    (tmp_path / "webapp").symlink_to(ROOT / "webapp")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_readme_api_snippet_runs_as_written(app_server, tmp_path):
    code = readme_block("from gradio_client import").replace("http://127.0.0.1:7860/", app_server.url)
    out = run_snippet(code, tmp_path)
    assert "redraw" in out  # the report of edit_info: a mask and no lines is a fill


def test_the_readme_python_snippet_runs_as_written(tmp_path):
    out = run_snippet(readme_block("from inpaint import Editor"), tmp_path)
    assert out.split()[0] in ("reshape", "redraw") and (tmp_path / "edited.png").is_file()


def test_run_moves_in_only_what_was_taken_from_the_reference_still_chosen():
    """The page's state names the reference the parts were taken from and the photo they were
    taken into: Run uses them only with both (another reference or photo since: the layers alone)."""
    from webapp.handlers import parts_taken, photo_digest

    photo = np.zeros((8, 8, 3), np.uint8)
    digest = photo_digest(photo)
    state = {"reference": "/cache/a/face.png", "photo": digest, "parts": ["mouth", "eyes"]}
    assert parts_taken(state, "/cache/a/face.png", digest) == ["mouth", "eyes"]
    assert parts_taken(state, "/cache/b/other.png", digest) == [] and parts_taken(state, None, digest) == []
    photo[0, 0] = 1
    assert parts_taken(state, "/cache/a/face.png", photo_digest(photo)) == []
    assert parts_taken({}, "/cache/a/face.png", digest) == [] and parts_taken(None, "/cache/a/face.png", digest) == []
