"""Blind before/after votes: queue base-vs-adapter pairs on eval prompts into the annotation queue.

The "before" side is the base model's plain answer (strategy `strong-base`), the "after" side the
trained version's (strategy `model:<version>`, as generate jobs store it). Where either answer is
missing, a generate job is queued for it (once: an unfinished identical job is not queued again)
and the researcher queues again when it is done; pairs already created are never duplicated.
Annotators see the two sides in random order and never learn which is which until they vote.
"""

from __future__ import annotations

from storage import jobs
from storage import outputs as out_store
from storage import pairs as pair_store
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from storage.terms import MODEL_PREFIX, STRONG_BASE


def sides(store: Store, version: str, base: str | None = None) -> tuple[tuple[str, str], tuple[str, str]]:
    """((base model, strategy), (version, strategy)) of a before/after comparison; UserError for unknown versions."""
    from storage.models import require_adapter

    row = require_adapter(store, version)
    return (base or row["base_spec"], STRONG_BASE), (version, MODEL_PREFIX + version)


def _unfinished(store: Store, params: dict) -> int | None:
    for job in jobs.list_jobs(store, kind="generate", limit=200):
        if job["status"] in ("queued", "running") and all(job["params"].get(k) == v for k, v in params.items()):
            return job["id"]
    return None


def queue_before_after(
    store: Store,
    task_name: str,
    version: str,
    n: int,
    weak_model: str,
    base: str | None = None,
    votes_wanted: int | None = None,
    created_by: str | None = None,
) -> dict:
    """Create base-vs-`version` pairs on the first `n` eval prompts where both answers exist.

    Queues generate jobs for the side(s) with missing answers. Returns {"pairs": new pair ids,
    "ready": prompts with both answers, "missing": {side: count}, "jobs": generate job ids}.
    """
    if n < 1:
        raise UserError("number of prompts must be at least 1")
    task = task_store.get_task(store, task_name)
    (base_model, base_strategy), (after_model, after_strategy) = sides(store, version, base)
    prompts = task_store.list_prompts(store, task["prompt_set"], "eval", limit=n)
    if not prompts:
        raise UserError(f"task {task_name!r} has no eval prompts; import some first")
    ids = [p["id"] for p in prompts]
    found = {
        side: out_store.newest_per_prompt(store, task["id"], strategy, model=model, prompt_ids=ids)
        for side, model, strategy in (("before", base_model, base_strategy), ("after", after_model, after_strategy))
    }
    missing = {side: sum(1 for i in ids if i not in found[side]) for side in found}
    job_ids = []
    for side, strategy in (("before", base_strategy), ("after", after_strategy)):
        if not missing[side]:
            continue
        params = {"task": task_name, "strategies": [strategy], "n": len(prompts), "split": "eval",
                  "weak": weak_model, "strong": base_model}
        job_ids.append(_unfinished(store, params) or jobs.enqueue(store, "generate", params, created_by=created_by))
    candidates = [
        (i, found["before"][i]["id"], found["after"][i]["id"]) for i in ids if i in found["before"] and i in found["after"]
    ]
    new = pair_store.create_pairs(
        store, task["id"], candidates, votes_wanted or task["votes_per_pair"], batch=f"before/after: {base_model} vs {version}"
    )
    return {"pairs": new, "ready": len(candidates), "missing": missing, "jobs": job_ids}
