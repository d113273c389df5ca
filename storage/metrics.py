"""The metrics table: named values per job step or per model version."""

from __future__ import annotations

from storage.db import Store, rows


def record(store: Store, values: dict[str, float], job_id: int | None = None, model_id: int | None = None, step: int | None = None) -> None:
    """Store each name=value of `values` at `step` for a job and/or model version."""
    with store.write() as db:
        for name, value in values.items():
            if value is None:
                continue
            db.execute(
                "INSERT INTO metrics (job_id, model_id, step, name, value) VALUES (?, ?, ?, ?, ?)",
                (job_id, model_id, step, name, float(value)),
            )


def series(store: Store, job_id: int) -> dict[str, list[tuple[int, float]]]:
    """All metrics of a job as {name: [(step, value), ...]} in step order."""
    out: dict[str, list[tuple[int, float]]] = {}
    for r in rows(store.read(), "SELECT step, name, value FROM metrics WHERE job_id = ? ORDER BY step, id", (job_id,)):
        out.setdefault(r["name"], []).append((r["step"], r["value"]))
    return out
