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
    with pytest.raises(ValueError, match="anneal_to=100 must come after optim.finetune_from=200"):
        load_recipe("cpu-small", ["finetune_from=200", "anneal_to=100"]).validate()


def test_learning_rate_schedule_phases_and_cosine_anneal():
    from train.fit import lr_at

    recipe = load_recipe("cpu-small", ["lr=2e-4", "finetune_from=100", "lr_finetune=5e-5"])
    assert lr_at(recipe, 0) == lr_at(recipe, 99) == 2e-4
    assert lr_at(recipe, 100) == lr_at(recipe, 10**6) == 5e-5  # anneal_to=0: no anneal
    recipe.override("anneal_to=300")
    assert lr_at(recipe, 100) == pytest.approx(5e-5)
    assert lr_at(recipe, 200) == pytest.approx(2.5e-5)  # half way: half the rate
    assert lr_at(recipe, 150) == pytest.approx(5e-5 * (1 + 2**-0.5) / 2)
    assert lr_at(recipe, 300) == lr_at(recipe, 400) == 0.0
