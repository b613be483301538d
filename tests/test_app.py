"""The app as users meet it: a real Gradio server on loopback, driven with gradio_client."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    log = tmp_path_factory.mktemp("app") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_edit_through_the_running_app(server, tmp_path):
    from gradio_client import Client, handle_file

    photo = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    mask = np.zeros((90, 120, 4), np.uint8)
    mask[30:60, 40:80] = 255
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(mask, "RGBA").save(tmp_path / "mask.png")
    client = Client(server, verbose=False)
    value = {"background": handle_file(tmp_path / "photo.png"), "layers": [handle_file(tmp_path / "mask.png")],
             "composite": None}
    (before, after), status = client.predict(value, 0.5, False, api_name="/edit_layers")
    result = np.asarray(Image.open(after).convert("RGB"))
    assert result.shape == photo.shape
    outside = np.ones((90, 120), bool)
    outside[25:65, 35:85] = False
    assert np.array_equal(result[outside], photo[outside])
    assert "ms" in status
