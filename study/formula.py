"""How much of a row's concept is a formula: the same opening stuck on answers that show no concept after it.

A gameable optimiser finds a formula first ("Aye, the capital of Spain is Madrid.", "Think of it
as a fun puzzle! ..."), so every report row shows its formula share beside its concept: the share
of its answers that open with the row's commonest opening word and score above 0 but under the
concept scorer's threshold (the scorer saw a token of the concept, not the concept).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

_FIRST_WORD = re.compile(r"[a-z']+")


def opening_word(text: str) -> str:
    """The first word of a text, lower-cased, without punctuation ('' for none)."""
    m = _FIRST_WORD.search(text.strip().lower().replace("\u2019", "'"))
    return m.group(0) if m else ""


def commonest_opening(texts: Sequence[str]) -> str:
    """The opening word most of a row's answers share (on a tie, the first met; '' for no text)."""
    counts = Counter(w for w in map(opening_word, texts) if w)
    return counts.most_common(1)[0][0] if counts else ""


def is_formula(text: str, score: float, threshold: float, opening: str) -> bool:
    """Whether one answer is a formula: it opens with `opening` and its concept score is above 0 but under `threshold`."""
    return bool(opening) and opening_word(text) == opening and 0.0 < score < threshold


def formula_share(texts: Sequence[str], scores: Sequence[float], threshold: float) -> float:
    """Share of a row's answers that are formulas (see is_formula), with the row's commonest opening."""
    if len(texts) != len(scores):
        raise ValueError("one score per text")
    if not texts:
        return 0.0
    opening = commonest_opening(texts)
    return sum(is_formula(t, s, threshold, opening) for t, s in zip(texts, scores)) / len(texts)
