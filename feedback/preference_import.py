"""Preference datasets from elsewhere: `python app.py import --task T --file F [--votes-by NAME]`.

Each row holds `prompt`, `chosen` and `rejected`, as plain text or in TRL's conversational form
(message lists: the prompt's last user turn and the answers' assistant turn are used), which is
what `python app.py export` writes, so feedback moves between Refinery instances and in from
TRL-style datasets. Optional: `id` and `split` as in prompt import. JSONL, or a dataset directory
saved with `save_to_disk` (`export --format hf`).

The prompts join the prompt set `<task>-imported`, each answer becomes an output of model
`import:<file name>` (strategy `imported-chosen` / `imported-rejected`), and a pair between them
is queued for annotation. With `--votes-by NAME` every row also counts as that annotator's vote
for its chosen answer, so the file's preferences reach exports and DPO training at once.
Any bad row refuses the whole file, naming the row and the field, and nothing is stored.
"""

from __future__ import annotations

from pathlib import Path

from feedback.prompt_import import check_unique, detect_format, read_records, split_of, stable_id
from settings import Settings
from storage import imports, users
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError

def _text(value: object, role: str, where: str, field: str, max_chars: int) -> str:
    """The text of a field given as a string or as a message list (the last message of `role`)."""
    if isinstance(value, list):
        turns = [m.get("content") for m in value if isinstance(m, dict) and m.get("role") == role]
        value = turns[-1] if turns else None
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: {field!r} must be non-empty text or a message list with {'an' if role == 'assistant' else 'a'} {role} turn")
    if len(value) > max_chars:
        raise UserError(f"{where}: {field!r} is {len(value)} characters long; the limit is {max_chars}")
    return value.strip()


def normalize_row(record: dict, where: str, max_chars: int) -> dict:
    """One source row as {ext_id, prompt, chosen, rejected, split}; UserError naming `where` and the field."""
    if not isinstance(record, dict):
        raise UserError(f"{where}: expected an object with prompt, chosen and rejected")
    row = {
        "prompt": _text(record.get("prompt"), "user", where, "prompt", max_chars),
        "chosen": _text(record.get("chosen"), "assistant", where, "chosen", max_chars),
        "rejected": _text(record.get("rejected"), "assistant", where, "rejected", max_chars),
    }
    if row["chosen"] == row["rejected"]:
        raise UserError(f"{where}: 'chosen' and 'rejected' are the same text; such a pair says nothing")
    ext_id = record.get("id") if record.get("id") is not None else record.get("ext_id")
    row["ext_id"] = str(ext_id) if ext_id is not None else stable_id(row["prompt"])
    row["split"] = split_of(record.get("split"), row["ext_id"], where)
    return row


def read_rows(path: str | Path, max_chars: int = 20_000) -> list[dict]:
    """Parse and check a whole preference file; UserError with the line or row at fault."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    fmt = detect_format(path)
    if fmt == "csv":
        raise UserError(f"{path}: preferences are read from JSONL or a saved dataset directory, not CSV")
    records = read_records(path, fmt)
    rows = [normalize_row(record, where, max_chars) for where, record in records]
    if not rows:
        raise UserError(f"{path}: no rows")
    check_unique(rows, [where for where, _ in records])
    return rows


def import_preferences(store: Store, task_name: str, path: str | Path, votes_by: str | None = None, max_chars: int = 20_000) -> dict[str, int]:
    """Check a whole preference file, then store it as prompts, outputs and pairs (and votes); returns counts."""
    task = task_store.get_task(store, task_name)
    preferences = read_rows(path, max_chars)
    voter_id = None
    if votes_by is not None:
        voter = users.get_user(store, votes_by)
        if voter is None:
            raise UserError(f"no account {votes_by!r}; create it first with `python app.py users add {votes_by}`")
        voter_id = voter["id"]
    return imports.import_preferences(store, task["id"], f"{task_name}-imported", f"import:{Path(path).name}",
                                      preferences, task["votes_per_pair"], voter_id)


def cli(parser) -> None:
    """`import --task T --file F [--votes-by NAME]`."""
    parser.add_argument("--task", required=True, help="task the pairs belong to (see `tasks list`)")
    parser.add_argument("--file", required=True, help="JSONL file or saved dataset directory with prompt/chosen/rejected")
    parser.add_argument("--votes-by", metavar="NAME", help="also record each row as this existing account's vote for 'chosen'")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Import the file and print what was stored."""
    settings: Settings = args.settings
    store = Store(settings.db_path)
    counts = import_preferences(store, args.task, args.file, args.votes_by, settings.max_text_chars)
    print(f"imported {counts['rows']} rows into task {args.task!r}: {counts['pairs']} new pairs, {counts['votes']} new votes")
    return 0
