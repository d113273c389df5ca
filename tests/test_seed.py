"""Seed candidates load into a new database as outputs and pairs ready to vote, idempotently."""

import json
from collections import Counter

import pytest

from storage import outputs, pairs
from storage import tasks as task_store
from storage.errors import UserError
from feedback.seed import SEED_DIR, load_seed, read_seed_file

STRATEGY_TEXT = {"weak": "Arr, it be {i}!", "strong-base": "It is {i}.", "icl-refine": "Arr, 'tis {i}, matey.",
                 "ask-to-improve": "Arr, it be truly {i}!"}


@pytest.fixture
def seeded_task(store):
    task_store.upsert_task(store, {"name": "toy-pirate", "title": "Toy", "concept": "Be a pirate.",
                                   "guidelines": "Prefer pirates.", "prompt_set": "toy", "votes_per_pair": 2})
    task_store.insert_prompts(store, "toy", [{"ext_id": f"t{i}", "text": f"toy question {i}?", "split": "train"} for i in range(5)])
    return task_store.get_task(store, "toy-pirate")


def write_seed(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def record(i, strategy, text=None, prompt=None):
    return {"task": "toy-pirate", "prompt_set": "toy", "prompt_ext_id": f"t{i}", "prompt": prompt or f"toy question {i}?",
            "split": "train", "model": "weak-m" if strategy == "weak" else "strong-m", "strategy": strategy,
            "params": {"max_new_tokens": 8}, "seed": 0, "text": text or STRATEGY_TEXT[strategy].format(i=i), "extra": {}}


def test_load_seed_creates_outputs_and_pairs_once(store, seeded_task, tmp_path):
    records = [record(i, s) for i in range(5) for s in STRATEGY_TEXT]
    records[-1] = record(4, "ask-to-improve", text=STRATEGY_TEXT["weak"].format(i=4))  # identical to weak: no pair
    records.append(record(2, "weak", prompt="a question that was edited since"))  # stale: skipped
    write_seed(tmp_path / "toy.jsonl", records)

    first = load_seed(store, tmp_path)
    assert first["outputs"] == 20 and first["skipped"] == 1
    stored = outputs.list_outputs(store, seeded_task["id"])
    assert len(stored) == 20 and {o["source"] for o in stored} == {"seed"}
    made = pairs.list_pairs(store, seeded_task["id"])
    assert first["pairs"] == len(made) == 5 * 5 - 1
    assert Counter(p["batch"] for p in made) == {
        "ask-to-improve vs weak": 4, "icl-refine vs weak": 5, "ask-to-improve vs strong-base": 5, "icl-refine vs strong-base": 5,
        "weak vs strong-base": 5,
    }
    assert all(p["votes_wanted"] == 2 and p["text_a"] != p["text_b"] for p in made)

    again = load_seed(store, tmp_path)
    assert again == {"outputs": 20, "pairs": 0, "skipped": 1}
    assert len(outputs.list_outputs(store, seeded_task["id"])) == 20
    assert len(pairs.list_pairs(store, seeded_task["id"])) == 24


def test_seed_answers_generated_before_the_first_start_load_without_pairs_of_their_own(store, seeded_task, tmp_path):
    """`generate` before the first `serve` stores the seed answers' keys as model outputs: the seed adds the rest."""
    for i in range(3):
        r = record(i, "icl-refine")
        prompt = task_store.list_prompts(store, "toy", "train")[i]
        outputs.add_output(store, seeded_task["id"], prompt["id"], r["model"], r["strategy"], r["params"], 0, r["text"])
    write_seed(tmp_path / "toy.jsonl", [record(i, s) for i in range(3) for s in ("weak", "strong-base", "icl-refine")])
    loaded = load_seed(store, tmp_path)
    assert loaded["skipped"] == 0 and loaded["pairs"] == 3
    assert {p["batch"] for p in pairs.list_pairs(store, seeded_task["id"])} == {"weak vs strong-base"}


def test_seed_pairs_ignore_outputs_generated_later(store, seeded_task, tmp_path):
    write_seed(tmp_path / "toy.jsonl", [record(i, s) for i in range(3) for s in ("weak", "icl-refine")])
    load_seed(store, tmp_path)
    prompt = task_store.list_prompts(store, "toy")[0]
    outputs.add_output(store, seeded_task["id"], prompt["id"], "strong-m", "icl-refine", {"other": 1}, 0, "a newer answer")
    assert load_seed(store, tmp_path)["pairs"] == 0


def test_bad_seed_line_is_named(tmp_path):
    (tmp_path / "bad.jsonl").write_text(json.dumps(record(0, "weak")) + "\n{not json\n")
    with pytest.raises(UserError, match="bad.jsonl:2"):
        read_seed_file(tmp_path / "bad.jsonl")
    (tmp_path / "bad.jsonl").write_text(json.dumps({"task": "x"}) + "\n")
    with pytest.raises(UserError, match="bad.jsonl:1: missing prompt_set"):
        read_seed_file(tmp_path / "bad.jsonl")


def test_shipped_seed_candidates_load_as_pairs_ready_to_vote(store):
    """Every shipped seed file fits the shipped prompts and loads as the embedded models' outputs and pairs."""
    shipped = sorted(p.stem for p in SEED_DIR.glob("*.jsonl"))
    assert "pirate" in shipped
    result = load_seed(store)
    assert result["skipped"] == 0 and result["pairs"] > 0
    for name in shipped:
        task = task_store.get_task(store, name)
        stored = outputs.list_outputs(store, task["id"])
        assert len({o["prompt_id"] for o in stored}) >= 40
        assert all(o["split"] == "train" and o["source"] == "seed" for o in stored)
        assert {o["model"] for o in stored if o["strategy"] == "weak"} == {"smollm2-135m"}
        assert {o["model"] for o in stored if o["strategy"] != "weak"} == {"qwen2.5-coder-1.5b"}
        made = pairs.list_pairs(store, task["id"])
        assert made and all(p["text_a"] != p["text_b"] for p in made)
    assert load_seed(store)["pairs"] == 0


def test_pirate_and_analogy_seeds_hold_the_four_strategies_on_40_prompts():
    """What a fresh `make run` offers to annotate: weak labels, the strong base and both refinements."""
    for name in ("pirate", "analogy"):
        records = read_seed_file(SEED_DIR / f"{name}.jsonl")
        for strategy in ("weak", "strong-base", "icl-refine", "ask-to-improve"):
            prompts = {r["prompt_ext_id"] for r in records if r["strategy"] == strategy}
            assert len(prompts) >= 40, f"{name} seed has {strategy} on {len(prompts)} prompts"
