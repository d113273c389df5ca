"""Automatic scorers: pure functions from a model's text to a float in [0, 1], in registries keyed by name.

Concept scorers take the text alone (`CONCEPT[name](text)`); content scorers also take the
prompt row with its reference, key_facts and answer (`CONTENT[name](text, prompt)`). Each entry
carries its threshold: the score from which a text counts as showing the concept / having the
content; the hand-labelled sets in tests/scorer_labels measure precision and recall there.
They are cheap surface heuristics, not judges: each docstring lists what fools it. Through
`concept_score` and `content_score` no scorer rewards a loop (scoring.fluency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scoring.content_scorers import embedding, key_facts, math_exact
from scoring.fluency import fluency_factor
from scoring.persona_scorers import pirate, shakespeare
from scoring.style_scorers import analogy, female_pronouns, math_steps, socratic
from registry import Registry


@dataclass(frozen=True)
class Scorer:
    """One scorer: its name, its function and the score from which a text counts as positive."""

    name: str
    fn: Callable[..., float]
    threshold: float

    def __call__(self, *args) -> float:
        return self.fn(*args)


CONCEPT: Registry[Scorer] = Registry("concept scorer", (
    Scorer("pirate", pirate, 0.5),
    Scorer("shakespeare", shakespeare, 0.5),
    Scorer("analogy", analogy, 0.5),
    Scorer("socratic", socratic, 0.5),
    Scorer("female-pronouns", female_pronouns, 0.75),
    Scorer("math-steps", math_steps, 0.75),
))
CONTENT: Registry[Scorer] = Registry("content scorer", (
    Scorer("key_facts", key_facts, 0.5),
    Scorer("math_exact", math_exact, 1.0),
    Scorer("embedding", embedding, 0.7),  # threshold chosen on tests/scorer_labels/embedding.jsonl
))


def threshold(name: str) -> float:
    """The threshold of the concept or content scorer `name`; UserError naming the known scorers if unknown."""
    return (CONCEPT if name in CONCEPT else CONTENT).get(name).threshold


def concept_score(name: str, text: str) -> float:
    """Score `text` with the concept scorer `name`, a looping text scoring 0 (fluency.fluency_factor);
    UserError naming the known scorers if unknown."""
    return CONCEPT.get(name)(text) * fluency_factor(text)


def content_score(name: str, text: str, prompt: dict) -> float:
    """Score `text` against `prompt` (reference, key_facts, answer) with the content scorer `name`;
    a loop that repeats the right fact scores 0 as well."""
    return CONTENT.get(name)(text, prompt) * fluency_factor(text)
