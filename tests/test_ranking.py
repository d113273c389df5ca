"""Bradley-Terry fit and win rates: known strengths are recovered from synthetic votes."""

import numpy as np
import pytest

from feedback import ranking


def synthetic_votes(strengths: dict[str, float], n: int, seed: int = 0, tie_rate: float = 0.0):
    """n comparisons between random distinct items, won with Bradley-Terry probabilities."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    out = []
    for _ in range(n):
        a, b = rng.choice(len(names), 2, replace=False)
        p = 1 / (1 + np.exp(-(strengths[names[a]] - strengths[names[b]])))
        if rng.random() < tie_rate:
            s = 0.5
        else:
            s = 1.0 if rng.random() < p else 0.0
        out.append((names[a], names[b], s))
    return out


def test_fit_recovers_known_strengths():
    truth = {"weak": -1.0, "strong-base": 0.0, "icl-refine": 0.5, "adapter-1": 1.5}
    votes = synthetic_votes(truth, 6000, seed=1)
    fit = ranking.fit_bradley_terry(votes, l2=1e-4)
    mean = np.mean(list(truth.values()))
    for name, theta in truth.items():
        assert fit[name] == pytest.approx(theta - mean, abs=0.12)
    assert abs(sum(fit.values())) < 1e-6


def test_bootstrap_intervals_cover_truth_and_order_items():
    truth = {"a": -1.0, "b": 0.0, "c": 1.0}
    rows = ranking.bradley_terry(synthetic_votes(truth, 900, seed=2), n_boot=200, seed=0)
    assert [r["item"] for r in rows] == ["c", "b", "a"]
    for r in rows:
        assert r["lo"] <= r["theta"] <= r["hi"]
        assert r["lo"] <= truth[r["item"]] <= r["hi"]
        assert r["n"] > 500
    again = ranking.bradley_terry(synthetic_votes(truth, 900, seed=2), n_boot=200, seed=0)
    assert again == rows  # seeded: same intervals on every call


def test_ties_pull_strengths_together_and_perfect_record_stays_finite():
    only_ties = [("x", "y", 0.5)] * 50
    fit = ranking.fit_bradley_terry(only_ties)
    assert fit["x"] == pytest.approx(0.0, abs=1e-9) and fit["y"] == pytest.approx(0.0, abs=1e-9)
    sweep = [("x", "y", 1.0)] * 20
    fit = ranking.fit_bradley_terry(sweep)
    assert np.isfinite(fit["x"]) and fit["x"] > 1.0 > -1.0 > fit["y"]
    assert ranking.fit_bradley_terry([]) == {}
    assert ranking.bradley_terry([]) == []


def test_win_rate_interval():
    res = ranking.win_rate([1.0] * 30 + [0.0] * 10 + [0.5] * 10, n_boot=500, seed=0)
    assert res["rate"] == pytest.approx(0.7)
    assert res["lo"] < 0.7 < res["hi"]
    assert (res["wins"], res["losses"], res["ties"], res["n"]) == (30, 10, 10, 50)
    assert ranking.win_rate([])["rate"] is None


def test_comparisons_from_votes_label_strategy_and_model():
    votes = [
        {"model_a": "qwen", "strategy_a": "strong-base", "model_b": "pirate-dpo-1", "strategy_b": "strong-base", "choice": "b"},
        {"model_a": "qwen", "strategy_a": "strong-base", "model_b": "pirate-dpo-1", "strategy_b": "strong-base", "choice": "both_bad"},
    ]
    assert ranking.comparisons_from_votes(votes) == [
        ("strong-base [qwen]", "strong-base [pirate-dpo-1]", 0.0),
        ("strong-base [qwen]", "strong-base [pirate-dpo-1]", 0.5),
    ]


def test_versus_scores_the_version_on_either_side_and_ignores_other_matchups():
    def vote(a, b, choice):
        return {"model_a": a, "model_b": b, "choice": choice}

    votes = [vote("v1", "base", "a"), vote("base", "v1", "a"), vote("base", "v1", "b"), vote("v1", "base", "tie"),
             vote("v2", "base", "a")]
    res = ranking.versus(votes, "base", "v1", n_boot=100)
    assert (res["n"], res["wins"], res["ties"], res["losses"]) == (4, 2, 1, 1)
    assert res["rate"] == pytest.approx(2.5 / 4)
