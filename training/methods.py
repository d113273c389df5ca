"""The training methods by name: one entry carries everything Refinery knows about a method.

An entry says where the method's examples come from (a builder over stored feedback and
outputs), which TRL trainer runs it and in which dataset shape, its default learning rate, and
whether it needs human votes. A new method is one entry here plus its test (tests/test_trainers.py
loops over REGISTRY). Trainer builders live in training.trainers and are imported only when a run
builds one, so listing methods stays cheap (the web app does it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from registry import Registry
from storage import tasks as task_store
from storage.errors import UserError
from training import datasets as tds

if TYPE_CHECKING:
    from storage.db import Store
    from training.config import TrainConfig

# LoRA tolerates much higher rates than full fine-tuning; SFT needs more push than DPO, whose
# implicit reward (beta * log-ratio) reacts strongly to small weight changes.
PREFERENCE_LR = 5e-5
SFT_LR = 2e-4


def _trainer(name: str) -> Callable:
    """A function that builds a trainer with training.trainers.<name>, importing TRL only when called."""
    def build(*args, **kwargs):
        return getattr(importlib.import_module("training.trainers"), name)(*args, **kwargs)

    build.__name__ = name
    return build


@dataclass(frozen=True)
class Method:
    """One training method: its data, its trainer, its default rate."""

    name: str
    examples: Callable[["Store", str, "TrainConfig"], list[dict]]  # (store, task name, config) -> plain example dicts
    records: Callable[[list[dict]], tuple[list[dict], list[int]]]  # examples -> (TRL rows, sort sizes)
    trainer: Callable  # (config, examples, common TrainingArguments, trainer kwargs) -> a TRL trainer
    missing: Callable[[str, "TrainConfig"], tuple[str, str]]  # (task, config) -> (what was missing, how to get it)
    default_lr: float
    needs_votes: bool  # its examples come from annotators' votes or ratings
    preference: bool  # trained on chosen/rejected pairs with DPO (label smoothing, reference log-probs)


def _no_votes(task: str, c: "TrainConfig") -> tuple[str, str]:
    return (
        f"no preference pairs with votes for task {task!r} in the {c.split} split"
        f" (min agreement {c.min_agreement}, annotators failing gold checks {'excluded' if c.exclude_failed_gold else 'kept'})",
        "collect votes in the Annotate tab, or lower --min-agreement / turn off --exclude-failed-gold",
    )


def _no_both(task: str, c: "TrainConfig") -> tuple[str, str]:
    return (
        f"no prompt of task {task!r} ({c.split} split) has both a {c.refined_strategy!r} and a {c.weak_strategy!r} output",
        f"generate both first: python app.py generate --task {task} --strategy {c.refined_strategy} (and {c.weak_strategy})",
    )


def _no_outputs(strategy_of: Callable[["TrainConfig"], str]) -> Callable:
    def missing(task: str, c: "TrainConfig") -> tuple[str, str]:
        strategy = strategy_of(c)
        return (
            f"no {strategy!r} outputs for task {task!r} in the {c.split} split",
            f"generate them first: python app.py generate --task {task} --strategy {strategy}",
        )

    return missing


def _no_ratings(task: str, c: "TrainConfig") -> tuple[str, str]:
    return (
        f"no output of task {task!r} ({c.split} split) has 1-5 ratings clearly above or below the middle",
        "ask annotators to rate concept and content, or change --kto-threshold",
    )


_ENTRIES = (
    Method("dpo", tds.voted_pair_examples, tds.preference_records, _trainer("dpo_trainer"), _no_votes,
           PREFERENCE_LR, needs_votes=True, preference=True),
    Method("sft-weak", lambda store, task, c: tds.label_examples(store, task, c.weak_strategy, c), tds.sft_records,
           _trainer("sft_trainer"), _no_outputs(lambda c: c.weak_strategy), SFT_LR, needs_votes=False, preference=False),
    Method("sft-refined", lambda store, task, c: tds.label_examples(store, task, c.refined_strategy, c), tds.sft_records,
           _trainer("sft_trainer"), _no_outputs(lambda c: c.refined_strategy), SFT_LR, needs_votes=False, preference=False),
    Method("dpo-refined", tds.refined_pair_examples, tds.preference_records, _trainer("dpo_trainer"), _no_both,
           PREFERENCE_LR, needs_votes=False, preference=True),
    Method("kto", tds.rating_examples, tds.kto_records, _trainer("kto_trainer"), _no_ratings,
           PREFERENCE_LR, needs_votes=True, preference=False),
)
REGISTRY: Registry[Method] = Registry("method", _ENTRIES)
NAMES = REGISTRY.names
DEFAULT_METHOD = "dpo"  # a run without a recipe (`--recipe none`): DPO on the votes, at TrainConfig's defaults
get = REGISTRY.get  # the entry of a method by name; UserError naming the choices


def learning_rate(config: "TrainConfig", method: str) -> float:
    """The learning rate a run of `method` uses: the config's explicit one, or the method's default."""
    return config.learning_rate or get(method).default_lr


def build(store: "Store", task_name: str, method: str, config: "TrainConfig") -> tuple[list[dict], dict]:
    """The examples for `method` on a task after the config's filters, and their snapshot.

    Raises UserError saying what was missing and how to get it when no example is left.
    """
    task_store.get_task(store, task_name)  # a clear error for an unknown task before anything else
    entry = get(method)
    examples = entry.examples(store, task_name, config)
    if config.max_examples > 0:
        examples = examples[: config.max_examples]
    if not examples:
        what, fix = entry.missing(task_name, config)
        raise UserError(f"nothing to train on: {what}; {fix}")
    return examples, tds.snapshot(examples)


def to_trl_dataset(method: str, examples: list[dict]):
    """A conversational TRL dataset for `method`, shortest examples first.

    Sorting by length makes the reference log-prob pass (run in dataset order) pad little; the
    training sampler reshuffles batches of similar length. Returns a datasets.Dataset.
    """
    from datasets import Dataset  # heavy import, only where a run needs it

    records, size = get(method).records(examples)
    order = sorted(range(len(records)), key=lambda i: size[i])
    return Dataset.from_list([records[i] for i in order])
