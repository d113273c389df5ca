"""A simulated *weak* annotator: it perceives the concept and judges content only poorly.

Three kinds (ANNOTATORS), by what perceives the concept:

- "contrast" (`judged_verdicts`, the default for new runs): the concept from feedback.contrast_view, a word
  contrast learned from the run's own train texts (the weak model's answers against the strong base's), not
  the eval scorer and fitted to no labels; P(a shows the concept better) from the two answers' readings.
- "judge" (`judged_verdicts`): the concept from a pairwise LLM judge's P(a shows the concept better).
  With either, each annotator votes for a on the concept with that probability. Content is a
  *verdict* (which answer has more key facts), a coin toss with probability `content_noise` (a guessed
  *score*, below, rarely reverses a 1 vs 0). Concept and content vote +1/-1 each (content 0 on equal
  facts); a split goes to a coin, as the guidelines' tie; then the verdict flips with probability `noise`.
- "scorer" (`weak_verdicts`, legacy, kept for committed runs; below) sees the concept through the task's eval
  concept scorer itself, so DPO rows trained on its votes learn exactly what the grader pays for.

The paper's weak supervisor shows the target concept but has weak content. An annotator that
reads ground-truth facts would be a strong supervisor, so this one sees the task's concept score
as it is and the content score only through `content_noise`: with that probability its view of an
answer's content is a uniform random guess instead of the real score (0: it judges facts
perfectly; 1: it cannot tell right from wrong at all). It prefers the answer with the higher
perceived concept + content, tosses a coin on a tie, and then flips the verdict with probability
`noise` (lapses of attention, the label noise robust DPO is built for).

`crowd_verdicts` asks several such annotators, each with its own draws, about every pair and keeps
the majority with its agreement, as the product does with the votes of several annotators.

Pure functions, no model weights: the experiment runner feeds them scorer and judge outputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULT_NOISE = 0.1  # verdict flips: attention lapses of an otherwise careful annotator
DEFAULT_CONTENT_NOISE = 0.5  # half of its content judgements are guesses: weak on facts, as the paper's supervisor
ANNOTATORS = ("contrast", "judge", "scorer")  # what perceives the concept: a learned word contrast, a pairwise LLM judge, or (legacy) the eval scorer


@dataclass(frozen=True)
class Scores:
    """What the annotator could perceive of one answer: its concept and content scores in [0, 1]."""

    concept: float | None
    content: float | None


def weak_verdicts(pairs: list[tuple[Scores, Scores]], noise: float, content_noise: float, seed: int | str) -> list[dict]:
    """One verdict per (a, b) pair: {prefers_a, flipped, clean, guessed_a, guessed_b}.

    `clean` is the verdict before the noise flip; `guessed_*` say whether that side's content was
    guessed rather than perceived. Seeded: the same inputs give the same verdicts.
    """
    _check(noise, content_noise)
    rng = random.Random(seed)
    out = []
    for a, b in pairs:
        ua, guessed_a = _perceived(a, content_noise, rng)
        ub, guessed_b = _perceived(b, content_noise, rng)
        clean = rng.random() < 0.5 if ua == ub else ua > ub
        flipped = rng.random() < noise
        out.append({"prefers_a": clean != flipped, "flipped": flipped, "clean": clean, "guessed_a": guessed_a, "guessed_b": guessed_b})
    return out


def judged_verdicts(pairs: list[tuple[float | None, Scores, Scores]], noise: float, content_noise: float, seed: int | str) -> list[dict]:
    """One verdict per (p_concept_a, a, b): p_concept_a is an instrument's P(a shows the concept better) (None: no
    view) and only the Scores' content is read: the concept scores are never looked at. Same keys as weak_verdicts
    (guessed_a: this pair's content verdict was a coin toss; guessed_b always False: one content judgement per pair).
    Five draws per pair whatever the settings, so verdicts differ between settings only where a setting matters."""
    _check(noise, content_noise)
    rng = random.Random(seed)
    out = []
    for p_concept, a, b in pairs:
        concept_draw, draw, guess, coin, flip = (rng.random() for _ in range(5))
        concept = 0 if p_concept is None else (1 if concept_draw < p_concept else -1)
        known = a.content is not None and b.content is not None
        guessed = known and draw < content_noise
        content = (1 if guess < 0.5 else -1) if guessed else (
            (a.content > b.content) - (a.content < b.content) if known else 0)
        total = concept + content
        clean = coin < 0.5 if total == 0 else total > 0
        flipped = flip < noise
        out.append({"prefers_a": clean != flipped, "flipped": flipped, "clean": clean, "guessed_a": guessed, "guessed_b": False})
    return out


def _check(noise: float, content_noise: float) -> None:
    if not 0.0 <= noise < 0.5:
        raise ValueError("noise must be in [0, 0.5)")
    if not 0.0 <= content_noise <= 1.0:
        raise ValueError("content_noise must be in [0, 1]")


def crowd_verdicts(pairs: list, noise: float, content_noise: float, seed: int, annotators: int, vote=weak_verdicts) -> list[dict]:
    """The majority of `annotators` independent weak annotators per (a, b) pair.

    Each verdict is {prefers_a, votes_a, agreement, flipped, guessed}: the majority side (a tie goes
    to the first annotator's side), how many voted for a, the majority's share of the votes, and how
    many votes were flipped by noise and content judgements guessed. With one annotator it is
    weak_verdicts' verdict with the same seed (and the same keys it had). `vote`: weak_verdicts (pairs of
    Scores) or judged_verdicts (pairs of (p_concept_a, Scores, Scores)).
    """
    if annotators < 1:
        raise ValueError("annotators must be at least 1")
    first = vote(pairs, noise, content_noise, seed)
    if annotators == 1:
        return first
    # the first annotator draws as a lone one would: adding annotators only adds votes
    crowd = [first] + [vote(pairs, noise, content_noise, f"{seed}/{j}") for j in range(1, annotators)]
    out = []
    for votes in zip(*crowd):
        votes_a = sum(v["prefers_a"] for v in votes)
        prefers_a = votes_a * 2 > annotators or (votes_a * 2 == annotators and votes[0]["prefers_a"])
        out.append({
            "prefers_a": prefers_a, "votes_a": votes_a, "agreement": max(votes_a, annotators - votes_a) / annotators,
            "flipped": sum(v["flipped"] for v in votes), "guessed": sum(v["guessed_a"] + v["guessed_b"] for v in votes),
        })
    return out


def _perceived(scores: Scores, content_noise: float, rng: random.Random) -> tuple[float, bool]:
    # both draws happen for every answer, so one setting's verdicts differ from another's only where the setting matters
    guess, draw = rng.random(), rng.random()
    guessed = scores.content is not None and draw < content_noise
    content = guess if guessed else (scores.content or 0.0)
    return (scores.concept or 0.0) + content, guessed
