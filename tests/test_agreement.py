"""Agreement: majority, leave-one-out agreement, gold accuracy, Krippendorff's alpha, strategy win rates."""

import pytest

from feedback import agreement


def v(pair, user, choice, gold=None, sa="icl-refine", sb="weak", seconds=3.0):
    return {"pair_id": pair, "user_id": user, "username": f"u{user}", "choice": choice, "gold": gold,
            "strategy_a": sa, "strategy_b": sb, "seconds": seconds}


def test_majority_and_ties():
    assert agreement.majority(["a", "a", "b"]) == ("a", pytest.approx(2 / 3))
    assert agreement.majority(["a", "b"]) == (None, 0.5)
    assert agreement.majority([]) == (None, 0.0)


def test_agreement_with_majority_is_leave_one_out():
    votes = [v(1, 1, "a"), v(1, 2, "a"), v(1, 3, "b"), v(2, 1, "b"), v(2, 2, "b")]
    agree = agreement.agreement_with_majority(votes)
    # Pair 1: user 1's others are split a/b (half credit); pair 2: user 2 agrees (full).
    assert agree[1] == 0.75 and agree[2] == 0.75
    assert agree[3] == 0.0  # both others chose a
    # Others split 1-1: a choice among the tied ones earns half.
    assert agreement.agreement_with_majority([v(1, 1, "a"), v(1, 2, "a"), v(1, 3, "b")])[1] == 0.5
    assert agreement.agreement_with_majority([v(1, 1, "a")])[1] is None


def test_gold_accuracy_and_failed_gold():
    votes = [v(1, 1, "a", gold="a"), v(2, 1, "b", gold="a"), v(1, 2, "a", gold="a"), v(3, 3, "tie")]
    acc = agreement.gold_accuracy(votes)
    assert acc[1] == (0.5, 2) and acc[2] == (1.0, 1) and acc[3] == (None, 0)
    assert agreement.failed_gold(votes, threshold=0.7) == {1}


def test_krippendorff_alpha_perfect_and_undefined():
    perfect = [v(p, u, c) for p, c in [(1, "a"), (2, "b"), (3, "tie")] for u in (1, 2)]
    assert agreement.krippendorff_alpha(perfect) == pytest.approx(1.0)
    opposed = [v(1, 1, "a"), v(1, 2, "b"), v(2, 1, "b"), v(2, 2, "a")]
    assert agreement.krippendorff_alpha(opposed) < 0
    assert agreement.krippendorff_alpha([v(1, 1, "a")]) is None


def test_annotator_table():
    votes = [v(1, 1, "a", seconds=2), v(2, 1, "a", seconds=10, gold="b"), v(1, 2, "a", seconds=4)]
    rows = {r["username"]: r for r in agreement.annotator_table(votes)}
    assert rows["u1"]["votes"] == 2 and rows["u1"]["median_seconds"] == 6
    assert rows["u1"]["gold_accuracy"] == 0.0 and rows["u1"]["agreement"] == 1.0
    assert rows["u2"]["gold_accuracy"] is None


def test_strategy_win_rates_both_directions_with_intervals():
    votes = [v(i, 1, "a") for i in range(8)] + [v(10 + i, 1, "b") for i in range(2)]
    rows = {(r["strategy"], r["opponent"]): r for r in agreement.strategy_win_rates(votes, n_boot=200)}
    assert rows[("icl-refine", "weak")]["rate"] == pytest.approx(0.8)
    assert rows[("weak", "icl-refine")]["rate"] == pytest.approx(0.2)
    r = rows[("icl-refine", "weak")]
    assert r["lo"] <= 0.8 <= r["hi"] and r["hi"] - r["lo"] > 0


def test_task_overview(store):
    from feedback import assignment
    from tests.fixtures_annotation import make_pairs, make_task, make_users

    task = make_task(store)
    make_pairs(store, task, 2, votes_wanted=2)
    for user in make_users(store, 2):
        view = assignment.next_pair(store, user, task, timeout_s=600)
        assignment.submit(store, user, view["pair_id"], "Tie")
    (row,) = [r for r in agreement.task_overview(store) if r["task"] == "toy"]
    assert (row["pairs"], row["votes"], row["votes_wanted"]) == (2, 2, 4)
    assert row["coverage"] == 0.5  # early overlap: both voted on the first pair, which is now full
