"""The evaluations table (scores of a model version on a task's split) and the vote outcomes rankings are fit to."""

from __future__ import annotations

import json

from storage.db import Store, one, rows
from storage.errors import UserError


def add_evaluation(
    store: Store,
    task_id: int,
    model: str,
    strategy: str,
    n: int,
    concept: dict | None,
    content: dict | None,
    split: str = "eval",
    details: dict | None = None,
    job_id: int | None = None,
) -> int:
    """Store one evaluation; `concept` / `content` are {mean, lo, hi} (or None if the task has no such scorer)."""
    concept, content = concept or {}, content or {}
    with store.write() as db:
        cur = db.execute(
            """INSERT INTO evaluations (task_id, model, strategy, split, n, concept_mean, concept_lo, concept_hi,
               content_mean, content_lo, content_hi, details, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                task_id, model, strategy, split, n,
                concept.get("mean"), concept.get("lo"), concept.get("hi"),
                content.get("mean"), content.get("lo"), content.get("hi"),
                json.dumps(details or {}, sort_keys=True), job_id,
            ),
        )
        return cur.lastrowid


def _decode(row: dict) -> dict:
    row["details"] = json.loads(row["details"] or "{}")
    return row


def get_evaluation(store: Store, evaluation_id: int) -> dict:
    """One evaluation row (details decoded); UserError if there is none."""
    row = one(store.read(), "SELECT * FROM evaluations WHERE id = ?", (evaluation_id,))
    if row is None:
        raise UserError(f"no evaluation with id {evaluation_id}")
    return _decode(row)


def list_evaluations(store: Store, task_id: int | None = None, latest_only: bool = True) -> list[dict]:
    """Evaluations, newest first; with latest_only, one per (task, model, strategy, split)."""
    where, params = ("WHERE task_id = ?", (task_id,)) if task_id is not None else ("", ())
    found = [_decode(r) for r in rows(store.read(), f"SELECT * FROM evaluations {where} ORDER BY id DESC", params)]
    if not latest_only:
        return found
    seen, out = set(), []
    for r in found:
        key = (r["task_id"], r["model"], r["strategy"], r["split"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def vote_outcomes(store: Store, task_id: int) -> list[dict]:
    """Every vote on the task's pairs with both sides' model and strategy: {pair_id, prompt_id, choice,
    model_a, strategy_a, model_b, strategy_b}; `choice` is in pair terms (a = output_a)."""
    return rows(
        store.read(),
        """SELECT p.id AS pair_id, p.prompt_id, v.choice,
                  oa.model AS model_a, oa.strategy AS strategy_a, ob.model AS model_b, ob.strategy AS strategy_b
           FROM votes v JOIN pairs p ON p.id = v.pair_id
           JOIN outputs oa ON oa.id = p.output_a JOIN outputs ob ON ob.id = p.output_b
           WHERE p.task_id = ? ORDER BY v.id""",
        (task_id,),
    )
