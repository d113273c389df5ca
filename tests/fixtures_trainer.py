"""Helpers for the trainer tests: preference examples, a task with outputs, votes."""

from __future__ import annotations

from feedback import assignment
from storage import outputs, tasks
from tests.fixtures_annotation import make_pairs, make_task, make_users


def preference_examples(n: int = 8) -> list[dict]:
    """n plain preference examples (pirate answer chosen over a plain one)."""
    return [
        {"id": i, "prompt": f"Question {i}?", "chosen": "Arr matey, " * (1 + i % 3) + "aye.", "rejected": f"Plain answer {i}.", "agreement": 1.0}
        for i in range(n)
    ]


def task_with_outputs(store, name: str = "toy", n: int = 6, votes_wanted: int = 1) -> int:
    """A task whose n train prompts each have an icl-refine and a weak output, paired; returns the task id."""
    task_id = make_task(store, name)
    make_pairs(store, task_id, n, votes_wanted=votes_wanted, texts=lambda i, s: ("Arr, answer {} be right." if s == "icl-refine" else "Answer {} maybe.").format(i))
    return task_id


def vote_all(store, task_id: int, n_users: int, choice: str = "a", prefix: str = "ann", ratings: dict | None = None) -> None:
    """Every one of n_users new annotators votes `choice` ('a' or 'b', pair terms) on every pair of the task.

    ratings: optional {"a": n, "b": n}, given as both the concept and content rating of that side.
    """
    for user_id in make_users(store, n_users, prefix=prefix):
        while (view := assignment.next_pair(store, user_id, task_id, timeout_s=600)) is not None:
            left_is_choice = (choice == "b") == view["swapped"]
            left, right = ("b", "a") if view["swapped"] else ("a", "b")
            sides = {side: {"concept": ratings[side], "content": ratings[side]} for side in "ab"} if ratings else {"a": {}, "b": {}}
            assignment.submit(store, user_id, view["pair_id"], "A is better" if left_is_choice else "B is better",
                              left=sides[left], right=sides[right])


def add_output(store, task_id: int, prompt_id: int, strategy: str, text: str) -> int:
    """One more output of `strategy` for a prompt."""
    return outputs.add_output(store, task_id, prompt_id, "m", strategy, {"v": text}, 0, text)


def prompt_ids(store, task_name: str) -> list[int]:
    """Ids of a task's prompts in import order."""
    task = tasks.get_task(store, task_name)
    return [p["id"] for p in tasks.list_prompts(store, task["prompt_set"])]
