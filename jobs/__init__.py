"""Job handlers by kind, and the context a handler uses to report progress, log, store metrics and stop.

A handler is `def run(ctx: JobContext) -> dict` registered with `@handler("kind")`; the dict it
returns becomes the job's result. It must be resumable: it looks in `ctx.workdir` (kept across
worker restarts) for a checkpoint and skips work already stored.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from registry import Registry
from settings import Settings
from storage import jobs, metrics
from storage.db import Store

HANDLERS: dict[str, Callable[["JobContext"], dict]] = {}


@dataclass(frozen=True)
class JobKind:
    """A kind of job and the module whose import registers its handler (the worker imports it on first use)."""

    name: str
    module: str


# storage.jobs.KINDS is the same list as the jobs table's CHECK constraint; tests/test_worker.py keeps them equal
KINDS: Registry[JobKind] = Registry("job kind", (
    JobKind("generate", "models.generate_job"),
    JobKind("train", "training.train_job"),
    JobKind("evaluate", "study.evaluate_job"),
    JobKind("experiment", "study.experiment"),
))


# what a worker calls after each job to give memory back (models.loading adds its cache's clear)
_AFTER_JOB: list[Callable[[], None]] = []


def after_each_job(fn: Callable[[], None]) -> Callable[[], None]:
    """Have the worker call `fn` after every job it ran (rooms above jobs/ hand in their clean-up this way)."""
    if fn not in _AFTER_JOB:
        _AFTER_JOB.append(fn)
    return fn


def run_after_job_hooks() -> None:
    """Call every function handed to after_each_job."""
    for fn in _AFTER_JOB:
        fn()


class JobCancelled(Exception):
    """Raised inside a handler when a researcher asked the job to stop."""


def handler(kind: str):
    """Register the decorated function as the handler of jobs of `kind`."""

    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def get_handler(kind: str) -> Callable[["JobContext"], dict]:
    """The handler for `kind`, importing its module on first use."""
    if kind not in HANDLERS:
        importlib.import_module(KINDS.get(kind).module)
    return HANDLERS[kind]


@dataclass
class JobContext:
    """What a running handler sees: its job row, settings and store, and ways to report."""

    store: Store
    settings: Settings
    job: dict

    @property
    def id(self) -> int:
        return self.job["id"]

    @property
    def params(self) -> dict:
        return self.job["params"]

    @property
    def workdir(self) -> Path:
        """Checkpoints and scratch files of this job; survives worker restarts."""
        path = self.settings.jobs_dir / str(self.id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def progress(self, step: int, total: int, message: str | None = None) -> None:
        """Record progress (also the heartbeat); raises JobCancelled if a stop was requested."""
        jobs.heartbeat(self.store, self.id, step, total, message)
        self.check_cancel()

    def status(self, message: str) -> None:
        """Record what the job is doing between steps (also the heartbeat); raises JobCancelled if a stop was requested."""
        jobs.heartbeat(self.store, self.id, message=message)
        self.check_cancel()

    def log(self, line: str) -> None:
        """Append a line to the job's log."""
        jobs.append_log(self.store, self.id, line)

    def metric(self, step: int, values: dict[str, float]) -> None:
        """Store named metric values at a step (loss, rewards/margins, ...)."""
        metrics.record(self.store, job_id=self.id, step=step, values=values)

    def check_cancel(self) -> None:
        """Raise JobCancelled if a researcher asked this job to stop."""
        if jobs.cancel_requested(self.store, self.id):
            raise JobCancelled(f"job {self.id} cancelled")
