"""The project installs as a package: `pip install .` puts the engine, its default weights, the
app's examples and the recipes where the code finds them, from any folder."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`pip install .` into a folder of its own (no dependencies: they are this environment's)."""
    source, target = tmp_path_factory.mktemp("source") / "sketchface", tmp_path_factory.mktemp("site")
    # a clean copy: setuptools builds in the source tree and would reuse a stale build/ there
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 "tests", "docs", ".pytest_cache", ".gradio"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--target", str(target), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return target


def run_outside(installed: Path, *args: str) -> subprocess.CompletedProcess:
    """A command run from an empty folder, with the installed packages (not the checkout) importable."""
    away = installed.parent / "elsewhere"
    away.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(installed), "OMP_NUM_THREADS": "1"}
    return subprocess.run(list(args), cwd=away, env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_engine_loads_the_trained_default_from_anywhere(installed):
    script = ("import inpaint; from inpaint import Editor; e = Editor.load(detail=False); "
              "print(inpaint.__file__); print(e.kind, e.model_name)")
    done = run_outside(installed, sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr[-2000:]
    where, loaded = done.stdout.split("\n")[:2]
    assert where.startswith(str(installed))  # the installed copy, not the checkout
    assert loaded == "pconv default"  # the trained weights, not the Telea fallback


def test_the_cli_runs_as_a_module_and_as_the_sketchface_script(installed):
    for command in ([sys.executable, "-m", "inpaint", "--help"], [str(installed / "bin" / "sketchface"), "--help"]):
        done = run_outside(installed, *command)
        assert done.returncode == 0 and "--image" in done.stdout, done.stderr[-2000:]
    assert (installed / "bin" / "sketchface-app").is_file()


def test_package_data_is_installed(installed):
    script = ("from webapp import main; from webapp.examples import PHOTO, layer_path; "
              "from train.config import load_recipe; "
              "assert PHOTO.is_file() and layer_path('smile', 'Mask').is_file(); "
              "print(load_recipe('shipped/stage12').name, load_recipe('sharp-gpu').data.batch_size)")
    done = run_outside(installed, sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["stage12", "48"]
    assert not (installed / "tests").exists()
