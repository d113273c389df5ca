"""Which pair an annotator sees next, on which side, and recording their vote or skip.

Policy (the SQL lives in storage.assignments): each pair wants `votes_wanted` votes from distinct
annotators; an annotator never gets a pair twice; a pair already promised to as many annotators as
it needs votes is not served again until one of them answers, skips, or lets the assignment expire
(`settings.assignment_timeout_s`). Early overlap: a task's first OVERLAP_PAIRS pairs are served
first, the one most voted on first, until each has OVERLAP_VOTES votes (or its votes_wanted, if
fewer), so the first annotators meet on the same pairs and agreement shows after a few votes each
(with the fewest-votes rule alone they would get disjoint pairs). After that, pairs with the fewest
votes go first. Left/right is drawn at random once per pair and annotator and stored, so votes are
kept in pair terms.
"""

from __future__ import annotations

import random
import time

from feedback import cut_answers
from storage import assignments, pairs, votes
from storage.db import Store
from storage.errors import UserError
from storage.terms import AXES, BOTH_BAD, TIE, A, B

# Screen verdicts: what the annotator clicks (A = left), and the choice each stands for as the annotator saw it.
A_BETTER, B_BETTER = "A is better", "B is better"
VERDICT_CHOICES = {A_BETTER: A, B_BETTER: B, "Tie": TIE, "Both bad": BOTH_BAD}
VERDICTS = tuple(VERDICT_CHOICES)

OVERLAP_PAIRS = 10  # a task's first pairs that every annotator meets first ...
OVERLAP_VOTES = 2  # ... until each has this many votes, the fewest agreement can be measured on


def next_pair(store: Store, user_id: int, task_id: int | None, timeout_s: float, now: float | None = None,
              rng: random.Random | None = None, overlap_pairs: int = OVERLAP_PAIRS) -> dict | None:
    """Serve the user a pair (recording the assignment) as it should appear on screen, or None if none is left.

    The result has pair_id, task_id, prompt_text, reference (the prompt's reference answer or None),
    swapped, and left/right text, model and strategy
    (model and strategy are for the reveal after voting, never shown before). `overlap_pairs`: how
    many of the task's first pairs are served for early overlap (see the module's policy).
    """
    now = time.time() if now is None else now
    swap = (rng or random).random() < 0.5
    served = assignments.serve_next(store, user_id, task_id, now=now, cutoff=now - timeout_s, swap=swap,
                                    overlap_pairs=overlap_pairs, overlap_votes=OVERLAP_VOTES)
    if served is None:
        return None
    return on_screen(pairs.get_pair(store, served["pair_id"]), bool(served["swapped"]))


def on_screen(pair: dict, swapped: bool) -> dict:
    """A pair laid out left/right: with swapped, output_b is on the left."""
    left, right = (B, A) if swapped else (A, B)
    view = {
        "pair_id": pair["id"], "task_id": pair["task_id"], "prompt_text": pair["prompt_text"], "swapped": swapped,
        "reference": pair.get("prompt_reference"),
    }
    for side, key in (("left", left), ("right", right)):
        for field in ("text", "model", "strategy"):
            view[f"{side}_{field}"] = pair[f"{field}_{key}"]
        view[f"{side}_max_new_tokens"] = cut_answers.max_new_tokens(pair.get(f"params_{key}"))
    return view


def screen_terms(verdict: str, left: dict | None = None, right: dict | None = None) -> tuple[str, dict[str, int]]:
    """A screen verdict and per-side ratings as (choice, ratings) with a = left, b = right, as the annotator saw them.

    The swap is undone by storage.votes.record_vote, in the transaction that checks the pair was served.
    """
    if verdict not in VERDICTS:
        raise UserError(f"choose one of: {', '.join(VERDICTS)}")
    sides = {A: left or {}, B: right or {}}
    return VERDICT_CHOICES[verdict], {f"{axis}_{key}": sides[key].get(axis) for key in (A, B) for axis in AXES}


def submit(store: Store, user_id: int, pair_id: int, verdict: str, left: dict | None = None, right: dict | None = None,
           correction: str | None = None, now: float | None = None, max_chars: int = 20_000) -> tuple[dict, bool]:
    """Record the user's vote on a pair served to them; returns (vote, created). A repeat returns the first vote."""
    if correction and len(correction) > max_chars:
        raise UserError(f"the better answer is {len(correction)} characters long; the limit is {max_chars}")
    choice, ratings = screen_terms(verdict, left, right)
    return votes.record_vote(store, pair_id, user_id, choice, ratings, correction,
                             now=time.time() if now is None else now, as_seen=True)


def skip(store: Store, user_id: int, pair_id: int) -> None:
    """Skip a pair served to the user: it is not served to them again and frees its slot for others."""
    if not assignments.skip(store, pair_id, user_id):
        raise UserError(f"pair {pair_id} was not served to you")


def pairs_left(store: Store, user_id: int, task_id: int | None) -> int:
    """How many pairs still want votes that the user has neither voted on nor skipped (those promised to
    others right now included: they come back if unanswered)."""
    return assignments.remaining_for(store, user_id, task_id)
