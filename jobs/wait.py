"""The one way a command waits for its job: run it in this process with a progress bar.

`generate`, `train` and `evaluate` with `--wait` all come here. The job is claimed like a worker
would claim it (older queued jobs of the same kind run first), so a worker running alongside never
runs it twice; Ctrl-C asks the job to stop and it ends cancelled at its next step.
"""

from __future__ import annotations

import threading

from storage import jobs
from storage.db import Store
from storage.errors import UserError


def run_here(store: Store, settings, job_id: int, unit: str = "step") -> dict:
    """Run queued job `job_id` here with a tqdm bar; returns its result. UserError if it fails or is cancelled."""
    from tqdm import tqdm

    from jobs.worker import run_job, worker_name

    kind = jobs.get(store, job_id)["kind"]
    while True:
        job = jobs.claim(store, worker_name(), kinds=(kind,))
        if job is None:
            raise UserError(f"job {job_id} was taken by another worker; follow it with `python app.py jobs list`")
        if job["id"] == job_id:
            break
        print(f"running older queued {kind} job {job['id']} first")
        run_job(store, settings, job)
    stop = threading.Event()

    def follow(bar) -> None:
        while not stop.wait(1.0):
            row = jobs.get(store, job_id)
            bar.total, bar.n = row["total"] or None, row["step"]
            bar.set_postfix_str(row["message"][:60], refresh=True)

    with tqdm(unit=unit, desc=f"job {job_id}") as bar:
        watcher = threading.Thread(target=follow, args=(bar,), daemon=True)
        watcher.start()
        try:
            status = _run_cancellable(store, settings, job)
        finally:
            stop.set()
            watcher.join()
    row = jobs.get(store, job_id)
    if status != "done":
        raise UserError(f"job {job_id} {status}: {row['message']}")
    return row["result"]


def _run_cancellable(store: Store, settings, job: dict) -> str:
    """run_job in a thread, so that Ctrl-C here asks the job to stop instead of killing it mid-write."""
    from jobs.worker import run_job

    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(status=run_job(store, settings, job)), daemon=True)
    runner.start()
    while runner.is_alive():
        try:
            runner.join(0.5)
        except KeyboardInterrupt:
            if jobs.get(store, job["id"])["status"] not in jobs.FINISHED:
                jobs.request_cancel(store, job["id"])
            print(f"\ncancel requested for job {job['id']}; it stops at its next step")
    return outcome.get("status", "failed")
