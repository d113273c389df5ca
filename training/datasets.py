"""Turn stored feedback and outputs into training examples, TRL datasets and a data snapshot.

Examples are plain dicts, the same for every caller (train jobs, the experiment runner); which
builder and which row shape a method uses is its entry in training.methods:
- preference (dpo, dpo-refined): {"id", "prompt", "chosen", "rejected", "agreement"}
- sft (sft-weak, sft-refined):   {"id", "prompt", "completion"}
- kto:                           {"id", "prompt", "completion", "label"}  (label True = desirable)
The prompt is the bare question: the model learns the concept without being told it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import TYPE_CHECKING

from storage import outputs as output_store
from storage import tasks as task_store
from storage.db import Store
from storage.terms import AXES, A, B

if TYPE_CHECKING:
    from training.config import TrainConfig


def _user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def preference_records(examples: list[dict]) -> tuple[list[dict], list[int]]:
    """Conversational prompt/chosen/rejected rows, and each row's size (prompt plus the longer answer)."""
    records = [{"prompt": _user(e["prompt"]), "chosen": _assistant(e["chosen"]), "rejected": _assistant(e["rejected"])} for e in examples]
    return records, [len(e["prompt"]) + max(len(e["chosen"]), len(e["rejected"])) for e in examples]


def sft_records(examples: list[dict]) -> tuple[list[dict], list[int]]:
    """Conversational prompt/completion rows, and each row's size."""
    records = [{"prompt": _user(e["prompt"]), "completion": _assistant(e["completion"])} for e in examples]
    return records, [len(e["prompt"]) + len(e["completion"]) for e in examples]


def kto_records(examples: list[dict]) -> tuple[list[dict], list[int]]:
    """Conversational prompt/completion/label rows, all of size 0.

    KTO rotates completions within a batch for its KL estimate, so the given order is kept.
    """
    records = [{"prompt": _user(e["prompt"]), "completion": _assistant(e["completion"]), "label": bool(e["label"])} for e in examples]
    return records, [0] * len(examples)




def snapshot(examples: list[dict]) -> dict:
    """What a model version was trained on: example ids, count and a hash of the exact texts."""
    canonical = json.dumps(examples, sort_keys=True, ensure_ascii=False).encode()
    return {"ids": [e["id"] for e in examples], "n": len(examples), "hash": hashlib.sha256(canonical).hexdigest()}


def voted_pair_examples(store: Store, task_name: str, config: TrainConfig) -> list[dict]:
    """dpo pairs: majority-vote preference pairs of a task, filtered by agreement, gold trust and split; a pair with an
    empty side or two equal texts is left out. (The experiment's pairs come from simulated verdicts instead:
    study.experiment_rows.voted_examples says how they differ.)"""
    from feedback.preferences import preference_pairs

    pairs = preference_pairs(
        store, task_name, min_agreement=config.min_agreement, exclude_failed_gold=config.exclude_failed_gold, split=config.split
    )
    return [
        {"id": p["pair_id"], "prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"], "agreement": p["agreement"]}
        for p in pairs
        if p["chosen"].strip() and p["rejected"].strip() and p["chosen"] != p["rejected"]
    ]


def latest_outputs(store: Store, task_id: int, strategy: str, split: str) -> dict[int, dict]:
    """{prompt_id: newest non-empty output of `strategy`} for a task's prompts in `split`."""
    return output_store.newest_per_prompt(store, task_id, strategy, split=split, non_empty=True)


def label_examples(store: Store, task_name: str, strategy: str, config: TrainConfig) -> list[dict]:
    """SFT examples: the bare prompt and the newest output of `strategy` for each prompt of the split."""
    task = task_store.get_task(store, task_name)
    rows = latest_outputs(store, task["id"], strategy, config.split)
    return [{"id": r["id"], "prompt": r["prompt_text"], "completion": r["text"]} for _, r in sorted(rows.items())]


def refined_pair_examples(store: Store, task_name: str, config: TrainConfig) -> list[dict]:
    """dpo-refined pairs: chosen = the refined output, rejected = the weak label, per prompt that has both."""
    task = task_store.get_task(store, task_name)
    refined = latest_outputs(store, task["id"], config.refined_strategy, config.split)
    weak = latest_outputs(store, task["id"], config.weak_strategy, config.split)
    return [
        {
            "id": f"{refined[p]['id']}>{weak[p]['id']}",
            "prompt": refined[p]["prompt_text"],
            "chosen": refined[p]["text"],
            "rejected": weak[p]["text"],
            "agreement": None,
        }
        for p in sorted(set(refined) & set(weak))
        if refined[p]["text"] != weak[p]["text"]
    ]


def rating_examples(store: Store, task_name: str, config: TrainConfig) -> list[dict]:
    """KTO examples from 1-5 ratings: each rated output's mean concept+content rating over annotators,
    desirable at or above kto_threshold, undesirable at or below 6 - kto_threshold, else left out."""
    from feedback.preferences import trusted_votes

    task = task_store.get_task(store, task_name)
    ratings: dict[int, list[float]] = defaultdict(list)
    for vote in trusted_votes(store, task, config.exclude_failed_gold, config.split):
        for side in (A, B):
            given = [vote[f"{axis}_{side}"] for axis in AXES if vote[f"{axis}_{side}"] is not None]
            if given:
                ratings[vote[f"output_{side}"]].append(sum(given) / len(given))
    examples = []
    for output_id, values in sorted(ratings.items()):
        mean = sum(values) / len(values)
        if config.kto_threshold > mean > 6 - config.kto_threshold:
            continue
        row = output_store.get_output(store, output_id)
        examples.append({"id": output_id, "prompt": row["prompt_text"], "completion": row["text"], "label": mean >= config.kto_threshold})
    return examples
