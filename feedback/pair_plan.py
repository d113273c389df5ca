"""The pair plan: which strategies annotators compare, and so what DPO on their votes can learn.

A pair whose two answers both carry the concept teaches only content; one whose two answers are
equally right teaches only the concept. The refined plan asks both questions of the refined labels:

- concept at equal content: icl-refine against the plain strong model (strong-base);
- content at equal concept: icl-refine against the weak teacher (weak).

The concept plan asks only the first question: it keeps the weak annotator away from judging
facts, which it does poorly. The restyle plan asks it of icl-restyle, the strong model's own
plain answer rewritten in the weak examples' style, so the two sides share their facts by construction;
the opening plan asks it of weak-opening, the strong model's plain answer begun with the words most
weak labels open with, which leaves the facts to the strong model after a few words. The pick plan puts two
strong-model attempts at the concept side by side (icl-refine against strong-instructed, both with the strong
model's facts): where one shows a voice and the other only a formula, the annotators' pick is the voice, so its
chosen side holds a voice more often than either attempt alone and its rejected side is the formula. The naive counterpart compares the weak teacher with the plain strong model: what a study that
skips refinement would put before annotators. `pairs` and the Generate tab schedule the plan of a
recipe (feedback.recipes; the default recipe's unless told otherwise), and the experiment trains its
DPO rows, which are those recipes, on the same kinds of pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry import Registry
from storage.terms import ICL_REFINE, ICL_RESTYLE, STRONG_BASE, STRONG_INSTRUCTED, WEAK, WEAK_OPENING

REFINED = ((ICL_REFINE, STRONG_BASE), (ICL_REFINE, WEAK))
CONCEPT = ((ICL_REFINE, STRONG_BASE),)
RESTYLE = ((ICL_RESTYLE, STRONG_BASE),)
OPENING = ((WEAK_OPENING, STRONG_BASE),)
NAIVE = ((WEAK, STRONG_BASE),)
PICK = ((ICL_REFINE, STRONG_INSTRUCTED),)


@dataclass(frozen=True)
class Plan:
    """A pair plan: its name and the (side a, side b) strategy matchups it schedules."""

    name: str
    pairs: tuple[tuple[str, str], ...]


PLANS: Registry[Plan] = Registry("pair plan", (
    Plan("refined", REFINED), Plan("concept", CONCEPT), Plan("restyle", RESTYLE), Plan("opening", OPENING), Plan("naive", NAIVE),
    Plan("pick", PICK),
))


def plan_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """The (side a, side b) pairs of plan `name`; UserError naming the known plans."""
    return PLANS.get(name).pairs


def describe(name: str) -> str:
    """One line for people: the plan's name and its pairs, e.g. 'refined: icl-refine vs strong-base, icl-refine vs weak'."""
    return f"{name}: " + ", ".join(f"{a} vs {b}" for a, b in plan_pairs(name))
