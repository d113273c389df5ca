"""The pilot's simulated weak annotator at the Annotate tab: it reads the screen a person reads and votes A or B.

What it sees: the two answers as the page shows them (their HTML back to text; the page's "cut at N tokens"
mark is the page's note, not the answer's, so it is left out). What it perceives, as the experiment's contrast
annotator (feedback/simulated_annotator.py, `judged_verdicts`): the concept through a word contrast fitted on
the task's weak against strong-base train outputs (feedback/contrast_view.py; never the task's concept
scorer), the content through the task's content scorer against the prompt's key facts, reference and answer,
a coin toss instead with probability `content_noise`; the verdict then flips with probability `noise`.
Its draws for a pair are seeded by (its seed, the pair), so an annotator votes alike on a pair whatever order
the queue serves the pairs in. Pure functions, no storage and no weights.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from feedback.assignment import A_BETTER, B_BETTER
from feedback.contrast_view import ContrastView
from feedback.simulated_annotator import Scores, judged_verdicts
from scoring import scorers

_CUT_MARK = re.compile(r'<p class="refinery-cut">.*?</p>', re.S)  # ui/annotate.py's answer_html
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|li|ul|ol|h[1-6]|br|hr|pre|blockquote|table|tr|td|th)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")


def shown_text(page_html: str) -> str:
    """The text a reader sees in one of the page's HTML boxes: block tags as line breaks, other tags dropped,
    entities decoded, the cut-answer mark left out."""
    text = _TAG.sub("", _BLOCK_TAG.sub("\n", _CUT_MARK.sub("", page_html or "")))
    return re.sub(r"\n\s*\n+", "\n", html.unescape(text)).strip()


@dataclass(frozen=True)
class PageAnnotator:
    """One simulated annotator: its concept view, the task's content scorer (None: it judges no content), its
    noise settings and its own seed."""

    view: ContrastView
    content_scorer: str | None
    noise: float
    content_noise: float
    seed: str

    def verdict(self, screen: dict, prompt: dict) -> str:
        """The tab's verdict ("A is better" or "B is better") on the pair `screen` shows (the next/open route's
        answer: pair_id, left, right), judging content against `prompt` (its key_facts, reference, answer)."""
        left, right = shown_text(screen["left"]), shown_text(screen["right"])
        seen = [Scores(None, self._content(text, prompt)) for text in (left, right)]
        [judged] = judged_verdicts([(self.view.p_better(left, right), *seen)], self.noise, self.content_noise,
                                   f"{self.seed}/{screen['pair_id']}")
        return A_BETTER if judged["prefers_a"] else B_BETTER

    def _content(self, text: str, prompt: dict) -> float | None:
        return None if not self.content_scorer else scorers.content_score(self.content_scorer, text, prompt)
