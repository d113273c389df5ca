"""Preference rows from a file stored as prompts, outputs, pairs and votes in one transaction."""

from __future__ import annotations

import time

from storage import outputs, pairs, votes
from storage import tasks as task_store
from storage.db import Store, one, rows
from storage.terms import A, B

STRATEGIES = ("imported-chosen", "imported-rejected")


def import_preferences(store: Store, task_id: int, prompt_set: str, model: str, preferences: list[dict],
                       votes_wanted: int, voter_id: int | None = None) -> dict[str, int]:
    """Store checked rows {ext_id, prompt, chosen, rejected, split}, all or nothing; returns counts.

    Prompts join `prompt_set`; the answers become outputs of `model` (source 'seed': read from a
    file, not generated here); each row gets a pair for annotation and, with `voter_id`, that
    account's vote for the chosen answer (with an assignment, as if it had been served). Running
    the same file again adds nothing.
    """
    counts = {"rows": len(preferences), "pairs": 0, "votes": 0}
    with store.write() as db:  # every nested write below joins this transaction
        task_store.insert_prompts(store, prompt_set, [{"ext_id": p["ext_id"], "text": p["prompt"], "split": p["split"]} for p in preferences])
        prompt_ids = {r["ext_id"]: r["id"] for r in rows(db, "SELECT id, ext_id FROM prompts WHERE prompt_set = ?", (prompt_set,))}
        for p in preferences:
            prompt_id = prompt_ids[p["ext_id"]]
            chosen, rejected = (
                outputs.add_output(store, task_id, prompt_id, model, strategy, {}, 0, p[side], source="seed")
                for strategy, side in zip(STRATEGIES, ("chosen", "rejected"))
            )
            counts["pairs"] += len(pairs.create_pairs(store, task_id, [(prompt_id, chosen, rejected)], votes_wanted, batch=model))
            if voter_id is None:
                continue
            pair = one(db, "SELECT id, output_a FROM pairs WHERE (output_a=? AND output_b=?) OR (output_a=? AND output_b=?)",
                       (chosen, rejected, rejected, chosen))
            db.execute("INSERT OR IGNORE INTO assignments (pair_id, user_id, swapped, served_at) VALUES (?, ?, 0, ?)",
                       (pair["id"], voter_id, time.time()))
            _, created = votes.record_vote(store, pair["id"], voter_id, A if pair["output_a"] == chosen else B)
            counts["votes"] += created
    return counts
