"""Export: TRL conversational preferences from majority votes (jsonl and hf), filters, raw votes,
and two DPOTrainer steps on the exported file, unchanged."""

import argparse
import json

import datasets
import pytest

from feedback import assignment, export
from storage import pairs as pair_store
from storage.errors import UserError
from tests.fixtures_annotation import make_pairs, make_task, make_users
from tests.tiny import make_tiny_model


def vote_all(store, task, users, verdict_for):
    """Each user votes on every pair served to them; verdict_for(user, view) gives the screen verdict."""
    for user in users:
        while (view := assignment.next_pair(store, user, task, timeout_s=600)) is not None:
            assignment.submit(store, user, view["pair_id"], verdict_for(user, view))


def prefer(strategy):
    """A verdict function that picks the side showing `strategy`."""
    return lambda user, view: "A is better" if view["left_strategy"] == strategy else "B is better"


@pytest.fixture
def voted(store):
    task = make_task(store, votes_per_pair=3)
    pair_ids = make_pairs(store, task, 4, votes_wanted=3)
    users = make_users(store, 3)
    # Pair 0: all three prefer icl-refine; pair 1: 2 of 3; pair 2: all tie; pair 3: both bad.
    def verdict(user, view):
        index = pair_ids.index(view["pair_id"])
        if index == 0 or (index == 1 and user != users[2]):
            return prefer("icl-refine")(user, view)
        if index == 1:
            return prefer("weak")(user, view)
        return "Tie" if index == 2 else "Both bad"
    vote_all(store, task, users, verdict)
    return store, task, pair_ids, users


def test_preferences_in_trl_format_leave_out_ties_and_both_bad(voted, tmp_path):
    store, task, pair_ids, _ = voted
    path, n = export.export(store, "toy", "jsonl", tmp_path / "prefs.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert n == 2 and [r["pair_id"] for r in rows] == pair_ids[:2]
    first = rows[0]
    assert first["prompt"] == [{"role": "user", "content": "Question 0?"}]
    assert first["chosen"] == [{"role": "assistant", "content": "Answer 0 by icl-refine."}]
    assert first["rejected"] == [{"role": "assistant", "content": "Answer 0 by weak."}]
    assert (first["agreement"], first["n_votes"], first["votes_a"]) == (1.0, 3, 3)
    assert rows[1]["agreement"] == pytest.approx(2 / 3)
    _, n = export.export(store, "toy", "jsonl", tmp_path / "strict.jsonl", min_agreement=0.9)
    assert n == 1


def test_exclude_failed_gold_drops_that_annotators_votes(voted, tmp_path):
    store, task, pair_ids, users = voted
    # The third annotator preferred weak on pair 1; make icl-refine the known answer there.
    pair = pair_store.get_pair(store, pair_ids[1])
    pair_store.set_gold(store, pair_ids[1], "a" if pair["strategy_a"] == "icl-refine" else "b")
    rows = export.preference_rows(store, "toy", exclude_failed_gold=True)
    assert [r["agreement"] for r in rows] == [1.0, 1.0]
    assert rows[1]["n_votes"] == 2


def test_raw_export_has_one_row_per_vote(voted, tmp_path):
    store, *_ = voted
    path, n = export.export(store, "toy", "jsonl", tmp_path / "raw.jsonl", raw=True)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert n == len(rows) == 12
    assert {"username", "choice", "swapped", "prompt", "text_a", "text_b", "seconds"} <= set(rows[0])


def test_export_says_how_many_pairs_are_short_of_votes(settings, store, tmp_path, capsys):
    task = make_task(store)
    make_pairs(store, task, 5, votes_wanted=2)
    a, b = make_users(store, 2)
    for user, n in ((a, 3), (b, 1)):  # early overlap: both vote on the first pair, a on two more
        for _ in range(n):
            assignment.submit(store, user, assignment.next_pair(store, user, task, timeout_s=600)["pair_id"], "A is better")
    assert export.vote_shortfall(store, "toy") == {"pairs": 5, "short": 4, "none": 2}
    note = export.shortfall_note(export.vote_shortfall(store, "toy"))
    assert note == "4 of 5 pairs have fewer votes than they ask for: 2 have none (not exported), 2 are exported on fewer votes."
    parser = argparse.ArgumentParser(prog="export")
    export.cli(parser)
    args = parser.parse_args(["--task", "toy", "--out", str(tmp_path / "p.jsonl")])
    args.settings = settings
    assert args.func(args) == 0
    wrote, said = capsys.readouterr().out.splitlines()
    assert wrote.startswith("wrote ") and wrote.endswith(f"preference pairs to {tmp_path / 'p.jsonl'}") and said == note


def test_a_full_task_has_no_shortfall_note(voted):
    store, *_ = voted
    assert export.vote_shortfall(store, "toy")["short"] == 0 and export.shortfall_note(export.vote_shortfall(store, "toy")) == ""


def test_empty_export_is_refused_and_writes_nothing(store, tmp_path):
    make_task(store)
    with pytest.raises(UserError, match="nothing to export"):
        export.export(store, "toy", "jsonl", tmp_path / "none.jsonl")
    assert not (tmp_path / "none.jsonl").exists()
    with pytest.raises(UserError, match="unknown task"):
        export.export(store, "nope", "jsonl", tmp_path / "x.jsonl")


@pytest.mark.parametrize("fmt", ["jsonl", "hf"])
def test_export_trains_two_dpo_steps_unchanged(voted, tmp_path, fmt):
    from trl import DPOConfig, DPOTrainer

    store, *_ = voted
    path, _ = export.export(store, "toy", fmt, tmp_path / f"prefs.{fmt}")
    data = datasets.load_dataset("json", data_files=str(path), split="train") if fmt == "jsonl" else datasets.load_from_disk(str(path))
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = make_tiny_model(tmp_path / "tiny")
    model, tok = AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), max_steps=2, per_device_train_batch_size=2, learning_rate=1e-2,
                     report_to="none", use_cpu=True, logging_steps=1, save_strategy="no", disable_tqdm=True)
    trainer = DPOTrainer(model=model, ref_model=AutoModelForCausalLM.from_pretrained(model_dir), args=args,
                         processing_class=tok, train_dataset=data)
    trainer.train()
    assert trainer.state.global_step == 2
    assert any(not (p.detach() == before[n]).all() for n, p in model.named_parameters())
