"""Prompt import from JSONL, CSV and saved HF datasets: field mapping, splits, and refusals that import nothing."""

import argparse
import csv
import json

import pytest

from feedback import prompt_import
from storage import tasks as task_store
from storage.errors import UserError


def _write_jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


GOOD = [
    {"id": "q1", "prompt": "What is the capital of Australia?", "reference": "Canberra", "key_facts": [["Canberra"]], "split": "eval"},
    {"id": "q2", "question": "Who wrote Hamlet?", "key_facts": ["Shakespeare"]},
    {"instruction": "Name a prime number.", "answer": 7},
]


def test_jsonl_maps_fields_and_assigns_stable_splits(store, tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", GOOD)
    counts = prompt_import.import_prompts(store, "mine", path)
    assert counts == {"added": 3, "updated": 0, "unchanged": 0}
    rows = {p["text"]: p for p in task_store.list_prompts(store, "mine")}
    first = rows["What is the capital of Australia?"]
    assert (first["ext_id"], first["split"], first["reference"], first["key_facts"]) == ("q1", "eval", "Canberra", [["Canberra"]])
    assert rows["Who wrote Hamlet?"]["key_facts"] == [["Shakespeare"]]
    prime = rows["Name a prime number."]
    assert prime["answer"] == "7" and prime["ext_id"].startswith("h-")
    assert prime["split"] == prompt_import.default_split(prime["ext_id"])
    assert prompt_import.import_prompts(store, "mine", path) == {"added": 0, "updated": 0, "unchanged": 3}


def test_default_split_is_stable_and_about_thirty_percent_eval():
    splits = [prompt_import.default_split(f"id-{i}") for i in range(2000)]
    assert splits == [prompt_import.default_split(f"id-{i}") for i in range(2000)]
    assert 0.25 < splits.count("eval") / len(splits) < 0.35


def test_gsm8k_style_answer_becomes_reference_and_number():
    row = prompt_import.normalize_record({"question": "2+2?", "answer": "2 + 2 = 4\n#### 4"}, "row 0")
    assert row["answer"] == "4" and row["reference"] == "2 + 2 = 4\n#### 4"


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ('{"id": "x", "prompt": "unterminated', r"p\.jsonl line 3: invalid JSON"),
        ('{"id": "x", "text": "no prompt column"}', r"line 3: missing prompt field 'prompt' or 'question' or 'instruction'"),
        ('{"id": "x", "prompt": "   "}', r"line 3, field 'prompt': the prompt must be non-empty"),
        ('{"id": "x", "prompt": "ok", "split": "holdout"}', r"line 3, field 'split'"),
        ('{"id": "x", "prompt": "ok", "key_facts": [[]]}', r"line 3, field 'key_facts'"),
        ('{"id": "q1", "prompt": "same id again"}', r"line 3: duplicate id 'q1' \(first seen at p\.jsonl line 1\)"),
        ('["a", "list"]', r"line 3: expected an object"),
    ],
)
def test_malformed_jsonl_is_refused_with_line_and_field_and_nothing_imported(store, tmp_path, bad_line, message):
    path = _write_jsonl(tmp_path / "p.jsonl", [GOOD[0], GOOD[1], bad_line, GOOD[2]])
    with pytest.raises(UserError, match=message):
        prompt_import.import_prompts(store, "mine", path)
    assert task_store.count_prompts(store, "mine") == 0


def test_oversized_text_is_refused(store, tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [GOOD[0], {"id": "big", "prompt": "x" * 101}])
    with pytest.raises(UserError, match=r"line 2, field 'prompt': 101 characters, more than max_text_chars=100"):
        prompt_import.import_prompts(store, "mine", path, max_chars=100)
    assert task_store.count_prompts(store, "mine") == 0


def test_prompt_field_override(store, tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "body": "Why is the sky blue?", "prompt": "ignored"}])
    prompt_import.import_prompts(store, "mine", path, prompt_field="body")
    assert task_store.list_prompts(store, "mine")[0]["text"] == "Why is the sky blue?"
    with pytest.raises(UserError, match="missing prompt field 'nope'"):
        prompt_import.read_prompts(path, prompt_field="nope")


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_csv_happy_path_with_key_fact_shorthand_and_multiline_cells(store, tmp_path):
    path = _write_csv(
        tmp_path / "p.csv",
        ["id", "question", "reference", "key_facts", "split"],
        [
            ["c1", "What is the capital of Australia?", "Canberra", "Canberra|Canberra ACT; 1913", "train"],
            ["c2", "Explain rain\nin two lines.", "", '[["water"], ["clouds", "cloud"]]', "test"],
        ],
    )
    assert prompt_import.import_prompts(store, "csvset", path)["added"] == 2
    rows = {p["ext_id"]: p for p in task_store.list_prompts(store, "csvset")}
    assert rows["c1"]["key_facts"] == [["Canberra", "Canberra ACT"], ["1913"]]
    assert rows["c2"]["text"] == "Explain rain\nin two lines." and rows["c2"]["split"] == "eval"
    assert rows["c2"]["reference"] is None and rows["c2"]["key_facts"] == [["water"], ["clouds", "cloud"]]


def test_malformed_csv_names_the_line(store, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('id,prompt\na,"first"\nb,second,extra\n')
    with pytest.raises(UserError, match=r"p\.csv line 3: more cells than header columns"):
        prompt_import.import_prompts(store, "csvset", path)
    path.write_text('id,prompt,key_facts\na,first,"[[""x""]"\n')
    with pytest.raises(UserError, match=r"line 2, field 'key_facts': invalid JSON"):
        prompt_import.import_prompts(store, "csvset", path)
    assert task_store.count_prompts(store, "csvset") == 0


def test_hf_dataset_dir_happy_path_and_splits_from_dataset_dict(store, tmp_path):
    import datasets

    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"instruction": ["Why do cats purr?", "What is rain?"], "response": ["Contentment", "Water"]}),
        "test": datasets.Dataset.from_dict({"instruction": ["What is snow?"], "response": ["Frozen water"]}),
    })
    dd.save_to_disk(str(tmp_path / "hf"))
    assert prompt_import.detect_format(tmp_path / "hf") == "hf"
    assert prompt_import.import_prompts(store, "hfset", tmp_path / "hf")["added"] == 3
    assert [p["text"] for p in task_store.list_prompts(store, "hfset", split="eval")] == ["What is snow?"]
    assert task_store.count_prompts(store, "hfset", "train") == 2


def test_hf_dataset_bad_row_names_row_and_field(store, tmp_path):
    import datasets

    datasets.Dataset.from_dict({"prompt": ["ok", ""]}).save_to_disk(str(tmp_path / "hf"))
    with pytest.raises(UserError, match=r"row 1: missing prompt field"):
        prompt_import.import_prompts(store, "hfset", tmp_path / "hf")
    assert task_store.count_prompts(store, "hfset") == 0


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "p.txt").write_text("hello")
    with pytest.raises(UserError, match="--format"):
        prompt_import.read_prompts(tmp_path / "p.txt")
    with pytest.raises(UserError, match="no such file"):
        prompt_import.read_prompts(tmp_path / "absent.jsonl")


def _cli(settings, *argv):
    parser = argparse.ArgumentParser()
    prompt_import.cli(parser)
    args = parser.parse_args(argv)
    args.settings = settings
    return args.func(args)


def test_cli_import_and_list(settings, tmp_path, capsys):
    path = _write_jsonl(tmp_path / "p.data", GOOD)
    assert _cli(settings, "import", "--set", "mine", str(path), "--format", "jsonl") == 0
    assert "3 added" in capsys.readouterr().out
    _cli(settings, "list")
    assert "mine\t3 prompts (1 train, 0 validation, 2 eval)" in capsys.readouterr().out
    _cli(settings, "list", "--set", "mine", "--limit", "1")
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    with pytest.raises(UserError, match="empty or unknown"):
        _cli(settings, "list", "--set", "other")


def test_import_messages_read_well_unclosed_quote_is_named_and_a_bom_is_skipped(store, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "x", "prompt": "tab\tinside"}\n')  # a raw control character in a JSON string
    with pytest.raises(UserError) as err:
        prompt_import.import_prompts(store, "mine", path)
    assert "at at" not in str(err.value) and "invalid JSON at column" in str(err.value)
    path = tmp_path / "q.csv"
    path.write_text('id,prompt\na,"first\nb,second\n')
    with pytest.raises(UserError, match=r'q\.csv: a quoted cell opened on or before line \d+ is never closed'):
        prompt_import.import_prompts(store, "csvset", path)
    assert task_store.count_prompts(store, "csvset") == 0
    path.write_bytes("\ufeffid,prompt\na,first\n".encode())
    assert prompt_import.import_prompts(store, "csvset", path)["added"] == 1
    path = tmp_path / "bom.jsonl"
    path.write_bytes(("\ufeff" + json.dumps({"id": "j", "prompt": "Why?"}) + "\n").encode())
    assert prompt_import.import_prompts(store, "bomset", path)["added"] == 1
    assert task_store.list_prompts(store, "csvset")[0]["ext_id"] == "a"


def _wide(i, split="train", **changes):
    row = {"id": f"wide-{i:04d}", "prompt": f"What should I do if question {i} comes up?", "reference": "Stay calm and float.",
           "key_facts": [["float", "floating"]], "split": split, "kind": "open", "domain": "safety"}
    return {**row, **changes}


def test_splits_validation_aliases_and_extra_fields_are_ignored(store, tmp_path, settings, capsys):
    records = [_wide(1, "eval"), _wide(2, "validation"), _wide(3, "valid"), _wide(4, "dev"), _wide(5, "test"),
               _wide(6, "Train"), _wide(7, None), _wide(8, kind="fact", domain="civics", notes={"any": ["shape"]})]
    path = _write_jsonl(tmp_path / "wide.jsonl", records)
    assert prompt_import.import_prompts(store, "wide", path)["added"] == 8
    splits = {p["ext_id"]: p["split"] for p in task_store.list_prompts(store, "wide")}
    assert [splits[f"wide-{i:04d}"] for i in range(1, 7)] == ["eval", "validation", "validation", "validation", "eval", "train"]
    assert splits["wide-0007"] == prompt_import.default_split("wide-0007") != "validation"  # no split: never validation
    assert [p["ext_id"] for p in task_store.list_prompts(store, "wide", "validation")] == ["wide-0002", "wide-0003", "wide-0004"]
    stored = task_store.get_prompt(store, task_store.list_prompts(store, "wide")[7]["id"])
    assert "kind" not in stored and "domain" not in stored and stored["key_facts"] == [["float", "floating"]]
    assert _cli(settings, "import", "--set", "wide", str(path)) == 0
    _cli(settings, "list", "--set", "wide", "--split", "validation")
    assert [line.split("\t")[2] for line in capsys.readouterr().out.split("\n")[1:] if line] == ["validation"] * 3


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"key_facts": "[[\"float\"]]x"}, None),  # a plain string is one fact: accepted
        ({"key_facts": [["float"], []]}, r"wide\.jsonl line 3, field 'key_facts': each fact must be a non-empty list"),
        ({"key_facts": [[" "]]}, r"wide\.jsonl line 3, field 'key_facts'"),
        ({"key_facts": {"float": 1}}, r"wide\.jsonl line 3, field 'key_facts': expected a list of alias lists"),
        ({"key_facts": [[1]]}, r"wide\.jsonl line 3, field 'key_facts'"),
        ({"prompt": None}, r"wide\.jsonl line 3: missing prompt field 'prompt'"),
        ({"prompt": ""}, r"wide\.jsonl line 3: missing prompt field 'prompt'"),
        ({"prompt": 7}, r"wide\.jsonl line 3, field 'prompt': the prompt must be non-empty text"),
        ({"split": "holdout"}, r"wide\.jsonl line 3, field 'split': 'holdout' is not one of train, validation"),
        ({"split": ["eval"]}, r"wide\.jsonl line 3, field 'split'"),
        # NaN and Infinity: the strict JSON reader refuses the line before any field is read
        ({"split": float("nan")}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
        ({"reference": float("nan")}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
        ({"answer": float("nan")}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
        ({"answer": float("inf")}, r"wide\.jsonl line 3: invalid JSON \(Infinity is not a JSON number\)"),
        ({"id": float("nan")}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
        ({"key_facts": float("nan")}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
        ({"key_facts": [[float("nan")]]}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
        ({"prompt": float("nan")}, r"wide\.jsonl line 3: invalid JSON \(NaN is not a JSON number\)"),
    ],
)
def test_a_malformed_wide_row_is_refused_with_its_line_and_field(store, tmp_path, bad, message):
    # json.dumps writes NaN and Infinity as bare words, as a hand-edited file might hold them; json.loads reads them back
    rows = [_wide(1), "", _wide(2, **{"split": "validation", **bad}), _wide(3, "eval")]
    path = _write_jsonl(tmp_path / "wide.jsonl", rows)
    if message is None:
        assert prompt_import.import_prompts(store, "wide", path)["added"] == 3
        return
    with pytest.raises(UserError, match=message):
        prompt_import.import_prompts(store, "wide", path)
    assert task_store.count_prompts(store, "wide") == 0
