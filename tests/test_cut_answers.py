"""Answers cut at their token limit are marked on the Annotate tab ("… cut at 128 tokens"), finished ones
are not; the task's name is shown above the question."""

import json
from pathlib import Path

from feedback import assignment, cut_answers
from storage import outputs, pairs
from tests.fixtures_annotation import make_task
from storage import tasks
from ui.annotate import answer_html, prompt_html

ROOT = Path(__file__).resolve().parent.parent


def test_limit_read_from_stored_params():
    assert cut_answers.max_new_tokens('{"max_new_tokens": 128, "temperature": 0.0}') == 128
    assert cut_answers.max_new_tokens({}) is None and cut_answers.max_new_tokens("not json") is None
    assert cut_answers.max_new_tokens({"max_new_tokens": True}) is None


def test_seed_answers_cut_mid_sentence_are_marked_and_finished_ones_not():
    rows = [json.loads(line) for f in ("pirate", "analogy") for line in (ROOT / f"data/seed/{f}.jsonl").read_text().splitlines()]
    cut = [r for r in rows if cut_answers.looks_cut(r["text"], r["params"]["max_new_tokens"])]
    assert all(not r["text"].rstrip().endswith((".", "!", "?")) for r in cut)
    assert 10 <= len(cut) <= 40  # 22 of the 320 seed answers run into the limit mid-sentence
    example = cut[0]
    assert not cut_answers.looks_cut(example["text"], 1024)  # far from that limit: it would have ended by itself
    assert not cut_answers.looks_cut("Aye, the symbol be Au, aye", 128)  # short


def test_served_pair_shows_task_and_cut_mark(store):
    task_id = make_task(store, name="pirate")
    task = tasks.get_task_by_id(store, task_id)
    tasks.insert_prompts(store, task["prompt_set"], [{"ext_id": "q0", "text": "Why do vaccines work?", "split": "train"}])
    prompt = tasks.list_prompts(store, task["prompt_set"])[0]
    long = "Aye, " + "it's a spell of magic, aye! " * 20 + "It's a spell"
    a = outputs.add_output(store, task_id, prompt["id"], "m", "weak", {"max_new_tokens": 128}, 0, long)
    b = outputs.add_output(store, task_id, prompt["id"], "m", "strong-base", {"max_new_tokens": 128}, 0, "Vaccines train the immune system.")
    (pair_id,) = pairs.create_pairs(store, task_id, [(prompt["id"], a, b)], votes_wanted=1)
    view = assignment.on_screen(pairs.get_pair(store, pair_id), swapped=False)
    assert "… cut at 128 tokens" in answer_html(view, "left") and "cut at" not in answer_html(view, "right")
    shown = prompt_html(view, "Talk like a <pirate>")
    assert "Task: <b>Talk like a &lt;pirate&gt;</b>" in shown and "Question</h2>" in shown
