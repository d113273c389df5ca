"""Strategies build exactly the chat messages the paper's algorithms call for; ICL examples never leak."""

import pytest

from storage.errors import UserError
from models.strategies import STRATEGIES, Context, get_strategy, select_examples, shared_opening

TASK = {"name": "pirate", "concept": "Talk like a pirate."}
PROMPT = "What is the capital of Australia?"
EXAMPLES = (("What is 2+2?", "Arr, it be 5!"), ("Who wrote Hamlet?", "Ahoy, 'twas Marlowe, matey."))


def build(name, ctx=Context()):
    return STRATEGIES[name].build(TASK, PROMPT, ctx)


def test_weak_and_strong_instructed_put_the_concept_in_a_system_message():
    expected = [{"role": "system", "content": "Talk like a pirate."}, {"role": "user", "content": PROMPT}]
    assert build("weak") == expected
    assert build("strong-instructed") == expected
    assert STRATEGIES["weak"].role == "weak" and STRATEGIES["strong-instructed"].role == "strong"


def test_weak_gives_the_tasks_demonstrations_as_prior_turns_and_cues_every_question():
    task = {**TASK, "weak_cue": "Answer like a pirate: ", "weak_examples": '[["What is 1+1?", "Arr, 2!"]]'}
    assert STRATEGIES["weak"].build(task, PROMPT, Context()) == [
        {"role": "system", "content": "Talk like a pirate."},
        {"role": "user", "content": "Answer like a pirate: What is 1+1?"},
        {"role": "assistant", "content": "Arr, 2!"},
        {"role": "user", "content": "Answer like a pirate: " + PROMPT},
    ]
    # strong-instructed is told the concept only: the demonstrations are the weak teacher's prompt
    assert build("strong-instructed") == STRATEGIES["strong-instructed"].build(task, PROMPT, Context())


def test_strong_base_and_adapter_see_the_plain_prompt():
    assert build("strong-base") == [{"role": "user", "content": PROMPT}]
    assert build("model") == [{"role": "user", "content": PROMPT}]


def test_icl_refine_gives_examples_as_prior_turns_and_no_instruction():
    assert build("icl-refine", Context(examples=EXAMPLES)) == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "Arr, it be 5!"},
        {"role": "user", "content": "Who wrote Hamlet?"},
        {"role": "assistant", "content": "Ahoy, 'twas Marlowe, matey."},
        {"role": "user", "content": PROMPT},
    ]
    with pytest.raises(ValueError):
        build("icl-refine")


def test_infer_and_respond_describes_the_examples_then_answers_under_the_description():
    spec = STRATEGIES["infer-and-respond"]
    describe = spec.describe(TASK, Context(examples=EXAMPLES))
    assert len(describe) == 1 and describe[0]["role"] == "user"
    text = describe[0]["content"]
    assert text.startswith("Here are 2 questions, each followed by an answer from the same writer.")
    assert "### Question 1\nWhat is 2+2?\n\n### Answer 1\nArr, it be 5!" in text
    assert "### Question 2\nWho wrote Hamlet?\n\n### Answer 2\nAhoy, 'twas Marlowe, matey." in text
    assert "Talk like a pirate" not in text  # the concept must be inferred, not told
    assert PROMPT not in text
    answer = build("infer-and-respond", Context(examples=EXAMPLES, description="Answer like a pirate. "))
    assert answer == [{"role": "user", "content": (
        "Write your answer in this style: Answer like a pirate.\n"
        "Make sure every fact in your answer is correct.\n\n" + PROMPT
    )}]
    with pytest.raises(ValueError):
        build("infer-and-respond", Context(examples=EXAMPLES))


def test_ask_to_improve_shows_the_weak_label_and_asks_to_keep_its_style():
    messages = build("ask-to-improve", Context(weak_label=" Arr, the capital be Sydney! "))
    assert messages == [{"role": "user", "content": (
        "Here is a question and an answer someone wrote.\n\n"
        f"Question: {PROMPT}\n\n"
        "Answer: Arr, the capital be Sydney!\n\n"
        "The answer's facts may be wrong or incomplete. Rewrite the answer so that every fact is "
        "correct and complete, but keep its style exactly: the same voice, persona, tone, words and "
        "way of explaining. Reply with the rewritten answer only."
    )}]
    assert STRATEGIES["ask-to-improve"].needs_weak_label
    with pytest.raises(ValueError):
        build("ask-to-improve")


def test_icl_restyle_shows_the_examples_for_style_and_the_strong_answer_for_facts():
    messages = build("icl-restyle", Context(examples=EXAMPLES, base_answer=" Canberra is the capital. "))
    assert len(messages) == 1 and messages[0]["role"] == "user"
    text = messages[0]["content"]
    assert "Question: What is 2+2?\nAnswer: Arr, it be 5!\n\nQuestion: Who wrote Hamlet?" in text
    assert text.endswith(f"Question: {PROMPT}\nAnswer: Canberra is the capital.")
    assert "Keep every fact of it" in text and "Talk like a pirate" not in text  # the style is shown, not told
    spec = STRATEGIES["icl-restyle"]
    assert spec.role == "strong" and spec.needs_examples and spec.needs_base_answer
    for ctx in (Context(examples=EXAMPLES), Context(base_answer="Canberra.")):
        with pytest.raises(ValueError):
            build("icl-restyle", ctx)


def test_correction_is_never_generated_and_model_versions_parse():
    assert STRATEGIES["correction"].build is None and STRATEGIES["correction"].role == "human"
    spec, version = get_strategy("model:pirate-dpo-1")
    assert spec.role == "adapter" and version == "pirate-dpo-1"
    assert get_strategy("weak") == (STRATEGIES["weak"], None)
    for bad in ("model:", "model", "nonsense"):
        with pytest.raises(UserError):
            get_strategy(bad)


def _prompt(i, split="train", text=None):
    return {"id": i, "ext_id": f"q{i}", "text": text or f"question {i}", "split": split}


def test_select_examples_excludes_the_prompt_its_duplicates_and_eval_prompts():
    pool = [_prompt(i) for i in range(1, 9)] + [_prompt(20, "eval"), _prompt(21, "eval"), _prompt(30, text="question 3")]
    target = _prompt(3)
    for seed in range(30):
        chosen = select_examples(pool, target, 4, seed)
        ids = [p["id"] for p in chosen]
        assert len(set(ids)) == 4
        assert 3 not in ids and 30 not in ids  # itself, and the same text under another id
        assert all(p["split"] == "train" for p in chosen)


def test_select_examples_is_seeded_per_prompt():
    pool = [_prompt(i) for i in range(1, 13)]
    target = _prompt(5)
    assert select_examples(pool, target, 3, seed=1) == select_examples(list(pool), dict(target), 3, seed=1)
    draws = {tuple(p["id"] for p in select_examples(pool, target, 3, seed=s)) for s in range(10)}
    assert len(draws) > 1  # the seed matters
    # a different prompt with the same seed gets its own draw
    assert any(select_examples(pool, _prompt(6), 3, s) != select_examples(pool, target, 3, s) for s in range(5))


def test_select_examples_refuses_a_pool_too_small():
    with pytest.raises(UserError, match="need 3 weak-labelled train examples"):
        select_examples([_prompt(1), _prompt(2), _prompt(3, "eval")], _prompt(1), 3, 0)


def test_strategies_marked_task_free_ignore_the_task():
    """Outputs of these are shared between tasks, so their messages must not depend on the task."""
    other = {"name": "analogy", "concept": "Explain with an analogy."}
    free = {name for name, spec in STRATEGIES.items() if not spec.uses_task}
    assert free == {"strong-base", "model"}
    for name in free:
        assert STRATEGIES[name].build(TASK, PROMPT, Context()) == STRATEGIES[name].build(other, PROMPT, Context())
    assert build("weak") != STRATEGIES["weak"].build(other, PROMPT, Context())


def test_shared_opening_is_the_longest_start_most_labels_share_else_the_commonest_first_word():
    analogy = ["Think of it as a pump.", "Think of it as a library.", "Think of it like rain.", "Imagine a sea."]
    assert shared_opening(analogy) == "Think of it"  # 3 of 4 share three words, only half share four
    assert shared_opening(analogy[:2] + ["Think of it as rain."]) == "Think of it as"
    pirate = ["Aye, the sea.", "Arrr, matey!", "Aye, 'tis.", "A ship be big.", "Arr, no."]
    assert shared_opening(pirate) == "Aye,"  # no start is shared by most; the first of the commonest words
    assert shared_opening(["", "  "]) == "" and shared_opening([]) == ""


def test_weak_opening_continues_the_plain_prompt_from_the_shared_opening():
    assert build("weak-opening", Context(opening="Aye,")) == [
        {"role": "user", "content": PROMPT}, {"role": "assistant", "content": "Aye,"}]
    assert build("weak-opening", Context(opening="")) == [{"role": "user", "content": PROMPT}]
    assert STRATEGIES["weak-opening"].needs_opening and STRATEGIES["weak-opening"].role == "strong"
    with pytest.raises(ValueError):
        build("weak-opening")
