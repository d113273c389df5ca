"""The one percentile bootstrap interval: evaluation scores (study.evaluation) and vote win rates (feedback.ranking)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def bootstrap_ci(values: Sequence[float], n: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean of `values` and its percentile bootstrap interval from `n` seeded resamples.

    One value gives a zero-width interval; no values raise ValueError.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    means = x[np.random.default_rng(seed).integers(0, x.size, (n, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(x.mean()), float(lo), float(hi)
