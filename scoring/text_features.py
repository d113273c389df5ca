"""Small text features the scorers share: words and a saturating ratio."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|'[a-z]+")


def words(text: str) -> list[str]:
    """Lower-case words of a text, apostrophes kept inside words (o'er, 'tis)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def saturate(value: float, full: float) -> float:
    """value/full clipped to [0, 1]: `full` is the amount that counts as clearly showing the concept."""
    return max(0.0, min(1.0, value / full))


SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")  # a sentence with its closing punctuation
