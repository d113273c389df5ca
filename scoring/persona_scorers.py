"""Concept scorers of a voice: pirate and Early Modern English. A formula (one interjection stuck on a plain
answer) is not a voice: each scorer reads past the opening and closing interjections.
"""

from __future__ import annotations

import re
from typing import Callable

from scoring.text_features import SENTENCE, saturate
from scoring.text_features import words as _words

# Pirate words that mark the voice wherever they stand, and forms of pirate grammar.
PIRATE_NOUNS = frozenset(
    "matey mateys hearty hearties landlubber landlubbers lubber scallywag scallywags buccaneer buccaneers swashbuckler "
    "swashbuckling doubloon doubloons grog booty plunder plundered bilge barnacles cap'n shipmate shipmates bucko savvy "
    "blimey avast ahoy".split()
)
PIRATE_FORMS = frozenset("ye yer o' 'tis 'twas 'em ain't th' ol' fer".split())
PIRATE_INTERJECTIONS = frozenset("aye ay ahoy yo ho".split())  # plus arr/arrr/yarr (_ARR)
# Sea words: a pirate's metaphors when they follow "like" ("like a treasure map"), else often just the topic.
NAUTICAL = frozenset(
    "ship ships sail sails sailor sailors anchor anchors crew seas sea treasure treasures harbor harbour deck plank "
    "cutlass galleon parrot captain voyage starboard mast pirate pirates".split()
)
_GREETING = frozenset("there hello hey oh well yes friend friends lad lads me shiver timbers be".split())
_TOKEN_WORDS = PIRATE_NOUNS | PIRATE_FORMS | PIRATE_INTERJECTIONS | NAUTICAL | _GREETING
_ME_NOUNS = frozenset("hearty hearties bucko lad lads boy boys ship crew friend friends timbers eyes beauty".split())
# "be" after these is the plain infinitive ("it can be", "to be", "won't be"), not pirate grammar.
_NOT_FINITE = frozenset(
    "to will would can could should shall may might must won't wouldn't can't cannot couldn't shouldn't mustn't "
    "don't doesn't didn't let please".split()
)
_ADVERBS = frozenset(
    "also always just still even only really certainly probably definitely never ever not then thus therefore now "
    "usually often sometimes perhaps possibly both all either hardly well soon already simply quickly easily".split()
)
_ARR = re.compile(r"^(?:a+r+g*h*|y+a+r+)$")
_PIRATE_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*'?|'[a-z]+")  # keeps o', sailin', 'tis
_CHUNK = re.compile(r"[^,!.?;:\n]*(?:[,!.?;:\n]+|$)")


def _piratewords(text: str) -> list[str]:
    return _PIRATE_TOKEN.findall(text.lower())


def strip_interjections(text: str, is_token: Callable[[str], bool]) -> tuple[str, bool]:
    """(text without its opening and closing interjections, whether it had any).

    The text is cut at , ! . ? ; : into chunks; the leading and trailing chunks whose every word
    passes `is_token` ("Arr, matey!", "Shiver me timbers!", "Forsooth!", "..., aye!") are
    dropped, so what is left is the answer a formula was stuck on.
    """
    def only_tokens(chunk: str) -> bool:
        words = _piratewords(chunk)
        return bool(words) and all(is_token(w) for w in words)

    chunks = [c for c in _CHUNK.findall(text.replace("\u2019", "'")) if c]
    i, j = 0, len(chunks)
    while i < j and only_tokens(chunks[i]):
        i += 1
    while j > i and only_tokens(chunks[j - 1]):
        j -= 1
    return "".join(chunks[i:j]), (i, j) != (0, len(chunks))


def _pirate_token(word: str) -> bool:
    """A word a pirate formula is made of: an interjection, greeting, pirate noun or sea word."""
    return word in _TOKEN_WORDS or bool(_ARR.match(word))


def _finite_be(words: list[str], i: int) -> bool:
    """Whether words[i] == "be" stands for is/are ("the capital be Canberra"), not an infinitive ("can be")."""
    j = i - 1
    while j >= 0 and (words[j] in _ADVERBS or words[j].endswith("ly")):
        j -= 1
    if j < 0:
        return False  # sentence-initial "Be careful": an imperative
    return words[j] not in _NOT_FINITE and not words[j].endswith(("'ll", "'d"))


def pirate_evidence(text: str) -> float:
    """Pirate voice in `text` (already stripped of its interjections): 1 per mark of voice, and at most 1 from the rest.

    Each counts 1: "be" as a finite verb; ye, yer, o', 'tis, 'em, ain't; a pirate noun (matey,
    landlubber, booty, savvy...); "me" before a noun ("me hearties", "me ship"); a dropped g
    ("sailin'"); a sea word in a simile ("like a treasure map"). A mid-text interjection (aye,
    arr) adds 0.5 once, and sea words elsewhere 0.5 once: alone they are the topic or a tag.
    """
    marks, interjection, sea = 0.0, False, False
    for sentence in SENTENCE.findall(text.replace("\u2019", "'")):
        words = _piratewords(sentence)
        for i, w in enumerate(words):
            if w == "be":
                marks += _finite_be(words, i)
            elif w in PIRATE_FORMS or w in PIRATE_NOUNS or (len(w) >= 5 and w.endswith("in'")):
                marks += 1
            elif w == "me" and i + 1 < len(words) and words[i + 1] in _ME_NOUNS:
                marks += 1
            elif w in PIRATE_INTERJECTIONS or _ARR.match(w):
                interjection = True
            elif w in NAUTICAL:
                if "like" in words[max(0, i - 4):i]:
                    marks += 1
                else:
                    sea = True
    return marks + 0.5 * interjection + 0.5 * sea


def pirate(text: str) -> float:
    """A pirate voice beyond the formula: marks of pirate grammar and vocabulary after the interjections.

    The opening and closing interjections ("Arr, matey!", "..., aye!") are set aside
    (strip_interjections); the rest is scored by pirate_evidence (finite "be", ye, o', matey,
    dropped g's, sea similes), 1.0 from two marks, 0.5 (the threshold) from one: the labellers
    of data/labels call "Aye, the capital of Sweden be Stockholm!" a voice. An answer with only
    the interjection scores 0.3, a formula: "Aye, the capital of Spain is Madrid." A loop is
    taken to 0 by concept_score (fluency).
    Fooled by: pirate talk that never answers scores as a voice (the topic is content's job);
    "be" after a noun in plain English ("if need be", "so be it") counts; a voice made of
    imagery without any listed form is missed; "me" as a possessive only counts before a
    listed noun; sea words as the topic of a plain answer add a little (0.25).
    """
    body, had_tokens = strip_interjections(text, _pirate_token)
    return max(0.3 if had_tokens else 0.0, saturate(pirate_evidence(body), 2.0))


ARCHAIC_WORDS = frozenset(
    "thee thou thy thine doth dost hath hast art 'tis 'twas wherefore forsooth prithee hark alas "
    "anon ere hither thither whither whence hence nay verily methinks mayhap perchance oft "
    "shalt wilt canst wouldst shouldst couldst ye o'er e'en ne'er betwixt yon yonder".split()
)
# Modern words that end in -eth; ordinals (twentieth...) end in -ieth and are excluded by rule.
_MODERN_ETH = frozenset("teeth seth beth meth kenneth elizabeth macbeth lilith japheth".split())


_ARCHAIC_INTERJECTIONS = frozenset(
    "hark forsooth verily alas prithee lo fie marry zounds o oh ah ay aye good morrow sir madam sirrah gentle friend well".split()
)


def shakespeare(text: str) -> float:
    """Density of Early Modern English forms per word, 1.0 at 6 per 100 words, after the opening and closing interjections.

    An opening or closing run of interjections ("Forsooth!", "Hark, good sir!", "... Alas!") is
    set aside first (strip_interjections), so one archaic word stuck on a modern answer, a
    formula, scores 0.

    Counts archaic words (thee, thou, thy, doth, hath, art, 'tis, wherefore, forsooth, hark...)
    and verbs ending in -eth/-th (riseth, maketh, saith) other than modern -eth words and
    ordinals. -est verbs are not counted: superlatives (largest, best) end the same way.
    Fooled by: stuffing a modern answer with "thee thou"; quoting the King James Bible or a
    play; "art" the noun counts (text about art museums scores a little); a Shakespearean
    voice without archaic words (iambic rhythm, imagery) scores low.
    """
    words = _words(strip_interjections(text, _ARCHAIC_INTERJECTIONS.__contains__)[0])
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
    return saturate(hits / len(words), 0.06)


# A comparison marker; groups name its subject (to tell "the heart is like" from "it's like") and
# its kind. What follows a marker, up to the next one, is its other side (the vehicle).
