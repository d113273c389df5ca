"""Seed candidates: outputs shipped in data/seed/*.jsonl, loaded into a new database as pairs ready to vote.

The files are written by Refinery's own generate command (`generate ... --wait --export FILE`,
format in `models.generate_cli.export_outputs`), so a fresh install can be annotated before
any model has run. `load_seed` is idempotent: outputs are keyed like generated ones and pairs
already made are not made again, so `serve` calls it at every start.
"""

from __future__ import annotations

import json
from pathlib import Path

from feedback.pair_plan import NAIVE, REFINED
from feedback.scheduling import schedule_pairs, side_outputs
from feedback.tasks import sync_shipped
from storage import outputs
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from storage.terms import ASK_TO_IMPROVE, STRONG_BASE, WEAK

SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
# the refined pair plan first (what DPO on the votes learns the concept and the content from), then
# the naive one, then Ask-to-Improve's labels against the same two sides
SEED_PAIRS = REFINED + NAIVE + ((ASK_TO_IMPROVE, STRONG_BASE), (ASK_TO_IMPROVE, WEAK))
REQUIRED = ("task", "prompt_set", "prompt_ext_id", "prompt", "model", "strategy", "params", "seed", "text")


def read_seed_file(path: str | Path) -> list[dict]:
    """The records of one seed file; UserError names the line at fault."""
    path = Path(path)
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}:{number}: not JSON ({err.msg})") from None
        missing = [k for k in REQUIRED if k not in record]
        if missing:
            raise UserError(f"{path}:{number}: missing {', '.join(missing)}")
        records.append(record)
    return records


def load_seed(store: Store, seed_dir: str | Path = SEED_DIR) -> dict:
    """Load every seed file into the database as outputs (source 'seed') and pairs; idempotent.

    A record whose prompt is not in the database with the same text is skipped (it answered
    another question). Returns {"outputs": seed outputs present, "pairs": pairs created now,
    "skipped": records skipped}.
    """
    sync_shipped(store)
    loaded, skipped, created = 0, 0, 0
    for path in sorted(Path(seed_dir).glob("*.jsonl")):
        records = read_seed_file(path)
        loaded_strategies: dict[str, set[str]] = {}
        prompts: dict[str, dict[str, dict]] = {}
        for record in records:
            task = task_store.get_task(store, record["task"])
            if record["prompt_set"] not in prompts:
                prompts[record["prompt_set"]] = {p["ext_id"]: p for p in task_store.list_prompts(store, record["prompt_set"])}
            prompt = prompts[record["prompt_set"]].get(record["prompt_ext_id"])
            if prompt is None or prompt["text"] != record["prompt"]:
                skipped += 1
                continue
            outputs.add_output(
                store, task["id"], prompt["id"], record["model"], record["strategy"], record["params"],
                int(record["seed"]), record["text"], extra=record.get("extra") or {}, source="seed",
            )
            loaded += 1
            loaded_strategies.setdefault(task["name"], set()).add(record["strategy"])
        for task_name, strategies in sorted(loaded_strategies.items()):
            task_id = task_store.get_task(store, task_name)["id"]
            # a record whose output was generated before (same key, source 'model') is not a seed output: its
            # matchups are left to whoever generated it
            seeded = {s for s in strategies if side_outputs(store, task_id, s, source="seed")}
            for a, b in SEED_PAIRS:
                if a in seeded and b in seeded:
                    result = schedule_pairs(store, task_name, a, b, n=len(records), seed=0, source="seed")
                    created += len(result["created"])
    return {"outputs": loaded, "pairs": created, "skipped": skipped}
