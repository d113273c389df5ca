"""Recipes (feedback.recipes): one registry the product and the experiment share. Every recipe is an experiment
row, `train --recipe R` queues its method and settings (the experiment's row config at the recipe's steps and
rate), `pairs --recipe R` schedules its plan, and a changed recipe is recorded as changed on the version."""

import pytest

import app
from feedback.pair_plan import plan_pairs
from feedback.recipes import DEFAULT_RECIPE, RECIPE_LEARNING_RATE, RECIPE_TRAIN, RECIPES
from storage import jobs, pairs
from storage import tasks as task_store
from study.experiment import ExperimentConfig
from study.experiment_rows import ROWS
from study.experiment_runner import row_train_config
from tests.fixtures_trainer import add_output, task_with_outputs
from training import methods
from training.config import TrainConfig
from training.recipe_config import recipe_record, recipe_text

SHARED = ("loss_type", "loss_weights", "lora_r", "lora_alpha", "max_steps", "learning_rate", "batch_size", "max_length",
          "gradient_checkpointing", "save_steps")


def test_the_experiments_rows_are_the_recipes():
    assert ROWS is RECIPES and RECIPES[DEFAULT_RECIPE].plan


@pytest.mark.parametrize("name", RECIPES.names)
def test_train_with_a_recipe_queues_its_method_and_the_experiments_settings(name, settings, store):
    task_with_outputs(store, n=1)
    recipe = RECIPES[name]
    assert recipe.method in methods.NAMES and (bool(recipe.plan) != bool(recipe.labels)) and recipe.purpose
    if recipe.plan:
        assert plan_pairs(recipe.plan)
    assert app.main(["train", "--task", "toy", "--recipe", name]) == 0
    job = jobs.list_jobs(store, kind="train")[0]
    config = TrainConfig.from_dict(job["params"]["config"]).to_dict()
    assert job["params"]["method"] == recipe.method and job["params"]["recipe"] == {"name": name, "changed": {}}
    row = row_train_config(ExperimentConfig(train_steps=RECIPE_TRAIN["max_steps"], learning_rate=RECIPE_LEARNING_RATE), recipe, "cpu").to_dict()
    assert {k: config[k] for k in SHARED} == {k: row[k] for k in SHARED}
    if recipe.plan:
        assert config["min_agreement"] == recipe.min_agreement
        assert config["label_smoothing"] == (-1.0 if recipe.label_smoothing is None else recipe.label_smoothing)
    else:
        assert recipe.labels in (config["refined_strategy"], config["weak_strategy"])


def test_train_defaults_to_the_default_recipe_and_records_what_was_changed(settings, store, capsys):
    task_with_outputs(store, n=1)
    assert app.main(["train", "--task", "toy", "--max-steps", "8", "--method", "kto"]) == 0
    job = jobs.list_jobs(store, kind="train")[0]
    assert job["params"]["recipe"] == {"name": DEFAULT_RECIPE, "changed": {"max_steps": 8, "method": "kto"}}
    assert f"recipe {DEFAULT_RECIPE} (changed: max_steps 8, method kto)" in capsys.readouterr().out
    assert app.main(["train", "--task", "toy", "--recipe", "none"]) == 0
    plain = jobs.list_jobs(store, kind="train")[0]
    assert "recipe" not in plain["params"] and plain["params"]["config"] == TrainConfig().validate().to_dict()


def test_a_changed_recipe_reads_as_changed():
    recipe = RECIPES[DEFAULT_RECIPE]
    record = recipe_record(DEFAULT_RECIPE, recipe.method, TrainConfig.from_dict({**recipe.settings(), "lora_r": 4}))
    assert record == {"name": DEFAULT_RECIPE, "changed": {"lora_r": 4}}
    assert recipe_text(record) == f"{DEFAULT_RECIPE} (changed: lora_r 4)" and recipe_text({}) == ""


def test_pairs_schedules_the_recipes_plan(settings, store, capsys):
    task_id = task_with_outputs(store, n=3)
    for prompt in task_store.list_prompts(store, task_store.get_task(store, "toy")["prompt_set"], "train"):
        add_output(store, task_id, prompt["id"], "strong-base", f"Plain answer to {prompt['text']}")
    before = {p["id"] for p in pairs.list_pairs(store, task_id)}
    assert app.main(["pairs", "--task", "toy", "--n", "3"]) == 0
    new = {p["batch"] for p in pairs.list_pairs(store, task_id) if p["id"] not in before}
    assert new == {f"{a} vs {b}" for a, b in plan_pairs(RECIPES[DEFAULT_RECIPE].plan)}


def test_a_recipes_figures_are_read_from_the_committed_reports(tmp_path):
    """The figures beside a recipe come from the rows named after it in results/**/report.md, not from typed text."""
    from study.recipe_figures import figures_text, recipe_figures
    from ui.train_tab import recipe_form

    run = tmp_path / "validation" / "toy-run"
    run.mkdir(parents=True)
    (run / "report.md").write_text(
        "### toy\n\n| row | concept [95% CI] | content [95% CI] | concept transferred | content kept | formula | repetition |\n"
        "|---|---|---|---|---|---|---|\n| strong base | 0.01 [0.00, 0.01] | 0.75 [0.70, 0.80] | 0.00 | 1.00 | 0.02 | 0.01 |\n"
        f"| {DEFAULT_RECIPE} | 0.33 [0.31, 0.35] | 0.62 [0.57, 0.68] | 0.34 | 0.74 | 0.54 | 0.01 |\n\n<!-- end of summary -->\n\n"
        "| row | concept |\n|---|---|\n| sft-weak | 0.1 |\n")
    assert recipe_figures(DEFAULT_RECIPE, tmp_path) == ["validation/toy-run: concept 0.33, content 0.62, formula 0.54"]
    assert recipe_figures("sft-weak", tmp_path) == []  # a row below the summary (the details) is not a measurement
    assert figures_text("sft-weak", tmp_path) == "Not measured in a committed run yet"
    # the Train tab shows the committed runs' figures of the default recipe beside its settings
    assert figures_text(DEFAULT_RECIPE) in recipe_form(DEFAULT_RECIPE)[2] and "Measured (results/): " in recipe_form(DEFAULT_RECIPE)[2]
