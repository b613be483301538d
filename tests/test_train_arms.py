"""Recipe arms side by side (train.arms): each its own resumable train.fit run, one summary."""
import json
from pathlib import Path

import pytest

from train import arms, prepare
from train.config import load_recipe

ROOT = Path(__file__).resolve().parent.parent
TINY = ["model.width=0.125", "model.layer_size=6", "model.resolution=128", "data.batch_size=2", "data.workers=0", "data.crop=64",
        "data.full_every=2", "data.full_batch=1", "loss.perceptual_size=64", "run.validate_every=0",
        "run.log_every=1"]


@pytest.fixture(scope="module")
def cache(face_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("arms-cache") / "faces"
    assert prepare.main(["--data", str(face_folder), "--out", str(out), "--size", "128", "--detector", "gradient"]) == 0
    return out


def _arms_file(tmp_path: Path) -> Path:
    path = tmp_path / "study.toml"
    path.write_text('base = "sharp"\n\n[arms.plain]\nwhy = "as it is"\n\n'
                    '[arms.inked]\nwhy = "inked fakes"\noverrides = ["loss.inked_fakes=1.0", "loss.style=0"]\n')
    return path


def test_images_per_step_counts_the_whole_face_steps():
    recipe = load_recipe("sharp")  # 8 crops, every other step 2 whole faces
    assert arms.images_per_step(recipe) == 5.0
    assert arms.images_per_step(load_recipe("sharp", ["data.full_every=0"])) == 8.0


def test_two_arms_train_side_by_side_resume_and_are_summarised(cache, tmp_path, capsys):
    study = _arms_file(tmp_path)
    out = tmp_path / "runs"
    common = [str(study), "--data", str(cache), "--out", str(out), "--threads", "1", "--report", "1",
              *[f"--set={s}" for s in TINY], "--vgg", "random"]
    assert arms.main([*common, "--images", "3"]) == 0  # 3 images = 2 steps (2 crops, then 1 whole face)
    for name in ("plain", "inked"):
        recipe = json.loads((out / name / "recipe.json").read_text())
        assert recipe["data"]["batch_size"] == 2
    assert json.loads((out / "inked" / "recipe.json").read_text())["loss"]["inked_fakes"] == 1.0
    assert arms.main([*common, "--images", "6"]) == 0  # the same command continues both
    table = (out / "arms.md").read_text()
    assert "| plain | 4 | 6 |" in table and "| inked | 4 | 6 |" in table
    assert "--resume" in (out / "plain" / "train.log").read_text()
    assert "img/s" in capsys.readouterr().out


def test_a_bad_arms_file_or_arm_name_is_one_clear_error(cache, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "sharp"\n[arms.x]\noverrides = ["loss.nonsense=1"]\n')
    assert arms.main([str(bad), "--data", str(cache), "--out", str(tmp_path / "r")]) == 2
    assert "nonsense" in capsys.readouterr().err
    assert arms.main([str(_arms_file(tmp_path)), "--data", str(cache), "--out", str(tmp_path / "r"),
                      "--only", "plain,zzz"]) == 2
    assert "zzz" in capsys.readouterr().err
