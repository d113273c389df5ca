"""The models table: base model specs and trained adapter versions."""

from __future__ import annotations

import json

from storage.db import Store, one, rows
from storage.errors import UserError

JSON_COLUMNS = ("config", "data_snapshot", "metrics", "recipe")


def _decode(row: dict | None) -> dict | None:
    if row is not None:
        for key in JSON_COLUMNS:
            row[key] = json.loads(row[key] or "{}")
    return row


def register_adapter(
    store: Store,
    name: str,
    base_spec: str,
    path: str,
    method: str,
    config: dict | None = None,
    data_snapshot: dict | None = None,
    metrics: dict | None = None,
    job_id: int | None = None,
    task_id: int | None = None,
    recipe: dict | None = None,
) -> int:
    """Record a trained adapter as model version `name`; UserError if the name is taken. Returns its id.
    `recipe`: the recipe it came from, {"name", "changed": {setting: value}} (feedback.recipes)."""
    with store.write() as db:
        if one(db, "SELECT id FROM models WHERE name = ?", (name,)) is not None:
            raise UserError(f"a model named {name!r} already exists; pick another version name")
        cur = db.execute(
            """INSERT INTO models (name, kind, base_spec, path, method, config, data_snapshot, metrics, job_id, task_id, recipe)
               VALUES (?, 'adapter', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                name,
                base_spec,
                path,
                method,
                json.dumps(config or {}, sort_keys=True),
                json.dumps(data_snapshot or {}, sort_keys=True),
                json.dumps(metrics or {}, sort_keys=True),
                job_id,
                task_id,
                json.dumps(recipe or {}, sort_keys=True),
            ),
        )
        return cur.lastrowid


def get_model(store: Store, name: str) -> dict | None:
    """One model row by name (JSON columns decoded), or None."""
    return _decode(one(store.read(), "SELECT * FROM models WHERE name = ?", (name,)))


def get_adapter(store: Store, name: str) -> dict | None:
    """The trained model version called `name`, or None (no such model, or a base spec)."""
    row = get_model(store, name)
    return row if row is not None and row["kind"] == "adapter" else None


def require_adapter(store: Store, name: str) -> dict:
    """The trained model version called `name`; UserError saying where to find the versions otherwise."""
    row = get_adapter(store, name)
    if row is None:
        raise UserError(f"no trained model version {name!r}; see `python app.py models list`")
    return row


def list_models(store: Store, kind: str | None = None) -> list[dict]:
    """All models, oldest first, optionally only 'base' or 'adapter' ones."""
    where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
    return [_decode(r) for r in rows(store.read(), f"SELECT * FROM models {where} ORDER BY id", params)]
