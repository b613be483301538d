"""Recipes: every shipped recipe loads, overrides are typed, nonsense is refused clearly."""
import pytest

from train.config import RECIPE_DIR, load_recipe


@pytest.mark.parametrize("name", sorted(p.stem for p in RECIPE_DIR.glob("*.toml")))
def test_shipped_recipes_load_and_validate(name):
    recipe = load_recipe(name)
    recipe.validate()
    assert recipe.name == name


def test_overrides_by_field_and_by_section():
    recipe = load_recipe("cpu-small", ["batch_size=3", "loss.adversarial=0.1", "lr=1e-4", "precision=fp32"])
    assert recipe.data.batch_size == 3 and recipe.loss.adversarial == 0.1
    assert recipe.optim.lr == 1e-4 and recipe.run.precision == "fp32"


def test_bad_overrides_are_clear():
    with pytest.raises(ValueError, match="unknown recipe field 'nope'"):
        load_recipe("cpu-small", ["nope=1"])
    with pytest.raises(ValueError, match="batch_size must be int"):
        load_recipe("cpu-small", ["batch_size=two"])
    with pytest.raises(ValueError, match="key=value"):
        load_recipe("cpu-small", ["batch_size"])
    with pytest.raises(ValueError, match="no recipe 'huge'.*available: cpu-small, paper"):
        load_recipe("huge")
    with pytest.raises(ValueError, match="multiple of 2\\*\\*layer_size"):
        load_recipe("cpu-small", ["low_res=96"]).validate()
