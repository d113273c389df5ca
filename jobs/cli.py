"""`python app.py jobs list|cancel`: every kind of job, one status line each."""

from __future__ import annotations

from storage import jobs
from storage.db import Store


def describe(job: dict) -> str:
    """One line of a job's state: id, status, kind, what it works on, progress and last message."""
    p = job["params"]
    what = p.get("task", "?") + "/" + str(p.get("method") or p.get("model") or ",".join(p.get("strategies", [])) or "?")
    progress = f"step {job['step']}/{job['total']}" if job["total"] else f"step {job['step']}"
    return f"{job['id']:>5}  {job['status']:<9}  {job['kind']:<10}  {what}  {progress}  {job['message']}"


def list_lines(store: Store, kind: str | None = None, limit: int = 20) -> list[str]:
    """Status lines of the most recent jobs, newest first (of one kind if given)."""
    return [describe(job) for job in jobs.list_jobs(store, kind=kind, limit=limit)]


def cancel(store: Store, job_id: int) -> str:
    """Ask job `job_id` to stop; returns what happened."""
    job = jobs.request_cancel(store, job_id)
    return f"job {job['id']}: {'cancelled' if job['status'] == 'cancelled' else 'cancel requested; it stops at its next step'}"


def cli(parser) -> None:
    """`jobs list [--kind K] [--limit N]`, `jobs cancel JOB_ID`."""
    sub = parser.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="recent jobs of every kind, newest first")
    ls.add_argument("--kind", choices=jobs.KINDS, help="only jobs of this kind")
    ls.add_argument("--limit", type=int, default=20, help="show at most this many (default 20)")
    stop = sub.add_parser("cancel", help="stop a queued or running job (a running one stops at its next step)")
    stop.add_argument("job_id", type=int, help="the job's id (see `jobs list`)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Dispatch the jobs sub-actions."""
    store = Store(args.settings.db_path)
    try:
        if args.jobs_command == "list":
            for line in list_lines(store, kind=args.kind, limit=args.limit):
                print(line)
        else:
            print(cancel(store, args.job_id))
        return 0
    finally:
        store.close()
