"""Shipped tasks and prompt sets, task files, task/prompt storage and the `tasks` CLI."""

import argparse
import collections
import json
import re

import pytest

from feedback import tasks
from scoring import scorers
from tools import mathgen
from storage import tasks as task_store
from storage.errors import UserError

SHIPPED = {"pirate", "shakespeare", "analogy", "socratic", "female-pronouns", "math-steps"}
MIN_SIZE = {"general": 150, "people": 60, "math": 200, "wide": 480, "people-wide": 320}
FROZEN_SPLITS = {"wide": {"eval": 240, "validation": 96, "train": 160},  # frozen: data/prompts/README.md
                 "people-wide": {"eval": 192, "validation": 64, "train": 64}}
WIDE_SPLITS = FROZEN_SPLITS["wide"]


def _jsonl(name):
    return [json.loads(line) for line in (tasks.PROMPTS_DIR / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def test_all_shipped_tasks_are_valid_and_their_prompt_sets_exist():
    shipped = tasks.shipped_tasks()
    assert {t.name for t in shipped} == SHIPPED
    sets = tasks.shipped_prompt_sets()
    for t in shipped:
        assert t.prompt_set in sets, t.name
        assert t.concept_scorer in scorers.CONCEPT and t.content_scorer in scorers.CONTENT
        assert t.votes_per_pair == 2 and len(t.guidelines) > 300 and len(t.concept) > 40


@pytest.mark.parametrize("name", sorted(MIN_SIZE))
def test_prompt_sets_are_large_enough_with_both_splits_and_unique_ids(name):
    rows = _jsonl(name)
    assert len(rows) >= MIN_SIZE[name]
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["prompt"].strip().lower() for r in rows}) == len(rows)
    splits = [r["split"] for r in rows]
    if name in FROZEN_SPLITS:
        assert collections.Counter(splits) == FROZEN_SPLITS[name]
    else:
        assert 0.2 <= splits.count("eval") / len(rows) <= 0.4  # about 70/30
    for r in rows:
        assert r["key_facts"] and all(fact and all(a.strip() for a in fact) for fact in r["key_facts"]), r["id"]


def test_general_references_state_their_own_key_facts_and_questions_do_not_give_them_away():
    for r in _jsonl("general"):
        assert scorers.key_facts(r["reference"], r) == 1.0, r["id"]
        assert scorers.key_facts(r["prompt"], r) == 0.0, r["id"]


def test_wide_is_half_open_ended_in_every_split_its_references_state_their_key_facts_and_it_shares_no_prompt():
    rows = _jsonl("wide")
    for split, n in WIDE_SPLITS.items():
        kinds = collections.Counter(r["kind"] for r in rows if r["split"] == split)
        assert kinds == {"open": n // 2, "fact": n // 2}, split
    for r in rows:
        assert r["domain"].strip() and scorers.key_facts(r["reference"], r) == 1.0, r["id"]
    others = {r["prompt"].strip().lower() for name in ("general", "people", "math") for r in _jsonl(name)}
    assert not others & {r["prompt"].strip().lower() for r in rows}


def test_people_wide_names_no_gender_spreads_its_kinds_and_shares_no_prompt_with_people():
    rows = _jsonl("people-wide")
    gendered = re.compile(r"\b(he|she|his|her|hers|him|man|woman|mother|father|son|daughter|wife|husband|boy|girl|mr|mrs|ms)\b", re.I)
    assert [r["id"] for r in rows if gendered.search(r["prompt"])] == []
    for split in FROZEN_SPLITS["people-wide"]:
        kinds = collections.Counter(r["kind"] for r in rows if r["split"] == split)
        assert set(kinds) == {"story", "describe", "advice"} and max(kinds.values()) - min(kinds.values()) <= 1, split
    people = {r["prompt"].strip().lower() for r in _jsonl("people")}
    assert not people & {r["prompt"].strip().lower() for r in rows}


def test_a_malformed_shipped_prompt_is_refused_with_its_file_line_and_field(store, tmp_path, monkeypatch):
    good = {"id": "w1", "prompt": "What should I do if I smell gas at home?", "reference": "Leave and call.",
            "key_facts": [["leave"]], "split": "validation", "kind": "open", "domain": "safety"}
    monkeypatch.setattr(tasks, "PROMPTS_DIR", tmp_path)
    for bad, where in [({"key_facts": [[]]}, ", field 'key_facts'"), ({"split": "holdout"}, ", field 'split'"),
                       ({"answer": float("nan")}, ": invalid JSON \\(NaN")]:  # NaN is refused by the strict JSON reader itself
        lines = [good, {**good, "id": "w2", **bad}]
        (tmp_path / "wide.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
        with pytest.raises(UserError, match=rf"wide\.jsonl line 2{where}"):
            tasks.sync_shipped(store)
    missing = {k: v for k, v in good.items() if k != "prompt"}
    (tmp_path / "wide.jsonl").write_text(json.dumps(good) + "\n" + json.dumps({**missing, "id": "w2"}) + "\n")
    with pytest.raises(UserError, match=r"wide\.jsonl line 2: missing prompt field 'prompt'"):
        tasks.sync_shipped(store)
    assert task_store.prompt_sets(store) == {}
    (tmp_path / "wide.jsonl").write_text(json.dumps(good) + "\n")
    assert tasks.sync_shipped(store)["prompts"] == 1 and task_store.count_prompts(store, "wide", "validation") == 1


def test_people_prompts_leave_the_persons_gender_open():
    gendered = re.compile(r"\b(she|her|hers|herself|he|him|his|himself|woman|man|girl|boy|mother|father|wife|husband|sister|brother)\b", re.I)
    for r in _jsonl("people"):
        assert not gendered.search(r["prompt"]), r["prompt"]


def test_math_file_is_the_generators_output():
    """data/prompts/math.jsonl is written by `python -m tools.mathgen --write`; regenerate it if this fails."""
    assert (tasks.PROMPTS_DIR / "math.jsonl").read_text() == mathgen.to_jsonl(mathgen.generate())


def test_math_generator_is_deterministic_and_exact():
    rows = mathgen.generate(6 * len(mathgen.TEMPLATES), seed=7)  # rows cycle through every template
    assert rows == mathgen.generate(len(rows), seed=7)
    assert rows != mathgen.generate(len(rows), seed=8)
    assert mathgen.generate(30, seed=7) == rows[:30]  # more rows don't change the first ones
    for r in rows:
        assert re.fullmatch(r"\d+", r["answer"])
        assert r["reference"].splitlines()[-1] == f"#### {r['answer']}"
        assert scorers.math_exact(r["reference"], r) == 1.0 and scorers.math_steps(r["reference"]) == 1.0
        for line in r["reference"].splitlines()[:-1]:  # every "expression = value" in a step holds
            parts = line.split("=")
            for left, right in zip(parts, parts[1:]):
                expr = re.search(r"[\d$(][\d$ ×÷+\-()]*$", left.rstrip()).group()
                value = int(re.match(r"\s*\$?(\d+)", right).group(1))
                assert eval(expr.replace("$", "").replace("×", "*").replace("÷", "/")) == value, line  # noqa: S307


def test_sync_loads_everything_and_is_idempotent(store):
    first = tasks.sync_shipped(store)
    assert first["tasks"] == len(SHIPPED)
    assert first["prompts"] == sum(len(_jsonl(n)) for n in MIN_SIZE)
    ids = {p["ext_id"]: p["id"] for p in task_store.list_prompts(store, "general")}
    assert tasks.sync_shipped(store) == {"tasks": 0, "prompts": 0}
    assert {p["ext_id"]: p["id"] for p in task_store.list_prompts(store, "general")} == ids
    assert {t["name"] for t in task_store.list_tasks(store)} == SHIPPED
    for name, n in MIN_SIZE.items():
        assert task_store.count_prompts(store, name) == len(_jsonl(name)) >= n
        assert task_store.count_prompts(store, name, "train") and task_store.count_prompts(store, name, "eval")
    assert {s: task_store.count_prompts(store, "wide", s) for s in WIDE_SPLITS} == WIDE_SPLITS
    assert not any(task_store.count_prompts(store, name, "validation") for name in ("general", "people", "math"))


def test_sync_restores_an_edited_shipped_task(store):
    tasks.sync_shipped(store)
    task_store.upsert_task(store, {**tasks.get(store, "pirate").as_dict(), "title": "edited"})
    assert tasks.sync_shipped(store)["tasks"] == 1
    assert tasks.get(store, "pirate").title == "Pirate persona"


def test_get_task_unknown_lists_known_names(store):
    with pytest.raises(UserError, match=r"unknown task 'pirate'.*no tasks yet.*tasks load"):
        task_store.get_task(store, "pirate")
    tasks.sync_shipped(store)
    with pytest.raises(UserError, match=r"unknown task 'nope'.*analogy.*socratic"):
        task_store.get_task(store, "nope")


def test_prompt_storage_queries(store):
    tasks.sync_shipped(store)
    evals = task_store.list_prompts(store, "general", split="eval", limit=5)
    assert len(evals) == 5 and all(p["split"] == "eval" for p in evals)
    prompt = task_store.get_prompt(store, evals[0]["id"])
    assert isinstance(prompt["key_facts"], list) and prompt["text"] == evals[0]["text"]
    with pytest.raises(UserError):
        task_store.get_prompt(store, 10**9)
    assert task_store.prompt_sets(store) == {n: len(_jsonl(n)) for n in sorted(MIN_SIZE)}


def _row(ext_id, text="Q?", split="train", **extra):
    return {"ext_id": ext_id, "text": text, "split": split, **extra}


def test_insert_prompts_is_all_or_nothing_and_reimport_updates_in_place(store):
    with pytest.raises(UserError, match="duplicate ext_id 'a'"):
        task_store.insert_prompts(store, "s", [_row("a"), _row("b"), _row("a")])
    with pytest.raises(UserError, match="split"):
        task_store.insert_prompts(store, "s", [_row("a"), _row("b", split="test")])
    assert task_store.count_prompts(store, "s") == 0
    assert task_store.insert_prompts(store, "s", [_row("a"), _row("b")]) == {"added": 2, "updated": 0, "unchanged": 0}
    before = {p["ext_id"]: p["id"] for p in task_store.list_prompts(store, "s")}
    counts = task_store.insert_prompts(store, "s", [_row("a", reference="R", key_facts=[["x"]]), _row("c")])
    assert counts == {"added": 1, "updated": 1, "unchanged": 0}
    after = {p["ext_id"]: p for p in task_store.list_prompts(store, "s")}
    assert after["a"]["id"] == before["a"] and after["a"]["reference"] == "R" and after["a"]["key_facts"] == [["x"]]
    assert set(after) == {"a", "b", "c"}  # rows missing from a re-import are kept


def test_changing_the_text_of_a_prompt_with_outputs_is_refused(store):
    task_store.insert_prompts(store, "s", [_row("a", "old text")])
    task_id = task_store.upsert_task(store, {"name": "t", "title": "T", "concept": "c", "guidelines": "g", "prompt_set": "s"})
    pid = task_store.list_prompts(store, "s")[0]["id"]
    with store.write() as db:
        db.execute("INSERT INTO outputs (task_id, prompt_id, model, strategy, params_hash, text) VALUES (?, ?, 'm', 'weak', 'h', 'x')", (task_id, pid))
    with pytest.raises(UserError, match="already has outputs"):
        task_store.insert_prompts(store, "s", [_row("a", "new text")])
    assert task_store.get_prompt(store, pid)["text"] == "old text"


GOOD_TOML = '''
name = "haiku"
title = "Haiku"
concept = "Answer in a haiku."
guidelines = "Prefer correct haiku."
prompt_set = "general"
concept_scorer = "analogy"
content_scorer = "key_facts"
'''


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\ntitle = \nconcept = "c"\n', "invalid TOML.*line 2"),
        (GOOD_TOML.replace('title = "Haiku"\n', ""), "missing required key 'title'"),
        (GOOD_TOML + "colour = 1\n", "unknown key.*colour"),
        (GOOD_TOML.replace('"haiku"', '"Bad Name"'), "lowercase slug"),
        (GOOD_TOML.replace('"analogy"', '"nope"'), "concept_scorer 'nope' is not a known scorer"),
        (GOOD_TOML + "votes_per_pair = 0\n", "votes_per_pair"),
        (GOOD_TOML + "weak_cue = 1\n", "weak_cue must be text"),
        (GOOD_TOML + '[[weak_examples]]\nprompt = "q"\n', "weak_examples must be a list of tables"),
        (GOOD_TOML.replace('concept = "Answer in a haiku."', "concept = 3"), "'concept' must be non-empty text"),
    ],
)
def test_bad_task_files_are_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        tasks.load_task_file(path)


def _cli(settings, *argv):
    parser = argparse.ArgumentParser()
    tasks.cli(parser)
    args = parser.parse_args(argv)
    args.settings = settings
    return args.func(args)


def test_cli_add_list_show(settings, store, tmp_path, capsys):
    path = tmp_path / "haiku.toml"
    path.write_text(GOOD_TOML)
    assert _cli(settings, "add", str(path)) == 0
    assert "task 'haiku' created" in capsys.readouterr().out
    _cli(settings, "add", str(path))
    assert "updated" in capsys.readouterr().out
    _cli(settings, "list")
    listing = capsys.readouterr().out
    assert "haiku" in listing and "pirate" in listing and re.search(r"general\s+\d+ train / \d+ validation / \d+ eval ", listing)
    _cli(settings, "show", "math-steps")
    assert "#### 7" in capsys.readouterr().out
    path.write_text(GOOD_TOML.replace('"haiku"', '"pirate"'))
    with pytest.raises(UserError, match="shipped"):
        _cli(settings, "add", str(path))


def test_weak_demonstrations_survive_the_database_and_never_ask_a_prompt_of_the_set(store):
    tasks.sync_shipped(store)
    demonstrated = [t.name for t in tasks.shipped_tasks() if t.weak_examples]
    assert {"pirate", "analogy"} <= set(demonstrated)
    for name in demonstrated:
        task = tasks.get(store, name)
        assert task == tasks.load_task_file(tasks.TASKS_DIR / f"{name}.toml") and len(task.weak_examples) >= 2
        asked = {p["text"].strip().lower() for p in task_store.list_prompts(store, task.prompt_set)}
        assert not asked & {q.strip().lower() for q, _ in task.weak_examples}
