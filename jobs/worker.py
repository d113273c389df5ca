"""The background job worker: claims queued jobs one at a time and runs their handlers.

`python app.py worker` runs until stopped; `serve` starts one as a subprocess. While a job runs a
heartbeat thread keeps its `heartbeat_at` fresh, so a job whose worker died (heartbeat older than
`stale_after` seconds) is claimed again by the next worker and resumes from its last checkpoint.
"""

from __future__ import annotations

import ctypes
import gc
import os
import socket
import sys
import threading
import traceback

from settings import Settings
from storage import jobs
from storage.db import Store
from storage.errors import UserError
from jobs import JobCancelled, JobContext, get_handler, run_after_job_hooks

HEARTBEAT_S = 5.0  # how often a running job says it is alive
STALE_AFTER_S = 60.0  # a running job silent this long is taken to be orphaned (12 missed heartbeats)
POLL_S = 2.0  # how often an idle worker looks for work


def worker_name() -> str:
    """host:pid, stored on the jobs this worker claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def failure_message(err: BaseException) -> str:
    """The line a researcher sees when a job fails: the UserError's own words, else the error type and text."""
    if isinstance(err, UserError):
        return str(err)
    if isinstance(err, MemoryError) or "out of memory" in str(err).lower():
        return f"ran out of memory ({type(err).__name__}); try a smaller --batch-size or --max-length, or a smaller model"
    return f"{type(err).__name__}: {err} (see the job log for the traceback)"


class _Heartbeat(threading.Thread):
    def __init__(self, store: Store, job_id: int, every: float):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.store, self.job_id, self.every = store, job_id, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            jobs.heartbeat(self.store, self.job_id)


def run_job(store: Store, settings: Settings, job: dict, heartbeat_s: float = HEARTBEAT_S) -> str:
    """Run one claimed job to its end and record the outcome; returns the final status."""
    ctx = JobContext(store=store, settings=settings, job=job)
    beat = _Heartbeat(store, job["id"], heartbeat_s)
    beat.start()
    if job["attempts"] > 1:
        ctx.log(f"taken over by worker {job['worker']} (attempt {job['attempts']})")
    try:
        ctx.check_cancel()
        result = get_handler(job["kind"])(ctx)
    except JobCancelled:
        jobs.finish(store, job["id"], "cancelled", message="cancelled by request")
        return "cancelled"
    except Exception as err:  # any failure must end the job, never the worker
        message = failure_message(err)
        if not isinstance(err, UserError):
            ctx.log(traceback.format_exc())
        ctx.log(f"failed: {message}")
        jobs.finish(store, job["id"], "failed", message=message)
        return "failed"
    finally:
        beat.stopped.set()
        beat.join()
    jobs.finish(store, job["id"], "done", result=result, message="done")
    return "done"


def release_memory() -> None:
    """Give a finished job's memory back: drop the cached models, collect, and (on glibc) return the
    freed heap to the system, which Python's allocator otherwise keeps (gigabytes after a 1.5B job)."""
    run_after_job_hooks()
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
            pass


def run_worker(
    settings: Settings,
    once: bool = False,
    poll_s: float = POLL_S,
    stale_after_s: float = STALE_AFTER_S,
    kinds: tuple[str, ...] = jobs.KINDS,
    stop: threading.Event | None = None,
    until=None,
) -> int:
    """Claim and run jobs until `stop` is set (or `until()` is true); with `once`, at most one job.

    Returns the number of jobs run.
    """
    store = Store(settings.db_path)
    stop = stop or threading.Event()
    name, done = worker_name(), 0
    try:
        while not stop.is_set() and not (until and until()):
            job = jobs.claim(store, name, stale_after_s=stale_after_s, kinds=kinds)
            if job is None:
                if once:
                    break
                stop.wait(poll_s)
                continue
            status = run_job(store, settings, job)
            release_memory()  # an idle worker should not sit on the last job's models
            done += 1
            line = f"job {job['id']} ({job['kind']}): {status}"
            if status == "failed":  # the reason too, so the server log alone says what went wrong
                line += f": {jobs.get(store, job['id'])['message']}"
            print(line, flush=True)
            if once:
                break
    finally:
        store.close()
    return done


def cli(parser) -> None:
    """`worker [--once] [--poll S] [--stale-after S]`."""
    parser.add_argument("--once", action="store_true", help="run at most one waiting job, then exit")
    parser.add_argument("--poll", type=float, default=POLL_S, help=f"seconds between looks for work when idle (default {POLL_S})")
    parser.add_argument(
        "--stale-after", type=float, default=STALE_AFTER_S,
        help=f"take over a running job whose heartbeat is older than this many seconds (default {STALE_AFTER_S})",
    )
    parser.add_argument("--kind", action="append", choices=jobs.KINDS, help="only run jobs of this kind (repeatable; default all)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Run the worker until killed or interrupted (or one job with --once).

    A job interrupted mid-run stays `running`; once its heartbeat is stale the next worker resumes it.
    """
    print(f"worker {worker_name()} watching {args.settings.db_path}", flush=True)
    try:
        run_worker(args.settings, once=args.once, poll_s=args.poll, stale_after_s=args.stale_after, kinds=tuple(args.kind or jobs.KINDS))
    except KeyboardInterrupt:
        print("worker stopped", flush=True)
    return 0


def stop_child(proc) -> None:
    """Ask a child process (a worker, an app) to stop, and kill it if it has not within 10 seconds."""
    import subprocess

    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
