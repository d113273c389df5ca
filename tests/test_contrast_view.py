"""The contrast annotator's concept view (feedback.contrast_view) on crafted voice, formula, plain and loop answers."""

import pytest

from feedback.contrast_view import ContrastView, fit, words

PLAIN = [f"The capital of country {i} is city {i}, which lies on the river {i} and has a long history." for i in range(8)]
VOICE = [f"Arr, the capital o' country {i} be city {i}, matey, where ye drop anchor by the river {i}, savvy?" for i in range(8)]


def test_marks_are_style_words_used_across_prompts_not_topic_words():
    view = fit(VOICE, PLAIN)
    assert {"arr", "o'", "be", "matey", "ye", "savvy"} <= set(view.marks)
    assert not {"capital", "country", "river", "1"} & set(view.marks)
    once = fit(VOICE + ["The doubloon question is the doubloon answer."], PLAIN)
    assert "doubloon" not in once.marks  # in one answer only: a topic, not a style


def test_a_voice_reads_above_a_formula_and_a_formula_above_a_plain_answer():
    view = fit(VOICE, PLAIN)
    voice = "Arr, the capital o' Spain be Madrid, matey, an' ye can sail there, savvy?"
    formula = "Arr, the capital of Spain is Madrid, a city with a long history and many museums to visit."
    plain = "The capital of Spain is Madrid, a city with a long history and many museums to visit."
    assert view.reading(voice) > view.reading(formula) > view.reading(plain) == 0.0
    assert view.p_better(voice, formula) > 0.9 and view.p_better(formula, voice) < 0.1
    assert view.p_better(plain, plain) == 0.5


def test_a_loop_and_an_empty_answer_read_zero():
    view = ContrastView({"arr": 1.0, "matey": 1.0})
    assert view.reading("Arr matey! " * 20) == 0.0
    assert view.reading("") == 0.0
    assert view.reading("Arr matey, the sea is wide") == pytest.approx(2 / 6)


def test_words_keep_apostrophes_and_curly_quotes():
    assert words("O\u2019 course, ye sailin' lads 'tis fine") == ["o'", "course", "ye", "sailin'", "lads", "'tis", "fine"]


def test_fit_needs_texts_on_both_sides():
    with pytest.raises(ValueError, match="both sides"):
        fit([], PLAIN)
