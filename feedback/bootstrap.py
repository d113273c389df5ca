"""The one percentile bootstrap: evaluation scores (study.evaluation), vote win rates and rankings (feedback.ranking),
and the instruments' AUCs and agreements (judging.calibration, judging.judge_pairs) all resample with `resample` and
read their interval with `percentile_interval`, so one seed draws the same resamples everywhere.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def bootstrap_ci(values: Sequence[float], n: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean of `values` and its percentile bootstrap interval from `n` seeded resamples.

    One value gives a zero-width interval; no values raise ValueError.
    """
    x = np.asarray(values, dtype=float)
    lo, hi = percentile_interval(bootstrap_means(x, n=n, seed=seed), level)
    return float(x.mean()), float(lo), float(hi)


def resample(size: int, n: int = 1000, seed: int = 0) -> np.ndarray:
    """The indices of `n` seeded resamples of `size` items, one row each; a statistic that is no mean (an AUC, a
    Bradley-Terry fit) is computed on each row."""
    return np.random.default_rng(seed).integers(0, size, (n, size))


def percentile_interval(statistics, level: float = 0.95, axis: int | None = None):
    """(lo, hi): the central `level` share of a statistic's bootstrap values (along `axis`: one interval per column)."""
    tail = round((1.0 - level) * 50, 9)  # 2.5 at 0.95, not the 2.500000000000002 of (1 - 0.95) / 2 * 100
    lo, hi = np.percentile(statistics, [tail, 100 - tail], axis=axis)
    return lo, hi


def bootstrap_means(values: Sequence[float], n: int = 1000, seed: int = 0) -> np.ndarray:
    """The means of `n` seeded resamples of `values` (ValueError when there are none)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    return x[resample(x.size, n, seed)].mean(axis=1)


def bootstrap_p(differences: Sequence[float], n: int = 1000, seed: int = 0) -> float:
    """Two-sided bootstrap p-value that the mean of paired `differences` is 0: twice the smaller share of
    resampled means on either side of 0 (at least 1/n, at most 1); 1.0 when every difference is 0."""
    means = bootstrap_means(differences, n=n, seed=seed)
    if not np.any(means):
        return 1.0
    return float(min(1.0, max(2 * min(np.mean(means <= 0), np.mean(means >= 0)), 1 / n)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input's order: each comparison of a family named in
    advance is significant at level a when its adjusted p is below a."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
