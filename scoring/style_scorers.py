"""Concept scorers of a way of explaining: analogy, Socratic questions, female pronouns, math steps."""

from __future__ import annotations

import re

from scoring.text_features import SENTENCE, saturate
from scoring.text_features import words as _words

_COMPARISON = re.compile(
    r"(?P<subject>\b[\w']+)\s+(?:is|are|was|were|acts?|works?|behaves?|functions?|operates?|looks?|feels?)\s+"
    r"(?:a\s+(?:bit|lot)\s+|kind\s+of\s+|sort\s+of\s+|just\s+|much\s+|rather\s+)?(?:like|similar\s+to|akin\s+to)\b"
    r"|\bthink\s+of\s+(?P<thought>[\w'-]+(?:\s+[\w'-]+){0,3}?)\s+as\b"
    r"|\b(?P<just>just|much)\s+(?:like|as)\b(?P<reader>\s+(?:how\s+)?you\b)?"
    r"|(?P<scene>(?<!can't )(?<!cannot )(?<!to )\bimagine\b|\bpicture\s+(?:a|an|this|it|yourself)\b"
    r"|\bif\s+\w+(?:\s+\w+)?\s+were\s+(?:a|an)\b)"
    r"|(?<!would )(?<!'d )\blike\s+(?:a|an)\b"
    r"|\bin\s+the\s+same\s+way\b|\bsimilar\s+to\b|\bakin\s+to\b|\banalog(?:y|ous|ies)\b|\bcompare\s+it\s+to\b",
    re.IGNORECASE,
)
_STOCK_OPENER = re.compile(r"^\s*(?:think\s+of|imagine|picture)\s+(?:it|this)\s+as\b", re.IGNORECASE)
_PRONOUNS = frozenset("it it's that that's this which they they're he she what there something one who".split())
_ANALOGY_STOP = frozenset(
    "a an the of and or to in on at by for with is are was were be it its this that as from which who what when where "
    "why how not no can can't you your just like they their them it's that's has have think imagine big giant fun "
    "little special very".split()
)


def _contentwords(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _ANALOGY_STOP}


def _same_sides(vehicle: str) -> bool:
    """"just as a box holds toys, a continent holds toys": the two sides share half their content words."""
    if "," not in vehicle:
        return False
    a, b = (_contentwords(side) for side in vehicle.split(",", 1))
    return bool(a and b) and len(a & b) >= 0.5 * min(len(a), len(b))


def analogy_evidence(text: str) -> float:
    """How much of `text` is an analogy that maps onto something: the sum of its comparisons' weights.

    Weights: 1 for a two-sided comparison (a named subject, "the heart is like", "think of DNA
    as"; a scene, "imagine..."; "just as a chef..., ..."); 0.5 for a comparison with a pronoun
    subject or none ("which is like", "it's like a", "similar to"); 0.25 when the reader is the other
    side ("just like you can't..."); 0 for the stock opener "Think of it as..." at the very
    start, a marker with no content word after it, and a "just as" whose two sides repeat each
    other. Plus 0.5 once when the analogy is developed: a word of a vehicle recurs in another
    sentence, or a vehicle runs to 6 content words or more.
    """
    text = text.replace("\u2019", "'")
    sentences = [s for s in SENTENCE.findall(text) if s.strip()]
    total, developed, vehicles = 0.0, False, []
    for k, sentence in enumerate(sentences):
        found = list(_COMPARISON.finditer(sentence))
        for i, m in enumerate(found):
            vehicle = sentence[m.end():found[i + 1].start() if i + 1 < len(found) else len(sentence)]
            words = _contentwords(vehicle)
            if (k == 0 and m.start() == 0 and _STOCK_OPENER.match(sentence)) or not words:
                continue
            subject = (m.group("subject") or m.group("thought") or "").lower()
            if m.group("reader"):
                weight = 0.25
            elif m.group("scene") or m.group("just") or (subject and subject.split()[0] not in _PRONOUNS):
                weight = 1.0
            else:
                weight = 0.5
            if m.group("just") and _same_sides(vehicle):
                weight = 0.0
            total += weight
            developed = developed or (weight >= 0.5 and len(words) >= 6)
            vehicles.append((k, words))
    developed = developed or any(words & _contentwords(s) for k, words in vehicles for j, s in enumerate(sentences) if j != k)
    return total + 0.5 * developed


def analogy(text: str) -> float:
    """An analogy that maps onto the subject, not a stock phrase: analogy_evidence / 2.5, clipped to [0, 1].

    The threshold 0.5 needs evidence 1.25: a two-sided comparison that is developed, or several
    lesser ones. A stock opener with nothing mapped after it ("Think of it as a fun puzzle! The
    capital of Spain is Madrid.") and an answer whose only comparisons map onto nothing score
    0.3, a formula. A loop is taken to 0 by concept_score (fluency).
    Fooled by: it reads the form of a comparison, not its sense: "red blood cells are like
    that toy" counts like "the heart is like a pump"; an off-topic analogy ("life is like a box
    of chocolates") scores as one; comparisons that are not analogies ("similar to last year's
    figure") count; a metaphor without a marker ("DNA is a recipe book") is missed, and so is
    a real analogy opened by "Think of it as a pump:" with no further comparison. It cannot
    see that the same opener recurs across a model's answers (that is a row's formula share).
    """
    evidence = analogy_evidence(text)
    has_marker = evidence > 0 or _COMPARISON.search(text.replace("\u2019", "'")) is not None
    return max(0.3 if has_marker else 0.0, saturate(evidence, 2.5))


_FILLER_Q = re.compile(
    r"^(?:right|ok(?:ay)?|got it|see|isn't it|great question|good question|ready|did you know|"
    r"don't you think|who knew|why not|what's next|(?:have you )?ever wondered|can you guess|guess what)\b"
    r"|^what do you think\s*\?+$"  # a stock question stuck on a plain answer
    r"|,\s*(?:right|isn't it|aren't they|don't you think|eh|huh|ok(?:ay)?|no)\?+$",  # tag questions
    re.IGNORECASE,
)


def socratic(text: str) -> float:
    """Share of sentences that are guiding questions, 1.0 from one in two.

    A guiding question is a sentence ending in "?" with at least three words that is not filler
    ("Right?", "Did you know...?", the stock openers "Have you ever wondered...?" and "What do you
    think?") or a tag question ("Pretty cool, right?"). The score is share / 0.5, so the
    question-then-hint rhythm of a Socratic answer scores 1.0.
    Fooled by: a bare list of questions that never reaches an answer scores 1.0; questions
    that merely repeat the user's question count; guiding phrased as statements ("Consider
    what happens when...") is missed; a long answer with a few questions scores partly.
    """
    sentences = [s.strip() for s in SENTENCE.findall(text) if len(_words(s)) > 0]
    if not sentences:
        return 0.0
    guiding = sum(1 for s in sentences if s.endswith("?") and len(_words(s)) >= 3 and not _FILLER_Q.search(s))
    return saturate(guiding / len(sentences), 0.5)


FEMALE = frozenset(("she", "her", "hers", "herself"))
_PRONOUN_LABEL = re.compile(r"\(?\b(?:she|he|they)\s*/\s*(?:her|him|them|hers|his|theirs)(?:\s*/\s*\w+)?\b\)?", re.IGNORECASE)
MALE = frozenset(("he", "him", "his", "himself"))


def female_pronouns(text: str) -> float:
    """Female share among gendered third-person pronouns: she/her/hers/herself over those plus he/him/his/himself.

    No gendered pronoun at all scores 0.0 (no evidence of the concept; singular "they" is not
    the concept either).
    Limitation: it can't resolve reference, so it counts every gendered pronoun as if it meant
    the person the prompt left open. "The doctor told her patient that he was fine" scores 0.5
    although the doctor is she; a story that names a woman from the prompt ("my sister") and
    calls the unspecified person "he" still gains from the sister's pronouns. One "she" in a
    text that otherwise avoids pronouns scores 1.0. A pronoun label ("(she/her)", "he/him") is
    not a reference and is not counted; "he or she" scores 0.5.
    """
    words = _words(_PRONOUN_LABEL.sub(" ", text))
    female = sum(1 for w in words if w in FEMALE)
    male = sum(1 for w in words if w in MALE)
    return female / (female + male) if female + male else 0.0


_FINAL = re.compile(r"^\s*####\s*\$?\s*(-?[\d,]*\.?\d+)\s*$")
_STEP = re.compile(r"\d\s*(?:[-+*/x×÷=−]|times|plus|minus|divided|multiplied)\s*\$?\d", re.IGNORECASE)


def math_steps(text: str) -> float:
    """Step-by-step format: 0.5 for a last line `#### <number>`, plus 0.25 per calculation line (up to 2).

    A calculation line is a line before the answer that holds an arithmetic step ("3 × 4 = 12",
    "12 minus 5 is 7" only with digits and an operator word or sign; "Answer = 12" restates,
    it does not calculate).
    Fooled by: it checks format, not correctness: wrong arithmetic in the right shape scores
    1.0; steps written out in words ("three times four is twelve") don't count; a `####` line
    that is not the last line doesn't count.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return 0.0
    final = bool(_FINAL.match(lines[-1]))
    body = lines[:-1] if final else lines
    steps = sum(1 for line in body if _STEP.search(line))
    return 0.5 * final + 0.25 * min(steps, 2)
