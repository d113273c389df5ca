"""Assignment: k distinct annotators per pair, never twice, spread, early overlap then fewest votes first, timeouts, skips."""

import random

import pytest

from feedback import agreement, assignment
from storage import votes
from storage.errors import UserError
from tests.fixtures_annotation import make_pairs, make_task, make_users


def test_each_pair_gets_k_distinct_annotators_and_never_twice(store):
    task = make_task(store)
    pair_ids = make_pairs(store, task, 3, votes_wanted=2)
    users = make_users(store, 4)
    served = {u: [] for u in users}
    for _ in range(3):
        for user in users:
            view = assignment.next_pair(store, user, task, timeout_s=600)
            if view is None:
                continue
            served[user].append(view["pair_id"])
            assignment.submit(store, user, view["pair_id"], "Tie")
    for user, got in served.items():
        assert len(got) == len(set(got)), f"user {user} got a pair twice"
    for pair_id in pair_ids:
        voters = [v["user_id"] for v in votes.list_votes(store, task) if v["pair_id"] == pair_id]
        assert len(voters) == 2 and len(set(voters)) == 2
    assert all(assignment.next_pair(store, u, task, timeout_s=600) is None for u in users)


def test_concurrent_annotators_are_spread_over_different_pairs(store):
    task = make_task(store)
    make_pairs(store, task, 4, votes_wanted=1)
    users = make_users(store, 4)
    got = [assignment.next_pair(store, u, task, timeout_s=600)["pair_id"] for u in users]
    assert len(set(got)) == 4
    # The pool is fully promised: a fifth annotator gets nothing until someone answers or times out.
    extra = make_users(store, 1, prefix="late")[0]
    assert assignment.next_pair(store, extra, task, timeout_s=600) is None


def test_a_pick_from_a_stale_snapshot_is_checked_under_the_lock(store, monkeypatch):
    # Another annotator took the pair between this one's read pick and its write: never overfilled.
    from storage import assignments

    task = make_task(store)
    first, second = make_pairs(store, task, 2, votes_wanted=1)
    a, b = make_users(store, 2)
    taken = assignment.next_pair(store, a, task, timeout_s=600, overlap_pairs=0)["pair_id"]
    free = second if taken == first else first
    picks = []
    real_pick = assignments._pick

    def stale_pick(db, params):
        picks.append(db is store.read())
        return {"pair_id": taken} if db is store.read() else real_pick(db, params)

    monkeypatch.setattr(assignments, "_pick", stale_pick)
    assert assignment.next_pair(store, b, task, timeout_s=600, overlap_pairs=0)["pair_id"] == free
    assert picks == [True] * assignments.PICK_ATTEMPTS + [False]  # the last pick ran inside the transaction


def test_reload_returns_the_same_pair_with_the_same_side(store):
    task = make_task(store)
    make_pairs(store, task, 5)
    user = make_users(store, 1)[0]
    first = assignment.next_pair(store, user, task, timeout_s=600, rng=random.Random(1))
    again = assignment.next_pair(store, user, task, timeout_s=600, rng=random.Random(2))
    assert (again["pair_id"], again["swapped"], again["left_text"]) == (first["pair_id"], first["swapped"], first["left_text"])


def test_early_overlap_two_annotators_share_pairs_and_agreement_shows(store):
    task = make_task(store)
    make_pairs(store, task, 30, votes_wanted=2)
    a, b = make_users(store, 2)
    voted = {a: [], b: []}
    for user, verdicts in ((a, ["A is better", "Tie", "A is better", "B is better", "A is better"]),
                           (b, ["A is better", "Tie", "B is better", "B is better", "Both bad"])):
        for verdict in verdicts:  # one after the other, the case fewest-votes-first alone makes disjoint
            pair_id = assignment.next_pair(store, user, task, timeout_s=600)["pair_id"]
            assignment.submit(store, user, pair_id, verdict)
            voted[user].append(pair_id)
    assert len(set(voted[a]) & set(voted[b])) >= 3
    task_votes = votes.list_votes(store, task)
    (row,) = [r for r in agreement.task_overview(store) if r["task"] == "toy"]
    assert row["alpha"] is not None
    assert all(r["agreement"] is not None for r in agreement.annotator_table(task_votes))


def test_concurrent_annotators_meet_on_the_overlap_pairs(store):
    task = make_task(store)
    pair_ids = make_pairs(store, task, 6, votes_wanted=3)
    a, b, c = make_users(store, 3)
    # a and b open the first pair together; it then has the two votes overlap asks, so c moves on
    assert assignment.next_pair(store, a, task, timeout_s=600)["pair_id"] == pair_ids[0]
    assert assignment.next_pair(store, b, task, timeout_s=600)["pair_id"] == pair_ids[0]
    assert assignment.next_pair(store, c, task, timeout_s=600)["pair_id"] == pair_ids[1]


def test_after_the_overlap_pairs_the_fewest_votes_go_first(store):
    task = make_task(store)
    pair_ids = make_pairs(store, task, 5, votes_wanted=2)
    a, b = make_users(store, 2)
    serve = lambda user: assignment.next_pair(store, user, task, timeout_s=600, overlap_pairs=2)["pair_id"]  # noqa: E731
    for user in (a, b):
        for expected in pair_ids[:2]:  # both meet on the two overlap pairs, in order
            assert serve(user) == expected
            assignment.submit(store, user, expected, "Tie")
    third = serve(a)
    assert third in pair_ids[2:]
    # then fewest votes first: b gets a pair nobody holds, not the one a holds
    assert serve(b) in set(pair_ids[2:]) - {third}


def test_a_one_vote_task_keeps_one_vote_per_pair(store):
    task = make_task(store)
    pair_ids = make_pairs(store, task, 3, votes_wanted=1)
    a, b = make_users(store, 2)
    assert assignment.next_pair(store, a, task, timeout_s=600)["pair_id"] == pair_ids[0]
    assert assignment.next_pair(store, b, task, timeout_s=600)["pair_id"] == pair_ids[1]


def test_fewest_votes_first(store):
    task = make_task(store)
    pair_ids = make_pairs(store, task, 6, votes_wanted=3)
    a, b, c = make_users(store, 3)
    serve = lambda user: assignment.next_pair(store, user, task, timeout_s=600, overlap_pairs=0)  # noqa: E731
    for _ in range(5):
        assignment.submit(store, a, serve(a)["pair_id"], "Tie")
    (unvoted,) = set(pair_ids) - {v["pair_id"] for v in votes.list_votes(store, task)}
    # b must get the one pair nobody voted on (a random pick would, one time in six)
    first = serve(b)["pair_id"]
    assert first == unvoted
    assignment.submit(store, b, first, "Tie")
    for _ in range(4):
        assignment.submit(store, b, serve(b)["pair_id"], "Tie")
    # now four pairs have two votes and two have one: c must get one of the two
    counts = {p: 0 for p in pair_ids}
    for v in votes.list_votes(store, task):
        counts[v["pair_id"]] += 1
    assert sorted(counts.values()) == [1, 1, 2, 2, 2, 2]
    assert counts[serve(c)["pair_id"]] == 1


def test_unanswered_pair_returns_to_the_pool_after_the_timeout(store):
    task = make_task(store)
    (pair_id,) = make_pairs(store, task, 1, votes_wanted=1)
    a, b = make_users(store, 2)
    assert assignment.next_pair(store, a, task, timeout_s=60, now=1000.0)["pair_id"] == pair_id
    assert assignment.next_pair(store, b, task, timeout_s=60, now=1030.0) is None
    assert assignment.next_pair(store, b, task, timeout_s=60, now=1061.0)["pair_id"] == pair_id


def test_skip_frees_the_slot_and_is_not_served_again(store):
    task = make_task(store)
    (pair_id,) = make_pairs(store, task, 1, votes_wanted=1)
    a, b = make_users(store, 2)
    assert assignment.next_pair(store, a, task, timeout_s=600)["pair_id"] == pair_id
    assignment.skip(store, a, pair_id)
    assert assignment.next_pair(store, a, task, timeout_s=600) is None
    assert assignment.next_pair(store, b, task, timeout_s=600)["pair_id"] == pair_id
    assert assignment.pairs_left(store, a, task) == 0


@pytest.mark.parametrize("swap", [False, True])
def test_swap_is_undone_in_stored_choice_and_ratings(store, swap):
    task = make_task(store)
    make_pairs(store, task, 1)
    user = make_users(store, 1)[0]
    view = assignment.next_pair(store, user, task, timeout_s=600, rng=random.Random(1 if swap else 0))
    assert view["swapped"] == swap
    vote, _ = assignment.submit(store, user, view["pair_id"], "A is better",
                                left={"concept": 5, "content": 1}, right={"concept": 2})
    left, right = ("b", "a") if swap else ("a", "b")
    assert vote["choice"] == left
    assert (vote[f"concept_{left}"], vote[f"content_{left}"], vote[f"concept_{right}"], vote[f"content_{right}"]) == (5, 1, 2, None)
    with pytest.raises(UserError):
        assignment.screen_terms("left")


def test_vote_without_assignment_is_refused(store):
    task = make_task(store)
    (pair_id,) = make_pairs(store, task, 1)
    user = make_users(store, 1)[0]
    with pytest.raises(UserError, match="not served"):
        assignment.submit(store, user, pair_id, "Tie")
    assert votes.count_votes(store) == 0


def test_pairs_left_counts_unvoted_unskipped_pairs_still_wanting_votes(store):
    task = make_task(store)
    make_pairs(store, task, 3, votes_wanted=1)
    a, b = make_users(store, 2)
    assert assignment.pairs_left(store, a, task) == 3
    served = assignment.next_pair(store, b, task, timeout_s=600)["pair_id"]
    assert assignment.pairs_left(store, a, task) == 3  # promised to b, yet it comes back if b never answers
    assignment.submit(store, b, served, "Tie")
    assert assignment.pairs_left(store, a, task) == 2  # full now
    mine = assignment.next_pair(store, a, task, timeout_s=600)["pair_id"]
    assignment.skip(store, a, mine)
    assert assignment.pairs_left(store, a, task) == 1 and assignment.pairs_left(store, b, task) == 2
    assert assignment.pairs_left(store, a, task + 1000) == 0 and assignment.pairs_left(store, a, None) == 1


def test_shared_choices_are_the_votes_on_pairs_the_user_shares_with_others(store):
    task = make_task(store)
    shared, alone, others = make_pairs(store, task, 3, votes_wanted=2)
    a, b, c = make_users(store, 3)
    for user, pair, choice in ((a, shared, "tie"), (b, shared, "both_bad"), (a, alone, "tie"), (b, others, "tie"), (c, others, "tie")):
        with store.write() as db:  # served, so the vote is taken
            db.execute("INSERT INTO assignments (pair_id, user_id, swapped, served_at) VALUES (?, ?, 0, 1.0)", (pair, user))
        votes.record_vote(store, pair, user, choice, now=2.0)
    got = sorted((v["pair_id"], v["user_id"], v["choice"]) for v in votes.shared_choices(store, a, task))
    assert got == [(shared, a, "tie"), (shared, b, "both_bad")]
    assert votes.shared_choices(store, a, task + 1000) == []
    assert agreement.agreement_with_majority(votes.shared_choices(store, a))[a] == 0.0


def test_a_window_of_one_still_serves_the_fewest_votes_and_falls_back_to_every_pair(store, monkeypatch):
    from storage import assignments

    monkeypatch.setattr(assignments, "PICK_WINDOW", 1)
    task = make_task(store)
    pair_ids = make_pairs(store, task, 3, votes_wanted=2)
    a, b, c, d = make_users(store, 4)
    serve = lambda user: assignment.next_pair(store, user, task, timeout_s=600, overlap_pairs=0)["pair_id"]  # noqa: E731
    first = serve(a)
    assignment.submit(store, a, first, "Tie")
    second = serve(d)
    assert second != first  # the window is the one least-voted pair: one nobody voted on
    assignment.submit(store, d, second, "Tie")
    (unvoted,) = set(pair_ids) - {first, second}
    assert serve(b) == unvoted and serve(c) == unvoted  # b and c now hold it: full until they answer
    # the window (the unvoted pair) has nothing open to a: all pairs are looked at, and a gets the one d voted on
    assert serve(a) == second
