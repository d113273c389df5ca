"""The outputs table: texts produced by a model (or a human) for a task's prompt with a strategy."""

from __future__ import annotations

import hashlib
import json

from storage.db import Store, one, rows
from storage.errors import UserError


def params_hash(params: dict) -> str:
    """A stable short hash of generation parameters, part of an output's identity."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def _decode(row: dict | None) -> dict | None:
    if row is not None:
        for key in ("params", "extra"):
            if key in row:
                row[key] = json.loads(row[key] or "{}")
    return row


def add_output(
    store: Store,
    task_id: int,
    prompt_id: int,
    model: str,
    strategy: str,
    params: dict,
    seed: int,
    text: str,
    extra: dict | None = None,
    source: str = "model",
    job_id: int | None = None,
) -> int:
    """Store an output and return its id; if the same (task, prompt, model, strategy, params, seed) exists, return that id."""
    phash = params_hash(params)
    with store.write() as db:
        db.execute(
            """INSERT INTO outputs (task_id, prompt_id, model, strategy, params, params_hash, seed, text, extra, source, job_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (task_id, prompt_id, model, strategy, params_hash, seed) DO NOTHING""",
            (task_id, prompt_id, model, strategy, json.dumps(params, sort_keys=True), phash, seed, text,
             json.dumps(extra or {}, sort_keys=True), source, job_id),
        )
        row = one(
            db,
            "SELECT id FROM outputs WHERE task_id=? AND prompt_id=? AND model=? AND strategy=? AND params_hash=? AND seed=?",
            (task_id, prompt_id, model, strategy, phash, seed),
        )
    return row["id"]


def find_output(store: Store, task_id: int, prompt_id: int, model: str, strategy: str, params: dict, seed: int) -> dict | None:
    """The stored output with this identity, or None (generate jobs use it to skip done work)."""
    return _decode(one(
        store.read(),
        "SELECT * FROM outputs WHERE task_id=? AND prompt_id=? AND model=? AND strategy=? AND params_hash=? AND seed=?",
        (task_id, prompt_id, model, strategy, params_hash(params), seed),
    ))


def get_output(store: Store, output_id: int) -> dict:
    """One output with its prompt text and split; UserError if unknown."""
    row = _decode(one(
        store.read(),
        """SELECT o.*, p.text AS prompt_text, p.split AS split FROM outputs o JOIN prompts p ON p.id = o.prompt_id
           WHERE o.id = ?""",
        (output_id,),
    ))
    if row is None:
        raise UserError(f"no output with id {output_id}")
    return row


def list_outputs(
    store: Store,
    task_id: int,
    strategy: str | None = None,
    model: str | None = None,
    split: str | None = None,
    prompt_ids: list[int] | None = None,
) -> list[dict]:
    """Outputs of a task, optionally filtered, with prompt_text and split, oldest first."""
    where, params = ["o.task_id = ?"], [task_id]
    for column, value in (("o.strategy", strategy), ("o.model", model), ("p.split", split)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if prompt_ids is not None:
        where.append(f"o.prompt_id IN ({','.join('?' for _ in prompt_ids)})")
        params.extend(prompt_ids)
    return [_decode(r) for r in rows(
        store.read(),
        f"""SELECT o.*, p.text AS prompt_text, p.split AS split FROM outputs o JOIN prompts p ON p.id = o.prompt_id
            WHERE {' AND '.join(where)} ORDER BY o.id""",
        tuple(params),
    )]


def count_by_strategy(store: Store, task_id: int) -> dict[str, int]:
    """How many outputs each strategy has for a task."""
    return {r["strategy"]: r["n"] for r in rows(
        store.read(), "SELECT strategy, COUNT(*) AS n FROM outputs WHERE task_id = ? GROUP BY strategy", (task_id,)
    )}


def newest_per_prompt(store: Store, task_id: int, strategy: str, model: str | None = None, split: str | None = None,
                      prompt_ids: list[int] | None = None, non_empty: bool = False) -> dict[int, dict]:
    """{prompt_id: the newest output of `strategy`} over a task's prompts (filtered as list_outputs; with
    `non_empty`, blank texts do not count)."""
    newest: dict[int, dict] = {}
    for row in list_outputs(store, task_id, strategy=strategy, model=model, split=split, prompt_ids=prompt_ids):
        if not non_empty or row["text"].strip():
            newest[row["prompt_id"]] = row  # list_outputs is oldest first
    return newest
