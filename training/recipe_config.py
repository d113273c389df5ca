"""A recipe (feedback.recipes) as a train job's method and TrainConfig, and the record a model version keeps of it."""

from __future__ import annotations

from feedback.recipes import RECIPES
from training.config import TrainConfig
from training.methods import DEFAULT_METHOD

NO_RECIPE = "none"  # `train --recipe none`: TrainConfig's defaults and --method, as before recipes
NOT_RECIPE_SETTINGS = ("model", "device")  # what to train and where: not part of how, so never a change to the recipe


def recipe_method_and_config(name: str) -> tuple[str, TrainConfig]:
    """(method, TrainConfig) of recipe `name` as the product trains it (NO_RECIPE: DEFAULT_METHOD at TrainConfig's
    defaults); UserError naming the recipes."""
    if name == NO_RECIPE:
        return DEFAULT_METHOD, TrainConfig()
    recipe = RECIPES.get(name)
    return recipe.method, TrainConfig.from_dict(recipe.settings()).validate()


def recipe_record(name: str, method: str, config: TrainConfig) -> dict:
    """{"name", "changed"}: what a job of recipe `name` trained with `method` and `config` changed from the recipe
    ({} for no recipe); "changed" maps each changed setting (and "method") to the value used."""
    if name == NO_RECIPE:
        return {}
    own_method, own = recipe_method_and_config(name)
    used, base = config.to_dict(), own.to_dict()
    changed = {k: v for k, v in used.items() if k not in NOT_RECIPE_SETTINGS and v != base.get(k)}
    if method != own_method:
        changed["method"] = method
    return {"name": name, "changed": changed}


def recipe_text(record: dict) -> str:
    """How a version's recipe reads in a table: 'dpo-concept-sft', 'dpo-concept-sft (changed: max_steps 8)' or ''."""
    if not record:
        return ""
    changed = record.get("changed") or {}
    return record["name"] + (f" (changed: {', '.join(f'{k} {v}' for k, v in changed.items())})" if changed else "")
