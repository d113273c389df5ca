"""Prompt sets from JSONL, CSV or a saved Hugging Face dataset directory, validated before anything is stored.

Field mapping (first column present wins, case-sensitive):
- prompt: `--prompt-field`, else `prompt`, `question` or `instruction` (required);
- id: `id` or `ext_id`; absent -> `h-` + the first 12 hex digits of SHA-256 of the prompt text,
  so re-importing the same file is idempotent even if its rows are reordered;
- reference: `reference` or `response` (optional short correct answer);
- answer: `answer` (optional exact answer). A GSM8K-style answer "...#### 42" becomes
  answer "42", and the whole text becomes the reference when there is none;
- key_facts: a list of facts, each a list of accepted aliases ([["Canberra"]]); a plain string
  is one fact with one alias. In CSV the cell holds that JSON, or facts separated by `;` with
  aliases separated by `|` ("Canberra|Canberra, ACT; 1913");
- split: `train`, `validation` (also accepted: valid, dev) or `eval` (also: test); absent -> stable
  assignment by hash of the id (about 30% eval, never validation), see `default_split`;
- any other field (wide.jsonl's `kind` and `domain`, say) is ignored.

Any problem refuses the whole file with the line (JSONL, CSV) or row (HF) and field at fault,
and nothing is imported; storage.tasks.insert_prompts writes in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import math
import reprlib
from pathlib import Path

from feedback import strict_json

from settings import Settings
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError

PROMPT_FIELDS = ("prompt", "question", "instruction")
ID_FIELDS = ("id", "ext_id")
REFERENCE_FIELDS = ("reference", "response")
SPLIT_ALIASES = {"train": "train", "validation": "validation", "valid": "validation", "dev": "validation", "eval": "eval", "test": "eval"}
EVAL_PERCENT = 30
FORMATS = ("jsonl", "csv", "hf")


def stable_id(text: str) -> str:
    """The id of a row that brings none: `h-` + 12 hex digits of SHA-256 of its prompt text."""
    return "h-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def default_split(ext_id: str) -> str:
    """'eval' for about EVAL_PERCENT% of ids, 'train' otherwise; depends only on the id, so it is stable."""
    bucket = int(hashlib.sha256(ext_id.encode()).hexdigest()[:8], 16) % 100
    return "eval" if bucket < EVAL_PERCENT else "train"


def split_of(value: object, ext_id: str, where: str) -> str:
    """A row's split: its `split` value by SPLIT_ALIASES, or `default_split` when it has none."""
    if value in (None, ""):
        return default_split(ext_id)
    if not isinstance(value, str) or value.strip().lower() not in SPLIT_ALIASES:
        raise UserError(f"{where}, field 'split': {value!r} is not one of {', '.join(SPLIT_ALIASES)}")
    return SPLIT_ALIASES[value.strip().lower()]


def _first(record: dict, names: tuple[str, ...]) -> tuple[str | None, object]:
    for name in names:
        if name in record and record[name] not in (None, ""):
            return name, record[name]
    return None, None


def _key_facts(value: object, where: str, from_csv: bool) -> list[list[str]]:
    if value in (None, ""):
        return []
    if from_csv and isinstance(value, str):
        if value.lstrip().startswith("["):
            try:
                value = strict_json.loads(value)
            except strict_json.Invalid as err:
                at = f" at column {err.column}" if err.column else ""
                raise UserError(f"{where}, field 'key_facts': invalid JSON ({err.reason}{at})") from None
        else:
            value = [[a.strip() for a in fact.split("|") if a.strip()] for fact in value.split(";") if fact.strip()]
    if isinstance(value, str):
        value = [[value]]
    if not isinstance(value, list):
        raise UserError(f"{where}, field 'key_facts': expected a list of alias lists like [[\"Canberra\"]]")
    facts = []
    for fact in value:
        fact = [fact] if isinstance(fact, str) else fact
        if not isinstance(fact, list) or not fact or not all(isinstance(a, str) and a.strip() for a in fact):
            raise UserError(f"{where}, field 'key_facts': each fact must be a non-empty list of non-empty strings, got {reprlib.repr(fact)}")
        facts.append([a.strip() for a in fact])
    return facts


def normalize_record(record: dict, where: str, prompt_field: str | None = None, max_chars: int = 20_000, from_csv: bool = False) -> dict:
    """Map one source record to a storage row {ext_id, text, reference, key_facts, answer, split}.

    `where` ("line 7", "row 3") starts every error message.
    """
    if not isinstance(record, dict):
        raise UserError(f"{where}: expected an object with a prompt field, got {type(record).__name__}")
    if prompt_field:
        field, text = (prompt_field, record.get(prompt_field)) if record.get(prompt_field) not in (None, "") else (None, None)
        wanted = repr(prompt_field)
    else:
        field, text = _first(record, PROMPT_FIELDS)
        wanted = " or ".join(repr(f) for f in PROMPT_FIELDS)
    if text is None:
        raise UserError(f"{where}: missing prompt field {wanted} (use --prompt-field to name another column)")
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{where}, field {field!r}: the prompt must be non-empty text")
    id_field, ext_id = _first(record, ID_FIELDS)
    if isinstance(ext_id, float) and not math.isfinite(ext_id):  # JSON's NaN / Infinity, or an empty pandas cell
        raise UserError(f"{where}, field {id_field!r}: {ext_id!r} is not an id")
    ext_id = str(ext_id).strip() if ext_id is not None else stable_id(text)
    ref_field, reference = _first(record, REFERENCE_FIELDS)
    answer = record.get("answer")
    if answer is not None and (not isinstance(answer, (str, int, float)) or isinstance(answer, bool)):
        raise UserError(f"{where}, field 'answer': expected text or a number, got {type(answer).__name__}")
    if isinstance(answer, float) and not math.isfinite(answer):
        raise UserError(f"{where}, field 'answer': {answer} is not a number an answer can be")
    if isinstance(answer, str) and "####" in answer:
        reference = reference if reference is not None else answer
        ref_field = ref_field or "answer"
        answer = answer.rsplit("####", 1)[1].strip()
    answer = None if answer in (None, "") else str(answer).strip()
    if reference is not None and not isinstance(reference, str):
        raise UserError(f"{where}, field {ref_field!r}: expected text, got {type(reference).__name__}")
    for name, value in ((field, text), (ref_field, reference)):
        if value is not None and len(value) > max_chars:
            raise UserError(f"{where}, field {name!r}: {len(value)} characters, more than max_text_chars={max_chars}")
    split = split_of(record.get("split"), ext_id, where)
    return {
        "ext_id": ext_id,
        "text": text,
        "reference": reference,
        "key_facts": _key_facts(record.get("key_facts"), where, from_csv),
        "answer": answer,
        "split": split,
    }


def check_unique(rows: list[dict], wheres: list[str]) -> None:
    """UserError at the second row that repeats an earlier row's ext_id."""
    seen: dict[str, str] = {}
    for row, where in zip(rows, wheres):
        if row["ext_id"] in seen:
            what = "same prompt text" if row["ext_id"].startswith("h-") else f"id {row['ext_id']!r}"
            raise UserError(f"{where}: duplicate {what} (first seen at {seen[row['ext_id']]})")
        seen[row["ext_id"]] = where


def _jsonl_records(path: Path) -> list[tuple[str, dict]]:
    records = []
    with open(path, encoding="utf-8-sig") as fh:  # -sig: a byte-order mark on line 1 is skipped
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                records.append((where, strict_json.loads(line)))
            except strict_json.Invalid as err:
                at = f" at column {err.column}" if err.column else ""
                raise UserError(f"{where}: invalid JSON{at} ({err.reason})") from None
    return records


def _csv_records(path: Path) -> list[tuple[str, dict]]:
    records = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        # strict: a quote never closed is an error, not a cell that swallows the rest of the file
        reader = csv.DictReader(fh, strict=True)
        if not reader.fieldnames:
            raise UserError(f"{path.name}: empty CSV file, expected a header row")
        try:
            for record in reader:
                where = f"{path.name} line {reader.line_num}"
                if None in record:
                    raise UserError(f"{where}: more cells than header columns")
                if any(v is None for v in record.values()):
                    raise UserError(f"{where}: fewer cells than header columns")
                records.append((where, record))
        except csv.Error as err:
            if "unexpected end of data" in str(err):
                raise UserError(f"{path.name}: a quoted cell opened on or before line {reader.line_num} is never "
                                "closed (a \" is missing)") from None
            raise UserError(f"{path.name} line {reader.line_num}: malformed CSV ({err})") from None
    return records


def _hf_records(path: Path) -> list[tuple[str, dict]]:
    import datasets  # slow to import; only this format needs it

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as err:
        raise UserError(f"{path}: not a dataset saved with save_to_disk ({err})") from None
    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    records = []
    for part, dataset in parts:
        for index, record in enumerate(dataset):
            if part is not None and "split" not in record and part.lower() in SPLIT_ALIASES:
                record = {**record, "split": part}  # a DatasetDict's train/test parts name the split
            records.append((f"{'split ' + part + ', ' if part else ''}row {index}", record))
    return records


def read_records(path: Path, fmt: str) -> list[tuple[str, dict]]:
    """(where, record) for every row of a JSONL, CSV or saved-dataset file, `where` naming its line
    or row; UserError for a malformed file."""
    readers = {"jsonl": _jsonl_records, "csv": _csv_records, "hf": _hf_records}
    if fmt not in readers:
        raise UserError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        return readers[fmt](path)
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def detect_format(path: Path) -> str:
    """'hf' for a directory, else from the file suffix (.jsonl/.json -> jsonl, .csv -> csv)."""
    if path.is_dir():
        return "hf"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise UserError(f"{path}: can't tell the format from the name; pass --format jsonl, csv or hf")


def read_prompts(path: str | Path, fmt: str | None = None, prompt_field: str | None = None, max_chars: int = 20_000) -> list[dict]:
    """Parse and validate a whole prompt file into storage rows; UserError (with location) on any problem."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    fmt = fmt or detect_format(path)
    records = read_records(path, fmt)
    rows = [normalize_record(record, where, prompt_field, max_chars, from_csv=fmt == "csv") for where, record in records]
    check_unique(rows, [where for where, _ in records])
    if not rows:
        raise UserError(f"{path}: no prompts found")
    return rows


def import_prompts(store: Store, prompt_set: str, path: str | Path, fmt: str | None = None, prompt_field: str | None = None, max_chars: int = 20_000) -> dict[str, int]:
    """Read `path` and store it as `prompt_set`, all or nothing; returns {"added", "updated", "unchanged"}."""
    return task_store.insert_prompts(store, prompt_set, read_prompts(path, fmt, prompt_field, max_chars))


def cli(parser) -> None:
    """`prompts import --set NAME FILE [--format jsonl|csv|hf] [--prompt-field F]` and `prompts list [--set NAME]`."""
    sub = parser.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="import a JSONL/CSV file or saved HF dataset directory into a prompt set")
    imp.add_argument("--set", dest="prompt_set", required=True, help="prompt set name to create or extend")
    imp.add_argument("file", help="JSONL or CSV file, or a directory saved with datasets' save_to_disk")
    imp.add_argument("--format", choices=FORMATS, help="default: from the file suffix; a directory is hf")
    imp.add_argument("--prompt-field", help="column holding the prompt (default: prompt, question or instruction)")
    imp.set_defaults(func=_run_import)
    ls = sub.add_parser("list", help="list prompt sets, or the prompts of one set")
    ls.add_argument("--set", dest="prompt_set", help="show this set's prompts (default: list the sets)")
    ls.add_argument("--split", choices=task_store.SPLITS, help="only prompts of this split (default: all)")
    ls.add_argument("--limit", type=int, default=20, help="most prompts to show (default 20)")
    ls.set_defaults(func=_run_list)


def _store(settings: Settings) -> Store:
    return Store(settings.db_path)


def _run_import(args) -> int:
    counts = import_prompts(_store(args.settings), args.prompt_set, args.file, args.format, args.prompt_field, args.settings.max_text_chars)
    print(f"prompt set {args.prompt_set!r}: {counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged")
    return 0


def _run_list(args) -> int:
    store = _store(args.settings)
    if not args.prompt_set:
        sets = task_store.prompt_sets(store)
        if not sets:
            print("no prompt sets yet; `python app.py tasks load` loads the shipped ones")
        for name, n in sets.items():
            counts = ", ".join(f"{task_store.count_prompts(store, name, split)} {split}" for split in task_store.SPLITS)
            print(f"{name}\t{n} prompts ({counts})")
        return 0
    if not task_store.count_prompts(store, args.prompt_set):
        raise UserError(f"prompt set {args.prompt_set!r} is empty or unknown; known sets: {', '.join(task_store.prompt_sets(store)) or 'none'}")
    for p in task_store.list_prompts(store, args.prompt_set, args.split, args.limit):
        print(f"{p['id']}\t{p['ext_id']}\t{p['split']}\t{p['text'][:100]!r}")
    return 0
