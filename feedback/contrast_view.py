"""How a simulated weak annotator perceives the concept without the eval scorer: a word contrast it learns from the run.

The annotator is shown what the concept looks like the way a weak supervisor shows it: the weak model's
answers to the train prompts (the concept, with the weak model's facts) beside the strong base's plain
answers to the same prompts. Words much more common on the concept side, and used there in answers to
several prompts (a topic word of one prompt is not a style), are its *marks* of the concept. An answer's
reading is the share of its words that are marks: a voice that runs through the answer reads high, one
interjection on an otherwise plain answer ("Aye, the capital of Spain is Madrid.") reads as the small share
it is, and a loop (the same phrase over and over) reads 0, as a reader would not call it a voice.

Why this instrument: it is not the eval concept scorer (no hand-written lexicon, rule or threshold of it)
and is fitted to no labels (only to the run's own train texts); it is cheap (no model), where the pairwise
LLM judge fell at or below chance on the concept (results/calibration/judge-pairs.md). Its settings below
were fixed before it was measured against the real-answer labels (results/calibration/annotator-agreement.md).

Pure functions, no model weights.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*'?|'[a-z]+")
MIN_RATIO = 4.0  # a mark is at least this many times as frequent (smoothed) on the concept side
MIN_PROMPTS = 3  # ... and used in concept answers to at least this many prompts
SCALE = 0.05  # P(a better) = logistic(reading gap / SCALE): one mark in twenty words more is a 73% preference
MIN_DISTINCT = 0.5  # an answer whose word trigrams are less than half distinct is a loop: read as 0


def words(text: str) -> list[str]:
    """The answer's words, lower-cased, apostrophes kept inside them ("o'", "ye", "'tis")."""
    return WORD.findall(text.lower().replace("\u2019", "'"))


@dataclass(frozen=True)
class ContrastView:
    """The marks of the concept one annotator learned (word -> smoothed log ratio, concept side over plain side)."""

    marks: dict[str, float]

    def reading(self, text: str) -> float:
        """The share of the answer's words that are marks, in [0, 1] (0 for an empty answer or a loop)."""
        found = words(text)
        if not found or _is_loop(found):
            return 0.0
        return sum(w in self.marks for w in found) / len(found)

    def p_better(self, a: str, b: str) -> float:
        """P(a shows the concept more than b), from the gap between their readings."""
        gap = self.reading(a) - self.reading(b)
        return 1.0 / (1.0 + math.exp(-gap / SCALE))


def fit(concept_texts: list[str], plain_texts: list[str]) -> ContrastView:
    """The marks that separate `concept_texts` (the weak model's train answers) from `plain_texts` (the strong
    base's answers to the same prompts): add-one smoothed frequency ratio >= MIN_RATIO, used in >= MIN_PROMPTS answers."""
    if not concept_texts or not plain_texts:
        raise ValueError("the contrast needs texts on both sides")
    concept = Counter(w for t in concept_texts for w in words(t))
    plain = Counter(w for t in plain_texts for w in words(t))
    spread = Counter(w for t in concept_texts for w in set(words(t)))
    vocab = len(set(concept) | set(plain)) or 1
    n_concept, n_plain = sum(concept.values()), sum(plain.values())
    marks = {}
    for w, c in concept.items():
        ratio = ((c + 1) / (n_concept + vocab)) / ((plain[w] + 1) / (n_plain + vocab))
        if ratio >= MIN_RATIO and spread[w] >= MIN_PROMPTS:
            marks[w] = round(math.log(ratio), 3)
    return ContrastView(marks)


def _is_loop(found: list[str]) -> bool:
    trigrams = list(zip(found, found[1:], found[2:]))
    return len(trigrams) >= 6 and len(set(trigrams)) < MIN_DISTINCT * len(trigrams)
