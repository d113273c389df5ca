"""Helpers for the annotation tests: a small task with prompts, outputs from two strategies, pairs and users."""

from __future__ import annotations

from storage import outputs, pairs, tasks, users


def make_task(store, name: str = "toy", votes_per_pair: int = 2, gold_threshold: float = 0.7) -> int:
    """A task with its own prompt set; returns the task id."""
    return tasks.upsert_task(store, {
        "name": name, "title": f"Toy task {name}", "concept": "Answer like a pirate.",
        "guidelines": "Prefer the answer that **sounds like a pirate** and is correct.",
        "prompt_set": f"{name}-prompts", "votes_per_pair": votes_per_pair, "gold_threshold": gold_threshold,
    })


def make_pairs(store, task_id: int, n: int, votes_wanted: int = 2, strategies=("icl-refine", "weak"),
               prompt_texts: list[str] | None = None, texts=None, split: str = "train", references=None) -> list[int]:
    """n pairs, one per new prompt, each between an output of strategies[0] and one of strategies[1];
    `references(i)` gives prompt i a reference answer."""
    task = tasks.get_task_by_id(store, task_id)
    texts = texts or (lambda i, s: f"Answer {i} by {s}.")
    prompt_texts = prompt_texts or [f"Question {i}?" for i in range(n)]
    start = tasks.count_prompts(store, task["prompt_set"])
    tasks.insert_prompts(store, task["prompt_set"], [
        {"ext_id": f"q{start + i}", "text": t, "split": split, **({"reference": references(i)} if references else {})}
        for i, t in enumerate(prompt_texts)
    ])
    prompts = tasks.list_prompts(store, task["prompt_set"])[start:]
    rows = []
    for i, prompt in enumerate(prompts):
        a = outputs.add_output(store, task_id, prompt["id"], "m-strong", strategies[0], {}, 0, texts(i, strategies[0]))
        b = outputs.add_output(store, task_id, prompt["id"], "m-weak", strategies[1], {}, 0, texts(i, strategies[1]))
        rows.append((prompt["id"], a, b))
    return pairs.create_pairs(store, task_id, rows, votes_wanted=votes_wanted)


def make_users(store, n: int, role: str = "annotator", prefix: str = "ann") -> list[int]:
    """n accounts with an unusable password hash (tests that sign in use feedback.accounts instead)."""
    return [users.add_user(store, f"{prefix}{i}", "not-a-hash", role) for i in range(n)]
