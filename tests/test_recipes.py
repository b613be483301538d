"""Recipes reproduce what they name: the shipped model's is frozen, variants state their changes,
and an exported run records the recipe it was trained with, field for field."""
import json
from pathlib import Path

import pytest

from train.config import RECIPE_DIR, Recipe, load_recipe

ROOT = Path(__file__).resolve().parent.parent


def test_the_frozen_recipe_is_the_one_the_shipped_weights_record():
    recorded = json.loads((ROOT / "inpaint" / "checkpoints" / "default.json").read_text())["training"]["recipe_fields"]
    frozen = load_recipe("shipped/stage12").to_dict()
    for section, values in recorded.items():
        if section == "name":
            continue
        for key, value in values.items():  # every field the run recorded, as it was
            assert frozen[section][key] == value, f"{section}.{key}"
    # and the fields added since keep the values that reproduce it
    assert frozen["data"]["full_every"] == 0 and frozen["data"]["recolor_prob"] == 0.0
    assert frozen["model"]["upsample"] == "nearest" and frozen["model"]["sketch_from"] == 0


def test_every_recipe_file_loads_and_says_what_it_is_for():
    files = sorted(RECIPE_DIR.rglob("*.toml"))
    assert {p.relative_to(RECIPE_DIR).as_posix() for p in files} >= {
        "sharp.toml", "sharp-gpu.toml", "cpu-small.toml", "paper.toml", "shipped/stage12.toml", "arms/ink.toml"}
    for path in files:
        assert path.read_text().startswith("#"), f"{path.name}: no header comment"
        if "arms" not in path.parts:
            load_recipe(str(path.relative_to(RECIPE_DIR).with_suffix("")))


def test_a_variant_states_only_its_changes(tmp_path):
    gpu, sharp = load_recipe("sharp-gpu").to_dict(), load_recipe("sharp").to_dict()
    assert gpu["data"]["batch_size"] == 48 and gpu["run"]["precision"] == "amp"
    assert gpu["loss"] == sharp["loss"] and gpu["model"] == sharp["model"]
    variant = tmp_path / "v.toml"
    variant.write_text('extends = "sharp"\nname = "v"\n[loss]\nstructure = 0.5\n')
    recipe = load_recipe(str(variant))
    assert recipe.name == "v" and recipe.loss.structure == 0.5 and recipe.loss.hole == sharp["loss"]["hole"]


def test_an_exported_run_records_its_recipe_field_for_field(tmp_path, face_folder):
    from release import export
    from train import fit

    run = tmp_path / "run"
    overrides = ["model.width=0.125", "batch_size=2", "workers=0", "crop=0", "full_every=0", "resolution=128",
                 "validate_every=0", "sample_every=1000", "perceptual=0", "style=0", "adversarial=0",
                 "precision=fp32", "loss.structure=0.25"]
    assert fit.main(["--data", str(face_folder), "--recipe", "sharp", "--out", str(run), "--steps", "1",
                     "--threads", "1", *overrides]) == 0
    out = export.export(run, tmp_path / "w.safetensors")
    recorded = json.loads(out.with_suffix(".json").read_text())["training"]["recipe_fields"]
    assert Recipe.from_dict(recorded) == Recipe.from_dict(json.loads((run / "recipe.json").read_text()))
    assert recorded["loss"]["structure"] == 0.25 and recorded["model"]["width"] == 0.125


@pytest.mark.parametrize("name", ["sharp", "shipped/stage12"])
def test_the_recipes_train_the_shipped_architecture(name):
    recorded = json.loads((ROOT / "inpaint" / "checkpoints" / "default.json").read_text())["config"]
    config = load_recipe(name).model.generator_config().to_dict()
    assert {k: config[k] for k in ("width", "layer_size", "sketch_levels", "resolution")} == \
        {k: recorded[k] for k in ("width", "layer_size", "sketch_levels", "resolution")}
