"""How much annotators agree and whom to trust: Krippendorff's alpha, agreement with the majority,
time per vote, gold accuracy, and strategy-vs-strategy win rates with bootstrap intervals.

The functions take vote rows as returned by storage.votes.list_votes (choice in pair terms, with
user_id, username, pair_id, gold, strategy_a/strategy_b) and are pure, except `task_overview`,
which reads them from the store.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Iterable

import krippendorff
import numpy as np

from feedback.ranking import CHOICE_SCORE, win_rate
from storage import pairs as pair_store
from storage import tasks as task_store
from storage import votes as vote_store
from storage.db import Store
from storage.terms import CHOICES


def by_pair(votes: Iterable[dict]) -> dict[int, list[dict]]:
    """Votes grouped by pair id."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for vote in votes:
        grouped[vote["pair_id"]].append(vote)
    return grouped


def majority(choices: Iterable[str]) -> tuple[str | None, float]:
    """(the most common choice, its share of the votes); the choice is None on a tie for first or no votes."""
    counts = Counter(choices).most_common()
    if not counts:
        return None, 0.0
    total = sum(n for _, n in counts)
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None, counts[0][1] / total
    return counts[0][0], counts[0][1] / total


def agreement_with_majority(votes: list[dict]) -> dict[int, float | None]:
    """Per annotator: how often their choice matches the majority of the *other* votes on the same pair.

    Leave-one-out, so an annotator is not compared with themself; when the others are split, a
    choice among the tied ones earns the fraction 1/(number tied). None when no vote of theirs
    shares a pair with another vote.
    """
    scores: dict[int, list[float]] = defaultdict(list)
    for pair_votes in by_pair(votes).values():
        for vote in pair_votes:
            others = Counter(v["choice"] for v in pair_votes if v["user_id"] != vote["user_id"])
            if not others:
                continue
            top = max(others.values())
            tied = [c for c, n in others.items() if n == top]
            scores[vote["user_id"]].append(1.0 / len(tied) if vote["choice"] in tied else 0.0)
    users = {v["user_id"] for v in votes}
    return {u: (sum(scores[u]) / len(scores[u]) if scores[u] else None) for u in users}


def gold_accuracy(votes: Iterable[dict]) -> dict[int, tuple[float | None, int]]:
    """Per annotator: (share of their votes on gold pairs that match the gold answer, how many gold votes)."""
    hits: dict[int, list[bool]] = defaultdict(list)
    users = set()
    for vote in votes:
        users.add(vote["user_id"])
        if vote.get("gold"):
            hits[vote["user_id"]].append(vote["choice"] == vote["gold"])
    return {u: ((sum(hits[u]) / len(hits[u])) if hits[u] else None, len(hits[u])) for u in users}


def failed_gold(votes: Iterable[dict], threshold: float) -> set[int]:
    """Annotators who answered gold pairs and got fewer than `threshold` of them right."""
    return {u for u, (acc, n) in gold_accuracy(votes).items() if n and acc < threshold}


def krippendorff_alpha(votes: list[dict]) -> float | None:
    """Krippendorff's alpha (nominal) over annotators x pairs; None when it is undefined (too few overlapping votes or one value only)."""
    users = sorted({v["user_id"] for v in votes})
    pairs = sorted({v["pair_id"] for v in votes})
    if len(users) < 2 or not pairs:
        return None
    data = np.full((len(users), len(pairs)), np.nan)
    u_index = {u: i for i, u in enumerate(users)}
    p_index = {p: i for i, p in enumerate(pairs)}
    for vote in votes:
        data[u_index[vote["user_id"]], p_index[vote["pair_id"]]] = CHOICES.index(vote["choice"])
    if (np.sum(~np.isnan(data), axis=0) >= 2).sum() == 0 or len({v["choice"] for v in votes}) < 2:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=list(range(len(CHOICES)))))


def annotator_table(votes: list[dict]) -> list[dict]:
    """One row per annotator: username, whether simulated (the pilot's), votes, median seconds per vote, agreement
    with majority, gold accuracy and count."""
    agree = agreement_with_majority(votes)
    gold = gold_accuracy(votes)
    grouped: dict[int, list[dict]] = defaultdict(list)
    for vote in votes:
        grouped[vote["user_id"]].append(vote)
    table = []
    for user_id, user_votes in grouped.items():
        seconds = [v["seconds"] for v in user_votes if v.get("seconds") is not None]
        table.append({
            "username": user_votes[0]["username"],
            "simulated": bool(user_votes[0].get("simulated")),
            "votes": len(user_votes),
            "median_seconds": statistics.median(seconds) if seconds else None,
            "agreement": agree[user_id],
            "gold_accuracy": gold[user_id][0],
            "gold_votes": gold[user_id][1],
        })
    return sorted(table, key=lambda r: r["username"])


def strategy_win_rates(votes: Iterable[dict], n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """Win rate of each strategy against each other strategy it met (tie and both-bad count half), with a 95% bootstrap interval.

    Returns rows {strategy, opponent, rate, lo, hi, n, wins, ties, losses}, both directions of every matchup.
    """
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    for vote in votes:
        a, b = vote["strategy_a"], vote["strategy_b"]
        if a == b:
            continue
        s = CHOICE_SCORE[vote["choice"]]
        scores[(a, b)].append(s)
        scores[(b, a)].append(1.0 - s)
    return [
        {"strategy": a, "opponent": b, **win_rate(values, n_boot=n_boot, seed=seed)}
        for (a, b), values in sorted(scores.items())
    ]


def task_overview(store: Store) -> list[dict]:
    """One row per task: pairs, votes, votes wanted, coverage (share of pairs with all their votes), Krippendorff's alpha."""
    out = []
    for task in task_store.list_tasks(store):
        pairs = pair_store.list_pairs(store, task["id"])
        votes = vote_store.list_votes(store, task["id"])
        wanted = sum(p["votes_wanted"] for p in pairs)
        full = sum(1 for p in pairs if p["n_votes"] >= p["votes_wanted"])
        alpha = krippendorff_alpha(votes)
        out.append({
            "task": task["name"], "pairs": len(pairs), "votes": len(votes), "votes_wanted": wanted,
            "coverage": (full / len(pairs)) if pairs else None, "gold_pairs": sum(1 for p in pairs if p["gold"]),
            "alpha": alpha,
        })
    return out
