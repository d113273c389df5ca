"""Fluency: how much of an answer repeats itself, so that no score rewards a loop.

A DPO-trained model can collapse into "Aye, matey! Aye, matey! Aye, matey! …", which a word-count
concept scorer would rate as very pirate and a fact matcher as correct. `repetition` is the share
of an answer's word trigrams that already occurred earlier in it (0 for varied text, near 1 for a
loop); `fluency_factor` turns it into a multiplier that leaves ordinary answers alone and takes a
loop's score to 0. Pure functions, no weights.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
N = 3  # trigrams: a repeated pair of words is ordinary prose, a repeated three-word run much less so
LOOSE, LOOP = 0.2, 0.6  # repetition up to LOOSE costs nothing; at LOOP and beyond the score is 0


def repetition(text: str) -> float:
    """Share of the word trigrams of `text` that repeat an earlier trigram, in [0, 1); 0 below N+1 words."""
    words = _TOKEN.findall(text.lower().replace("\u2019", "'"))
    grams = [tuple(words[i:i + N]) for i in range(len(words) - N + 1)]
    if len(grams) < 2:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def fluency_factor(text: str) -> float:
    """1.0 for an answer that repeats little, falling linearly to 0.0 at repetition LOOP."""
    return max(0.0, min(1.0, (LOOP - repetition(text)) / (LOOP - LOOSE)))
