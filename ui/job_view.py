"""How a job's state is shown in every tab: status, elapsed time, progress bar, message, outcome, end of log."""

from __future__ import annotations

import html
import time
from datetime import datetime

from storage import jobs
from training.train_job import duration_text


def elapsed_s(job: dict, now: float | None = None) -> float | None:
    """Seconds the job has run (until it finished), or None before a worker took it."""
    if not job.get("started_at"):
        return None
    end = datetime.fromisoformat(job["finished_at"]).timestamp() if job.get("finished_at") else (now or time.time())
    return end - datetime.fromisoformat(job["started_at"]).timestamp()


def outcome(job: dict) -> str:
    """What a finished job produced, in a few words (empty while it runs or when it failed)."""
    result = job.get("result") or {}
    if job["status"] != "done":
        return ""
    if job["kind"] == "train" and result.get("model"):
        return f"model version <code>{html.escape(result['model'])}</code>"
    if job["kind"] == "generate":
        return f"generated {result.get('generated', 0)} texts; {len(result.get('outputs', []))} outputs in all"
    return ""


def progress_html(job: dict, unit: str = "steps", now: float | None = None) -> str:
    """The job's status, elapsed time, its message (the phase before the first step, then the step and
    an estimate of the time left), what it produced, a progress bar and the end of its log, as escaped HTML."""
    total, step = job["total"] or 0, job["step"] or 0
    message = job["message"] or ""
    bar = f'<progress value="{step}" max="{total}" style="width:100%"></progress>' if total else '<progress style="width:100%"></progress>'
    head = f"<b>Job {job['id']}</b>: {html.escape(job['status'])}"
    elapsed = elapsed_s(job, now)
    if elapsed is not None:
        head += f" · {'ran' if job['status'] in jobs.FINISHED else 'running for'} {duration_text(elapsed)}"
    if total and f"{step}/{total}" not in message:
        head += f" · {step}/{total} {unit}"
    if message:
        head += f" · {html.escape(message)}"
    if job["status"] == "running" and elapsed and 0 < step < total and " left" not in message:
        # at the pace so far, which includes loading the models: an upper estimate early on
        head += f" · about {duration_text(elapsed * (total - step) / step)} left"
    if done := outcome(job):
        head += f" · {done}"
    log_tail = html.escape("\n".join((job["log"] or "").splitlines()[-6:]))
    return f"<div>{head}</div>{bar}" + (f"<pre class='refinery-text'>{log_tail}</pre>" if log_tail else "")
