"""Rankings from blind pairwise votes: a Bradley-Terry fit with bootstrap intervals, and win rates.

A comparison is `(a, b, s)`: item `a` met item `b` and scored `s` (1 = a won, 0 = b won,
0.5 = tie or "both bad", which say nothing about which is better). Items are labels such as
"strong-base [qwen2.5-coder-1.5b]" or an adapter version, so strategies and model versions are
ranked on one scale.

Bradley-Terry: P(a beats b) = sigmoid(theta_a - theta_b). The fit maximises the log-likelihood
with a small L2 penalty (a Gaussian prior on theta), which keeps strengths finite when one item
won every comparison and pins the scale's origin at mean 0. Intervals are percentile bootstrap
intervals over resampled comparisons, seeded so a page reload shows the same numbers.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from feedback.bootstrap import bootstrap_ci, percentile_interval, resample
from storage.terms import BOTH_BAD, TIE, A, B


CHOICE_SCORE = {A: 1.0, B: 0.0, TIE: 0.5, BOTH_BAD: 0.5}


def fit_bradley_terry(
    comparisons: Sequence[tuple[str, str, float]], l2: float = 0.01, iters: int = 100, tol: float = 1e-9
) -> dict[str, float]:
    """Log-strengths {item: theta} (mean 0) maximising the penalised Bradley-Terry likelihood.

    Newton's method on the concave objective; converges in a handful of steps.
    """
    names = sorted({x for a, b, _ in comparisons for x in (a, b)})
    if not names:
        return {}
    index = {n: i for i, n in enumerate(names)}
    ia = np.array([index[a] for a, _, _ in comparisons])
    ib = np.array([index[b] for _, b, _ in comparisons])
    s = np.array([float(v) for _, _, v in comparisons])
    return dict(zip(names, _newton(len(names), ia, ib, s, l2, iters, tol).tolist()))


def _newton(k: int, ia: np.ndarray, ib: np.ndarray, s: np.ndarray, l2: float, iters: int, tol: float,
            start: np.ndarray | None = None) -> np.ndarray:
    theta = np.zeros(k) if start is None else start.copy()
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(theta[ia] - theta[ib])))
        r = s - p
        grad = np.bincount(ia, r, k) - np.bincount(ib, r, k) - l2 * theta
        w = p * (1.0 - p)
        hess = np.zeros((k, k))
        np.add.at(hess, (ia, ia), w)
        np.add.at(hess, (ib, ib), w)
        np.add.at(hess, (ia, ib), -w)
        np.add.at(hess, (ib, ia), -w)
        hess += l2 * np.eye(k)
        step = np.linalg.solve(hess, grad)
        theta += step
        if np.max(np.abs(step)) < tol:
            break
    return theta


def bradley_terry(
    comparisons: Sequence[tuple[str, str, float]], n_boot: int = 1000, seed: int = 0, l2: float = 0.01
) -> list[dict]:
    """Ranking rows {item, theta, lo, hi, n} best first: fitted log-strength and 95% bootstrap interval.

    `n` is how many comparisons the item took part in.
    """
    point = fit_bradley_terry(comparisons, l2=l2)
    if not point:
        return []
    names = sorted(point)
    index = {n: i for i, n in enumerate(names)}
    ia = np.array([index[a] for a, _, _ in comparisons])
    ib = np.array([index[b] for _, b, _ in comparisons])
    s = np.array([float(v) for _, _, v in comparisons])
    start = np.array([point[n] for n in names])  # resamples sit near the full fit: few Newton steps each
    boots = np.array([_newton(len(names), ia[pick], ib[pick], s[pick], l2, 100, 1e-9, start)
                      for pick in resample(len(s), n_boot, seed)])
    lo, hi = percentile_interval(boots, axis=0)
    counts = np.bincount(ia, minlength=len(names)) + np.bincount(ib, minlength=len(names))
    out = [
        {"item": n, "theta": point[n], "lo": float(lo[index[n]]), "hi": float(hi[index[n]]), "n": int(counts[index[n]])}
        for n in names
    ]
    return sorted(out, key=lambda r: -r["theta"])


def win_rate(scores: Iterable[float], n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean score of one side (1 win, 0.5 tie, 0 loss) with a 95% percentile bootstrap interval.

    Returns {rate, lo, hi, n, wins, ties, losses}; rate is None when there are no scores.
    """
    values = np.asarray(list(scores), dtype=float)
    counts = {"wins": int(np.sum(values == 1.0)), "ties": int(np.sum(values == 0.5)), "losses": int(np.sum(values == 0.0))}
    if values.size == 0:
        return {"rate": None, "lo": None, "hi": None, "n": 0, **counts}
    rate, lo, hi = bootstrap_ci(values, n=n_boot, seed=seed)
    return {"rate": rate, "lo": lo, "hi": hi, "n": int(values.size), **counts}


def item_label(model: str, strategy: str) -> str:
    """The name an output's source gets in rankings: its strategy and the model that ran it."""
    return f"{strategy} [{model}]"


def comparisons_from_votes(votes: Iterable[dict]) -> list[tuple[str, str, float]]:
    """Comparisons from vote rows with model_a, strategy_a, model_b, strategy_b and choice (pair terms)."""
    return [
        (item_label(v["model_a"], v["strategy_a"]), item_label(v["model_b"], v["strategy_b"]), CHOICE_SCORE[v["choice"]])
        for v in votes
    ]


def versus(votes: Iterable[dict], base: str, version: str, n_boot: int = 1000, seed: int = 0) -> dict:
    """Win rate of model `version` against model `base` over the votes on pairs that set one against the other."""
    scores = []
    for v in votes:
        s = CHOICE_SCORE[v["choice"]]
        if (v["model_a"], v["model_b"]) == (version, base):
            scores.append(s)
        elif (v["model_a"], v["model_b"]) == (base, version):
            scores.append(1.0 - s)
    return win_rate(scores, n_boot=n_boot, seed=seed)
