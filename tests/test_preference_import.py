"""Preference import: TRL-style files become pairs (and votes), round-trip with export, bad files change nothing."""

import json

import pytest

from feedback import assignment, export, preference_import
from storage import pairs as pair_store
from storage import votes as vote_store
from storage.errors import UserError
from tests.fixtures_annotation import make_task, make_users

ROWS = [
    {"prompt": [{"role": "user", "content": "What is the capital of Australia?"}],
     "chosen": [{"role": "assistant", "content": "Arr, Canberra it be."}],
     "rejected": [{"role": "assistant", "content": "Sydney."}], "split": "train"},
    {"id": "q2", "prompt": "Who wrote Hamlet?", "chosen": "Shakespeare, matey.", "rejected": "Marlowe.", "split": "test"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_rows_become_pairs_to_annotate_and_a_rerun_adds_nothing(store, tmp_path):
    task = make_task(store)
    path = write_jsonl(tmp_path / "prefs.jsonl", ROWS)
    assert preference_import.import_preferences(store, "toy", path) == {"rows": 2, "pairs": 2, "votes": 0}
    assert preference_import.import_preferences(store, "toy", path) == {"rows": 2, "pairs": 0, "votes": 0}
    [annotator] = make_users(store, 1)
    view = assignment.next_pair(store, annotator, task, timeout_s=600)
    assert {view["left_text"], view["right_text"]} in ({"Arr, Canberra it be.", "Sydney."}, {"Shakespeare, matey.", "Marlowe."})
    assert {view["left_strategy"], view["right_strategy"]} == {"imported-chosen", "imported-rejected"}


def test_votes_by_an_account_round_trip_through_export(store, tmp_path):
    make_task(store, votes_per_pair=1)
    make_users(store, 1, prefix="importer")
    path = write_jsonl(tmp_path / "prefs.jsonl", ROWS)
    assert preference_import.import_preferences(store, "toy", path, votes_by="importer0")["votes"] == 2
    assert preference_import.import_preferences(store, "toy", path, votes_by="importer0")["votes"] == 0
    exported = {r["prompt"][0]["content"]: (r["chosen"][0]["content"], r["rejected"][0]["content"], r["split"])
                for r in export.preference_rows(store, "toy")}
    assert exported == {
        "What is the capital of Australia?": ("Arr, Canberra it be.", "Sydney.", "train"),
        "Who wrote Hamlet?": ("Shakespeare, matey.", "Marlowe.", "eval"),
    }
    # an export imports again into another task unchanged
    make_task(store, name="copy", votes_per_pair=1)
    again = write_jsonl(tmp_path / "again.jsonl", export.preference_rows(store, "toy"))
    assert preference_import.import_preferences(store, "copy", again, votes_by="importer0") == {"rows": 2, "pairs": 2, "votes": 2}


@pytest.mark.parametrize("bad, message", [
    ({"prompt": "Q?", "chosen": "A"}, r"line 3: 'rejected' must be non-empty text"),
    ({"prompt": "Q?", "chosen": "Same", "rejected": "Same"}, r"line 3: 'chosen' and 'rejected' are the same text"),
    ({"prompt": [{"role": "system", "content": "x"}], "chosen": "A", "rejected": "B"}, r"line 3: 'prompt' must be .* a user turn"),
    ({"prompt": "Q?", "chosen": [{"role": "user", "content": "x"}], "rejected": "B"}, r"line 3: 'chosen' must be .* an assistant turn"),
    ({"prompt": "Q?", "chosen": "A", "rejected": "B", "split": "later"}, r"line 3, field 'split': 'later' is not one of train, validation, valid, dev, eval, test"),
    ({"id": "q2", "prompt": "Q?", "chosen": "A", "rejected": "B"}, r"line 3: duplicate id 'q2' \(first seen at .*line 2\)"),
])
def test_a_bad_row_refuses_the_whole_file_and_stores_nothing(store, tmp_path, bad, message):
    task = make_task(store)
    path = write_jsonl(tmp_path / "bad.jsonl", [*ROWS, bad])
    with pytest.raises(UserError, match=message):
        preference_import.import_preferences(store, "toy", path)
    assert pair_store.list_pairs(store, task) == []


def test_unknown_account_task_and_oversized_text_are_refused(store, tmp_path):
    make_task(store)
    path = write_jsonl(tmp_path / "prefs.jsonl", ROWS)
    with pytest.raises(UserError, match="no account 'nobody'"):
        preference_import.import_preferences(store, "toy", path, votes_by="nobody")
    with pytest.raises(UserError, match="unknown task 'nope'"):
        preference_import.import_preferences(store, "nope", path)
    with pytest.raises(UserError, match="line 1: 'prompt' is 33 characters long; the limit is 10"):
        preference_import.import_preferences(store, "toy", path, max_chars=10)
    assert vote_store.count_votes(store) == 0
