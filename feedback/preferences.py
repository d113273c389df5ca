"""Votes -> preference pairs: the majority choice per pair, its agreement, and gold-check trust.

Only pairs whose majority says "a better" or "b better" become preferences; a tie for first,
a majority of "tie" or of "both bad" says nothing about which text to prefer.
"""

from __future__ import annotations

from collections import Counter

from feedback.agreement import by_pair, failed_gold, majority
from storage import pairs as pair_store
from storage import tasks, votes as vote_store
from storage.db import Store
from storage.terms import CHOICES, A, B


def trusted_votes(store: Store, task: dict, exclude_failed_gold: bool = False, split: str | None = None) -> list[dict]:
    """The task's votes (one split if given), without those of annotators below the task's gold threshold if asked."""
    votes = vote_store.list_votes(store, task["id"], split=split)
    if exclude_failed_gold:
        # Gold accuracy is judged on all of an annotator's gold votes in the task, whatever the split.
        failed = failed_gold(vote_store.list_votes(store, task["id"]), task["gold_threshold"])
        votes = [v for v in votes if v["user_id"] not in failed]
    return votes


def preference_pairs(store: Store, task_name: str, min_agreement: float = 0.0, exclude_failed_gold: bool = False,
                     split: str | None = None) -> list[dict]:
    """Majority preferences of a task as dicts (pair_id, prompt_id, prompt, chosen, rejected, agreement, n_votes, ...).

    `agreement` is the majority's share of the pair's votes (after the gold filter); pairs below
    `min_agreement` are left out. Extra keys name the chosen and rejected outputs and strategies.
    """
    task = tasks.get_task(store, task_name)
    grouped = by_pair(trusted_votes(store, task, exclude_failed_gold, split))
    out = []
    for pair in pair_store.list_pairs(store, task["id"]):
        pair_votes = grouped.get(pair["id"])
        if not pair_votes:
            continue
        winner, agreement = majority(v["choice"] for v in pair_votes)
        if winner not in (A, B) or agreement < min_agreement:
            continue
        loser = B if winner == A else A
        counts = Counter(v["choice"] for v in pair_votes)
        out.append({
            "pair_id": pair["id"], "prompt_id": pair["prompt_id"], "prompt": pair["prompt_text"],
            "chosen": pair[f"text_{winner}"], "rejected": pair[f"text_{loser}"],
            "agreement": agreement, "n_votes": len(pair_votes),
            "chosen_output": pair[f"output_{winner}"], "rejected_output": pair[f"output_{loser}"],
            "chosen_strategy": pair[f"strategy_{winner}"], "rejected_strategy": pair[f"strategy_{loser}"],
            "votes": {c: counts.get(c, 0) for c in CHOICES}, "split": pair["split"],
        })
    return out
