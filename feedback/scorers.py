"""Automatic scorers: pure functions from a model's text to a float in [0, 1], in registries keyed by name.

Concept scorers take the text alone (`CONCEPT[name](text)`); content scorers also take the
prompt row with its reference, key_facts and answer (`CONTENT[name](text, prompt)`).
`THRESHOLDS[name]` is the score from which a text counts as showing the concept / having the
content; the hand-labelled sets in tests/scorer_labels measure precision and recall there.
They are cheap surface heuristics, not judges: each docstring lists what fools it. Through
`concept_score` and `content_score` no scorer rewards a loop (feedback.fluency).
"""

from __future__ import annotations

from typing import Callable

from feedback.content_scorers import embedding, key_facts, math_exact
from feedback.fluency import fluency_factor
from feedback.persona_scorers import pirate, shakespeare
from feedback.style_scorers import analogy, female_pronouns, math_steps, socratic
from storage.errors import UserError


ConceptScorer = Callable[[str], float]
ContentScorer = Callable[[str, dict], float]

CONCEPT: dict[str, ConceptScorer] = {
    "pirate": pirate,
    "shakespeare": shakespeare,
    "analogy": analogy,
    "socratic": socratic,
    "female-pronouns": female_pronouns,
    "math-steps": math_steps,
}
CONTENT: dict[str, ContentScorer] = {
    "key_facts": key_facts,
    "math_exact": math_exact,
    "embedding": embedding,
}
THRESHOLDS: dict[str, float] = {
    "pirate": 0.5,
    "shakespeare": 0.5,
    "analogy": 0.5,
    "socratic": 0.5,
    "female-pronouns": 0.75,
    "math-steps": 0.75,
    "key_facts": 0.5,
    "math_exact": 1.0,
    "embedding": 0.7,  # chosen on tests/scorer_labels/embedding.jsonl
}


def concept_score(name: str, text: str) -> float:
    """Score `text` with the concept scorer `name`, a looping text scoring 0 (fluency.fluency_factor);
    UserError naming the known scorers if unknown."""
    return _lookup(CONCEPT, name, "concept")(text) * fluency_factor(text)


def content_score(name: str, text: str, prompt: dict) -> float:
    """Score `text` against `prompt` (reference, key_facts, answer) with the content scorer `name`;
    a loop that repeats the right fact scores 0 as well."""
    return _lookup(CONTENT, name, "content")(text, prompt) * fluency_factor(text)


def _lookup(registry: dict, name: str, kind: str):
    if name not in registry:
        raise UserError(f"unknown {kind} scorer {name!r}; known: {', '.join(sorted(registry))}")
    return registry[name]
