"""The tasks and prompts tables: tasks by name, prompt sets imported all-or-nothing.

Re-importing a prompt set is idempotent and keyed by `ext_id`: a row whose ext_id is already in
the set is updated in place (its database id, and so every output, pair and vote attached to it,
is kept); new ext_ids are added; rows missing from the new file are kept, never deleted, because
outputs may point at them. Changing the *text* of a prompt that already has outputs is refused:
those outputs answered the old text, so the researcher must import it under a new ext_id.
"""

from __future__ import annotations

import json

from storage.db import Store, one, rows
from storage.errors import UserError

TASK_FIELDS = (
    "name", "title", "concept", "guidelines", "prompt_set",
    "concept_scorer", "content_scorer", "votes_per_pair", "gold_threshold", "weak_cue", "weak_examples",
)
PROMPT_FIELDS = ("ext_id", "text", "reference", "key_facts", "answer", "split")
# The one list of prompt splits; every split choice (flags, forms, checks) imports it. `validation` is
# for choosing rows, rates and steps; `eval` stays held out and is scored once (migration 008).
SPLITS = ("train", "validation", "eval")
SPLIT_NAMES = ", ".join(repr(s) for s in SPLITS)
# Candidates, pairs and votes come from train prompts unless asked otherwise: eval prompts are scored, never voted on.
DEFAULT_SPLIT, ALL_SPLITS = "train", "all"  # ALL_SPLITS: the choice that means every prompt of the set


def split_choice(value: str) -> str | None:
    """A split as a form or flag gives it (a split or ALL_SPLITS) as the functions below take it (None: all)."""
    return None if value == ALL_SPLITS else value


def upsert_task(store: Store, task: dict) -> int:
    """Insert or update (by name) a task given as a dict of TASK_FIELDS; returns its id."""
    values = {k: task[k] for k in TASK_FIELDS if k in task}
    for required in ("name", "title", "concept", "guidelines", "prompt_set"):
        if not values.get(required):
            raise UserError(f"task is missing {required!r}")
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    updates = ", ".join(f"{k} = excluded.{k}" for k in values if k != "name")
    with store.write() as db:
        db.execute(
            f"INSERT INTO tasks ({cols}) VALUES ({marks}) ON CONFLICT (name) DO UPDATE SET {updates}",
            tuple(values.values()),
        )
        return one(db, "SELECT id FROM tasks WHERE name = ?", (values["name"],))["id"]


def get_task(store: Store, name: str) -> dict:
    """The task called `name`; UserError naming the known tasks if there is none."""
    task = one(store.read(), "SELECT * FROM tasks WHERE name = ?", (name,))
    if task is None:
        known = ", ".join(t["name"] for t in list_tasks(store))
        if not known:
            raise UserError(f"unknown task {name!r}: this data directory has no tasks yet; "
                            "`python app.py tasks load` loads the shipped ones (`make run` does it too)")
        raise UserError(f"unknown task {name!r}; known tasks: {known}")
    return task


def get_task_by_id(store: Store, task_id: int) -> dict:
    """The task with database id `task_id`; UserError if there is none."""
    task = one(store.read(), "SELECT * FROM tasks WHERE id = ?", (task_id,))
    if task is None:
        raise UserError(f"no task with id {task_id}")
    return task


def list_tasks(store: Store) -> list[dict]:
    """All tasks, by name."""
    return rows(store.read(), "SELECT * FROM tasks ORDER BY name")


def clean_prompt(row: dict, index: int = 0) -> tuple:
    """Validate one prompt row (UserError naming row `index`) and return it as a tuple in PROMPT_FIELDS order."""
    where = f"row {index} (ext_id {row.get('ext_id')!r})"
    ext_id = row.get("ext_id")
    if ext_id is None or str(ext_id).strip() == "":
        raise UserError(f"row {index}: missing ext_id")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{where}: missing or empty prompt text")
    split = row.get("split")
    if split not in SPLITS:
        raise UserError(f"{where}: split must be one of {SPLIT_NAMES}, not {split!r}")
    key_facts = row.get("key_facts") or []
    if not isinstance(key_facts, list) or not all(
        isinstance(fact, list) and fact and all(isinstance(a, str) and a.strip() for a in fact) for fact in key_facts
    ):
        raise UserError(f"{where}: key_facts must be a list of non-empty lists of aliases, e.g. [[\"Canberra\"]]")
    answer = row.get("answer")
    return (
        str(ext_id), text, row.get("reference"), json.dumps(key_facts, ensure_ascii=False),
        None if answer is None else str(answer), split,
    )


def insert_prompts(store: Store, prompt_set: str, prompt_rows: list[dict]) -> dict[str, int]:
    """Import rows (dicts of PROMPT_FIELDS) into `prompt_set` in one transaction.

    All-or-nothing: any invalid row, or an ext_id repeated within `prompt_rows`, raises UserError
    and nothing is written. Returns counts {"added": n, "updated": n, "unchanged": n}.
    """
    if not prompt_set or not prompt_set.strip():
        raise UserError("prompt set name is empty")
    cleaned, seen = [], {}
    for index, row in enumerate(prompt_rows):
        values = clean_prompt(row, index)
        if values[0] in seen:
            raise UserError(f"row {index}: duplicate ext_id {values[0]!r} (also row {seen[values[0]]})")
        seen[values[0]] = index
        cleaned.append(values)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    with store.write() as db:
        existing = {
            r["ext_id"]: r
            for r in rows(db, f"SELECT id, {', '.join(PROMPT_FIELDS)} FROM prompts WHERE prompt_set = ?", (prompt_set,))
        }
        for values in cleaned:
            old = existing.get(values[0])
            if old is None:
                db.execute(
                    f"INSERT INTO prompts (prompt_set, {', '.join(PROMPT_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (prompt_set, *values),
                )
                counts["added"] += 1
            elif tuple(old[k] for k in PROMPT_FIELDS) == values:
                counts["unchanged"] += 1
            else:
                if old["text"] != values[1] and one(db, "SELECT 1 FROM outputs WHERE prompt_id = ? LIMIT 1", (old["id"],)):
                    raise UserError(
                        f"prompt {values[0]!r} in set {prompt_set!r} already has outputs and its text changed; "
                        "import the new text under a new id"
                    )
                db.execute(
                    "UPDATE prompts SET text = ?, reference = ?, key_facts = ?, answer = ?, split = ? WHERE id = ?",
                    (*values[1:], old["id"]),
                )
                counts["updated"] += 1
    return counts


def _decode(prompt: dict) -> dict:
    prompt["key_facts"] = json.loads(prompt["key_facts"] or "[]")
    return prompt


def list_prompts(store: Store, prompt_set: str, split: str | None = None, limit: int | None = None) -> list[dict]:
    """Prompts of a set in import order (by id), optionally one split and at most `limit` rows."""
    if split is not None and split not in SPLITS:
        raise UserError(f"split must be one of {SPLIT_NAMES}, not {split!r}")
    sql = "SELECT * FROM prompts WHERE prompt_set = ?"
    params: list = [prompt_set]
    if split is not None:
        sql += " AND split = ?"
        params.append(split)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [_decode(p) for p in rows(store.read(), sql, tuple(params))]


def get_prompt(store: Store, prompt_id: int) -> dict:
    """One prompt by database id (key_facts decoded); UserError if there is none."""
    prompt = one(store.read(), "SELECT * FROM prompts WHERE id = ?", (prompt_id,))
    if prompt is None:
        raise UserError(f"no prompt with id {prompt_id}")
    return _decode(prompt)


def count_prompts(store: Store, prompt_set: str, split: str | None = None) -> int:
    """How many prompts a set holds (in one split if given)."""
    sql, params = "SELECT COUNT(*) AS n FROM prompts WHERE prompt_set = ?", [prompt_set]
    if split is not None:
        sql += " AND split = ?"
        params.append(split)
    return one(store.read(), sql, tuple(params))["n"]


def prompt_sets(store: Store) -> dict[str, int]:
    """Every prompt set name with its row count."""
    return {r["prompt_set"]: r["n"] for r in rows(store.read(), "SELECT prompt_set, COUNT(*) AS n FROM prompts GROUP BY prompt_set ORDER BY prompt_set")}


def prompt_snapshot(store: Store, prompt_set: str) -> dict[str, tuple]:
    """{ext_id: (text, reference, key_facts JSON, answer, split)} of a set, to tell whether a re-import would change anything."""
    return {
        r["ext_id"]: tuple(r[k] for k in PROMPT_FIELDS[1:])
        for r in rows(store.read(), f"SELECT {', '.join(PROMPT_FIELDS)} FROM prompts WHERE prompt_set = ?", (prompt_set,))
    }
