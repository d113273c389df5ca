"""A simulated *weak* annotator: it perceives the concept and judges content only poorly.

The paper's weak supervisor shows the target concept but has weak content. An annotator that
reads ground-truth facts would be a strong supervisor, so this one sees the task's concept score
as it is and the content score only through `content_noise`: with that probability its view of an
answer's content is a uniform random guess instead of the real score (0: it judges facts
perfectly; 1: it cannot tell right from wrong at all). It prefers the answer with the higher
perceived concept + content, tosses a coin on a tie, and then flips the verdict with probability
`noise` (lapses of attention, the label noise robust DPO is built for).

`crowd_verdicts` asks several such annotators, each with its own draws, about every pair and keeps
the majority with its agreement, as the product does with the votes of several annotators.

Pure functions, no model weights: the experiment runner feeds them scorer outputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULT_NOISE = 0.1  # verdict flips: attention lapses of an otherwise careful annotator
DEFAULT_CONTENT_NOISE = 0.5  # half of its content judgements are guesses: weak on facts, as the paper's supervisor


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
    if not 0.0 <= noise < 0.5:
        raise ValueError("noise must be in [0, 0.5)")
    if not 0.0 <= content_noise <= 1.0:
        raise ValueError("content_noise must be in [0, 1]")
    rng = random.Random(seed)
    out = []
    for a, b in pairs:
        ua, guessed_a = _perceived(a, content_noise, rng)
        ub, guessed_b = _perceived(b, content_noise, rng)
        clean = rng.random() < 0.5 if ua == ub else ua > ub
        flipped = rng.random() < noise
        out.append({"prefers_a": clean != flipped, "flipped": flipped, "clean": clean, "guessed_a": guessed_a, "guessed_b": guessed_b})
    return out


def crowd_verdicts(pairs: list[tuple[Scores, Scores]], noise: float, content_noise: float, seed: int, annotators: int) -> list[dict]:
    """The majority of `annotators` independent weak annotators per (a, b) pair.

    Each verdict is {prefers_a, votes_a, agreement, flipped, guessed}: the majority side (a tie goes
    to the first annotator's side), how many voted for a, the majority's share of the votes, and how
    many votes were flipped by noise and content judgements guessed. With one annotator it is
    weak_verdicts' verdict with the same seed (and the same keys it had).
    """
    if annotators < 1:
        raise ValueError("annotators must be at least 1")
    first = weak_verdicts(pairs, noise, content_noise, seed)
    if annotators == 1:
        return first
    # the first annotator draws as a lone one would: adding annotators only adds votes
    crowd = [first] + [weak_verdicts(pairs, noise, content_noise, f"{seed}/{j}") for j in range(1, annotators)]
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
