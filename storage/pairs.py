"""The pairs table: two outputs of the same prompt put up for annotators to compare."""

from __future__ import annotations

from storage.db import Store, one, rows
from storage.errors import UserError
from storage.terms import CHOICES

_PAIR_SELECT = """
SELECT pr.id, pr.task_id, pr.prompt_id, pr.output_a, pr.output_b, pr.votes_wanted, pr.gold, pr.batch, pr.created_at,
       p.text AS prompt_text, p.split AS split, COALESCE(p.reference, p.answer) AS prompt_reference,
       oa.text AS text_a, oa.model AS model_a, oa.strategy AS strategy_a, oa.params AS params_a,
       ob.text AS text_b, ob.model AS model_b, ob.strategy AS strategy_b, ob.params AS params_b,
       pr.n_votes
FROM pairs pr
JOIN prompts p ON p.id = pr.prompt_id
JOIN outputs oa ON oa.id = pr.output_a
JOIN outputs ob ON ob.id = pr.output_b
"""


def create_pairs(
    store: Store,
    task_id: int,
    candidates: list[tuple[int, int, int]],
    votes_wanted: int,
    batch: str | None = None,
) -> list[int]:
    """Create pairs from (prompt_id, output_a, output_b); returns new ids.

    Pairs that exist already (either order) and pairs whose two texts are identical are skipped,
    since a vote between the same text twice says nothing.
    """
    if votes_wanted < 1:
        raise UserError("votes per pair must be at least 1")
    created = []
    with store.write() as db:
        for prompt_id, a, b in candidates:
            texts = {r["id"]: r for r in rows(db, "SELECT id, text, prompt_id, task_id FROM outputs WHERE id IN (?, ?)", (a, b))}
            if a == b or len(texts) != 2:
                raise UserError(f"pair ({a}, {b}) needs two existing, different outputs")
            if any(t["prompt_id"] != prompt_id or t["task_id"] != task_id for t in texts.values()):
                raise UserError(f"outputs {a} and {b} must both answer prompt {prompt_id} of the same task")
            if texts[a]["text"].strip() == texts[b]["text"].strip():
                continue
            if one(db, "SELECT id FROM pairs WHERE (output_a=? AND output_b=?) OR (output_a=? AND output_b=?)", (a, b, b, a)):
                continue
            cur = db.execute(
                "INSERT INTO pairs (task_id, prompt_id, output_a, output_b, votes_wanted, batch) VALUES (?, ?, ?, ?, ?, ?)",
                (task_id, prompt_id, a, b, votes_wanted, batch),
            )
            created.append(cur.lastrowid)
    return created


def get_pair(store: Store, pair_id: int) -> dict:
    """One pair with its prompt text and both outputs (text, model, strategy); UserError if unknown."""
    row = one(store.read(), _PAIR_SELECT + " WHERE pr.id = ?", (pair_id,))
    if row is None:
        raise UserError(f"no pair with id {pair_id}")
    return row


def list_pairs(store: Store, task_id: int | None = None) -> list[dict]:
    """All pairs (of one task, if given) with texts and vote counts, oldest first."""
    where, params = ("WHERE pr.task_id = ?", (task_id,)) if task_id is not None else ("", ())
    return rows(store.read(), f"{_PAIR_SELECT} {where} ORDER BY pr.id", params)


def set_gold(store: Store, pair_id: int, gold: str | None) -> None:
    """Mark a pair's known answer (a, b, tie, both_bad), or clear it with None."""
    if gold is not None and gold not in CHOICES:
        raise UserError(f"gold answer must be one of {', '.join(CHOICES)}")
    get_pair(store, pair_id)
    with store.write() as db:
        db.execute("UPDATE pairs SET gold = ? WHERE id = ?", (gold, pair_id))
