"""Votes: one per pair and annotator, stored in pair terms, corrections kept as human outputs."""

import random

import pytest

from feedback import assignment
from storage import outputs, votes
from storage.errors import UserError
from tests.fixtures_annotation import make_pairs, make_task, make_users


def test_double_submission_stores_one_vote_and_acknowledges_the_same(store):
    task = make_task(store)
    make_pairs(store, task, 2)
    user = make_users(store, 1)[0]
    view = assignment.next_pair(store, user, task, timeout_s=600)
    first, created = assignment.submit(store, user, view["pair_id"], "A is better")
    again, created_again = assignment.submit(store, user, view["pair_id"], "B is better")
    assert created and not created_again
    assert again == first
    assert votes.count_votes(store) == 1


def test_choice_and_ratings_are_stored_in_pair_terms(store):
    task = make_task(store)
    make_pairs(store, task, 6)
    user = make_users(store, 1)[0]
    seen_swaps = set()
    rng = random.Random(0)  # seeded: both layouts occur (unseeded, all six were the same one time in 32)
    for _ in range(6):
        view = assignment.next_pair(store, user, task, timeout_s=600, rng=rng)
        vote, _ = assignment.submit(store, user, view["pair_id"], "A is better", left={"concept": 5, "content": 2},
                                    right={"concept": 1}, now=None)
        left_key = "b" if view["swapped"] else "a"
        assert vote["choice"] == left_key
        assert vote["swapped"] == int(view["swapped"])
        assert (vote[f"concept_{left_key}"], vote[f"content_{left_key}"]) == (5, 2)
        assert vote["seconds"] is not None and vote["seconds"] >= 0
        # The left text really is the output the stored choice names.
        row = next(v for v in votes.list_votes(store, task) if v["id"] == vote["id"])
        assert view["left_strategy"] == row[f"strategy_{vote['choice']}"]
        seen_swaps.add(view["swapped"])
    assert seen_swaps == {True, False}


def test_bad_ratings_and_choices_are_refused_without_writing(store):
    task = make_task(store)
    make_pairs(store, task, 1)
    user = make_users(store, 1)[0]
    view = assignment.next_pair(store, user, task, timeout_s=600)
    with pytest.raises(UserError, match="1 to 5"):
        assignment.submit(store, user, view["pair_id"], "Tie", left={"concept": 9})
    with pytest.raises(UserError):
        votes.record_vote(store, view["pair_id"], user, "left")
    assert votes.count_votes(store) == 0


def test_correction_becomes_a_human_output(store):
    task = make_task(store)
    make_pairs(store, task, 1)
    user = make_users(store, 1)[0]
    view = assignment.next_pair(store, user, task, timeout_s=600)
    vote, _ = assignment.submit(store, user, view["pair_id"], "Both bad", correction="  Arr, Canberra it be.  ")
    assert vote["correction"] == "Arr, Canberra it be."
    (human,) = outputs.list_outputs(store, task, strategy="correction")
    assert (human["model"], human["source"], human["text"]) == ("human", "human", "Arr, Canberra it be.")
    with pytest.raises(UserError, match="limit"):
        view2 = view  # the same pair again is a repeat and is refused by length before anything else
        assignment.submit(store, user, view2["pair_id"], "Tie", correction="x" * 30, max_chars=10)
