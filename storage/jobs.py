"""The jobs table: enqueue, atomic claim (with takeover of jobs whose worker died), progress, finish, cancel."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from storage.db import Store, one, rows
from storage.errors import UserError

KINDS = ("generate", "train", "evaluate", "experiment")
FINISHED = ("done", "failed", "cancelled")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _decode(job: dict | None) -> dict | None:
    if job is not None:
        for key in ("params", "result"):
            job[key] = json.loads(job[key] or "{}")
    return job


def enqueue(store: Store, kind: str, params: dict, created_by: str | None = None) -> int:
    """Queue a job of `kind` with JSON-able `params`; returns its id."""
    if kind not in KINDS:
        raise UserError(f"unknown job kind {kind!r}; expected one of {', '.join(KINDS)}")
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO jobs (kind, params, created_by) VALUES (?, ?, ?)",
            (kind, json.dumps(params, sort_keys=True), created_by),
        )
        return cur.lastrowid


def claim(store: Store, worker: str, stale_after_s: float = 60.0, kinds: tuple[str, ...] = KINDS) -> dict | None:
    """Atomically take the oldest queued job, or a running one whose heartbeat is older than stale_after_s.

    A taken-over job keeps its step; its handler resumes from its last checkpoint.
    """
    now = time.time()
    marks = ",".join("?" for _ in kinds)
    with store.write() as db:
        job = one(
            db,
            f"""SELECT id FROM jobs WHERE kind IN ({marks}) AND cancel_requested = 0 AND
                (status = 'queued' OR (status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < ?)))
                ORDER BY id LIMIT 1""",
            (*kinds, now - stale_after_s),
        )
        if job is None:
            return None
        db.execute(
            """UPDATE jobs SET status = 'running', worker = ?, heartbeat_at = ?, attempts = attempts + 1,
               started_at = COALESCE(started_at, ?) WHERE id = ?""",
            (worker, now, _now(), job["id"]),
        )
    return get(store, job["id"])


def get(store: Store, job_id: int) -> dict:
    """One job as a dict (params and result decoded); UserError if there is none."""
    job = _decode(one(store.read(), "SELECT * FROM jobs WHERE id = ?", (job_id,)))
    if job is None:
        raise UserError(f"no job with id {job_id}")
    return job


def list_jobs(store: Store, kind: str | None = None, limit: int = 50) -> list[dict]:
    """Most recent jobs first, optionally of one kind."""
    where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
    return [_decode(j) for j in rows(store.read(), f"SELECT * FROM jobs {where} ORDER BY id DESC LIMIT ?", (*params, limit))]


def heartbeat(store: Store, job_id: int, step: int | None = None, total: int | None = None, message: str | None = None) -> None:
    """Record that the job is alive, and optionally its progress."""
    with store.write() as db:
        db.execute(
            """UPDATE jobs SET heartbeat_at = ?, step = COALESCE(?, step), total = COALESCE(?, total),
               message = COALESCE(?, message) WHERE id = ?""",
            (time.time(), step, total, message, job_id),
        )


def append_log(store: Store, job_id: int, line: str) -> None:
    """Append one line to the job's log."""
    with store.write() as db:
        db.execute("UPDATE jobs SET log = log || ? WHERE id = ?", (f"{_now()} {line.rstrip()}\n", job_id))


def finish(store: Store, job_id: int, status: str, result: dict | None = None, message: str = "") -> None:
    """Mark a job done, failed or cancelled, with its result and a closing message."""
    if status not in FINISHED:
        raise ValueError(status)
    with store.write() as db:
        db.execute(
            "UPDATE jobs SET status = ?, result = ?, message = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?",
            (status, json.dumps(result or {}, sort_keys=True), message, _now(), time.time(), job_id),
        )


def request_cancel(store: Store, job_id: int) -> dict:
    """Ask for a job to stop: a queued one is cancelled at once, a running one at its next check."""
    job = get(store, job_id)
    if job["status"] in FINISHED:
        raise UserError(f"job {job_id} already ended ({job['status']})")
    with store.write() as db:
        db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
        db.execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = ?, message = 'cancelled before it started' WHERE id = ? AND status = 'queued'",
            (_now(), job_id),
        )
    return get(store, job_id)


def cancel_requested(store: Store, job_id: int) -> bool:
    """Whether someone asked this job to stop."""
    row = one(store.read(), "SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,))
    return bool(row and row["cancel_requested"])
