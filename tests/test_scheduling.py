"""Pair scheduling: both outputs must exist, identical texts are skipped, placement is seeded, re-runs add new prompts."""

import pytest

from feedback.scheduling import parse_side, schedule_pairs
from storage import outputs, pairs
from storage import tasks as task_store
from storage.errors import UserError

PARAMS = {"max_new_tokens": 8, "temperature": 0.0, "top_p": 1.0}


@pytest.fixture
def task(store):
    """A task with 10 prompts (8 train, 2 eval)."""
    task_id = task_store.upsert_task(store, {
        "name": "toyp", "title": "Pirate", "concept": "Talk like a pirate.", "guidelines": "Prefer pirates.",
        "prompt_set": "qs", "votes_per_pair": 3,
    })
    task_store.insert_prompts(store, "qs", [
        {"ext_id": f"q{i}", "text": f"question {i}?", "split": "train" if i < 8 else "eval"} for i in range(10)
    ])
    return task_store.get_task_by_id(store, task_id)


def add(store, task, i, strategy, text, model="m"):
    prompt = task_store.list_prompts(store, "qs")[i]
    return outputs.add_output(store, task["id"], prompt["id"], model, strategy, PARAMS, 0, text)


def test_pairs_only_where_both_sides_exist_and_never_identical(store, task):
    for i in range(8):
        add(store, task, i, "weak", f"arr {i}")
    for i in range(2, 10):
        add(store, task, i, "icl-refine", "arr 2" if i == 2 else f"refined {i}")
    result = schedule_pairs(store, "toyp", "icl-refine", "weak", n=40)
    assert result["missing"] == 4  # prompts 0, 1 (weak only) and 8, 9 (refined only)
    assert result["skipped_identical"] == 1  # prompt 2
    created = [pairs.get_pair(store, pid) for pid in result["created"]]
    assert len(created) == 5
    for pair in created:
        assert {pair["strategy_a"], pair["strategy_b"]} == {"icl-refine", "weak"}
        assert pair["text_a"] != pair["text_b"]
        assert pair["votes_wanted"] == 3  # the task's default
        assert pair["batch"] == "icl-refine vs weak"
        assert pair["prompt_text"].split()[1].rstrip("?") in pair["text_a"] + pair["text_b"]


def test_n_split_votes_and_rerun_adds_new_prompts(store, task):
    for i in range(10):
        add(store, task, i, "weak", f"arr {i}")
        add(store, task, i, "strong-base", f"plain {i}")
    first = schedule_pairs(store, "toyp", "weak", "strong-base", n=3, split="train", votes_wanted=1)
    assert len(first["created"]) == 3
    second = schedule_pairs(store, "toyp", "strong-base", "weak", n=10, split="train", votes_wanted=1)
    assert len(second["created"]) == 5  # the 8 train prompts, 3 of them already paired
    all_pairs = pairs.list_pairs(store, task["id"])
    assert len({p["prompt_id"] for p in all_pairs}) == 8
    assert all(p["split"] == "train" and p["votes_wanted"] == 1 for p in all_pairs)
    assert schedule_pairs(store, "toyp", "weak", "strong-base", n=10, split="train")["created"] == []


def test_placement_is_seeded_and_mixed(store, task):
    for i in range(10):
        add(store, task, i, "weak", f"arr {i}")
        add(store, task, i, "ask-to-improve", f"better arr {i}")

    def placement(seed):
        ids = schedule_pairs(store, "toyp", "ask-to-improve", "weak", n=10, seed=seed)["created"]
        order = [pairs.get_pair(store, pid)["strategy_a"] for pid in ids]
        with store.write() as db:  # start over for the next seed
            db.execute("DELETE FROM pairs")
        return order

    first = placement(7)
    assert first == placement(7)
    assert set(first) == {"ask-to-improve", "weak"}
    assert any(placement(s) != first for s in range(3))


def test_model_versions_and_model_filter(store, task):
    for i in range(4):
        add(store, task, i, "weak", f"arr {i}", model="small")
        add(store, task, i, "weak", f"other {i}", model="other")
        add(store, task, i, "model:v1", f"tuned {i}", model="v1")
    assert parse_side("model:v1") == ("model:v1", "v1")
    assert parse_side("weak@small") == ("weak", "small")
    ids = schedule_pairs(store, "toyp", "model:v1", "weak@small", n=4)["created"]
    texts = {t for pid in ids for t in (pairs.get_pair(store, pid)["text_a"], pairs.get_pair(store, pid)["text_b"])}
    assert texts == {f"arr {i}" for i in range(4)} | {f"tuned {i}" for i in range(4)}


def test_user_errors(store, task):
    add(store, task, 0, "weak", "arr")
    with pytest.raises(UserError, match="no outputs of 'icl-refine'"):
        schedule_pairs(store, "toyp", "icl-refine", "weak", n=5)
    with pytest.raises(UserError, match="unknown task"):
        schedule_pairs(store, "nope", "icl-refine", "weak", n=5)
    with pytest.raises(UserError):
        schedule_pairs(store, "toyp", "weak", "weak", n=0)


def test_a_validation_split_pairs_only_its_prompts_and_the_cli_offers_it(store, task, settings, capsys):
    import app

    task_store.insert_prompts(store, "qs", [{"ext_id": f"v{i}", "text": f"held {i}?", "split": "validation"} for i in range(2)])
    for i in range(12):
        add(store, task, i, "weak", f"arr {i}")
        add(store, task, i, "icl-refine", f"refined {i}")
    made = schedule_pairs(store, "toyp", "icl-refine", "weak", n=10, split="validation", votes_wanted=1)
    assert len(made["created"]) == 2
    assert {p["split"] for p in pairs.list_pairs(store, task["id"])} == {"validation"}
    with pytest.raises(UserError, match="split must be one of 'train', 'validation', 'eval', not 'test'"):
        schedule_pairs(store, "toyp", "icl-refine", "weak", n=1, split="test")
    assert app.main(["pairs", "--task", "toyp", "--a", "icl-refine", "--b", "weak", "--split", "validation"]) == 0
    assert "created 0 pairs" in capsys.readouterr().out  # both validation prompts are paired already


def test_pairs_cli(store, task, settings, capsys):
    import app

    for i in range(4):
        add(store, task, i, "weak", f"arr {i}")
        add(store, task, i, "icl-refine", f"refined {i}")
    assert app.main(["pairs", "--task", "toyp", "--a", "icl-refine", "--b", "weak", "--n", "3", "--votes", "1"]) == 0
    assert "icl-refine vs weak: created 3 pairs" in capsys.readouterr().out
    assert len(pairs.list_pairs(store, task["id"])) == 3
    assert app.main(["pairs", "--task", "toyp", "--a", "ask-to-improve", "--b", "weak"]) == 2
    assert "no outputs of 'ask-to-improve'" in capsys.readouterr().err
    assert app.main(["pairs", "--task", "toyp", "--a", "weak"]) == 2
    assert "give both --a and --b" in capsys.readouterr().err


def test_pairs_cli_schedules_the_default_recipes_plan_and_others_on_request(store, task, settings, capsys):
    """Without --a/--b: the default recipe's plan (icl-refine against strong-base, the concept); --recipe dpo-refined
    adds icl-refine against weak (the content); a matchup without outputs says which side is missing."""
    import app

    for i in range(4):
        add(store, task, i, "weak", f"arr {i}")
        add(store, task, i, "icl-refine", f"refined {i}")
    assert app.main(["pairs", "--task", "toyp", "--votes", "1"]) == 2
    assert "no outputs of 'strong-base'" in capsys.readouterr().err
    assert app.main(["pairs", "--task", "toyp", "--recipe", "dpo-refined", "--votes", "1"]) == 0
    out = capsys.readouterr().out
    assert "icl-refine vs weak: created 4 pairs" in out and "icl-refine vs strong-base: no outputs of 'strong-base'" in out
    for i in range(4):
        add(store, task, i, "strong-base", f"plain {i}")
    assert app.main(["pairs", "--task", "toyp", "--votes", "1"]) == 0
    assert "icl-refine vs strong-base: created 4 pairs" in capsys.readouterr().out
    batches = sorted({p["batch"] for p in pairs.list_pairs(store, task["id"])})
    assert batches == ["icl-refine vs strong-base", "icl-refine vs weak"]
    assert app.main(["pairs", "--task", "toyp", "--plan", "naive", "--votes", "1"]) == 0
    assert "weak vs strong-base: created 4 pairs" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        app.main(["pairs", "--task", "toyp", "--plan", "bogus"])
