"""The job worker: failures end as `failed` with a readable message, cancel stops a job, and a
SIGKILLed worker's train job is resumed by the next worker from its last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storage import jobs, metrics
from storage.errors import UserError
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from tests.fixtures_trainer import task_with_outputs
from training import train_job
from training.config import TrainConfig
from training.trainers import last_checkpoint
from jobs import HANDLERS, JobCancelled
from jobs.worker import failure_message, run_worker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny(tiny_model_dir) -> str:
    return str(tiny_model_dir)


def tiny_config(tiny: str, **overrides) -> TrainConfig:
    values = dict(model=tiny, batch_size=1, learning_rate=1e-3, warmup_ratio=0.0, device="cpu", logging_steps=1)
    return TrainConfig(**{**values, **overrides})


def wait_for(predicate, timeout: float, every: float = 0.05):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s")


def run_in_slices(proc: subprocess.Popen, until, timeout: float, slice_s: float = 0.02) -> None:
    """Let `proc` run a short slice at a time (SIGCONT, then SIGSTOP, waiting until it is stopped) and return, with it
    stopped, once until() holds: a stopped process cannot move on between the look and what the caller does next."""
    end = time.time() + timeout
    while time.time() < end:
        proc.send_signal(signal.SIGSTOP)
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), "the worker exited"
        if until():
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(slice_s)
    raise AssertionError(f"timed out after {timeout}s")


def test_failure_messages_are_for_researchers():
    assert failure_message(UserError("nothing to train on: x")) == "nothing to train on: x"
    assert "smaller --batch-size" in failure_message(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert failure_message(ValueError("bad")).startswith("ValueError: bad")


def test_job_without_data_fails_with_a_clear_message(settings, store):
    task_with_outputs(store, n=2)
    job_id = train_job.enqueue(store, "toy", "dpo", TrainConfig(min_agreement=0.8))
    assert run_worker(settings, once=True) == 1
    job = jobs.get(store, job_id)
    assert job["status"] == "failed"
    assert "nothing to train on" in job["message"] and "min agreement 0.8" in job["message"]
    assert "Traceback" not in job["log"]


def test_crashing_handler_fails_job_and_worker_carries_on(settings, store, monkeypatch, capsys):
    def boom(ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(HANDLERS, "evaluate", boom)
    bad = jobs.enqueue(store, "evaluate", {})
    assert run_worker(settings, once=True) == 1
    job = jobs.get(store, bad)
    assert job["status"] == "failed" and "RuntimeError: disk on fire" in job["message"] and "Traceback" in job["log"]
    # the server log names the reason, not just "failed"
    assert f"job {bad} (evaluate): failed: RuntimeError: disk on fire" in capsys.readouterr().out


def test_handler_raising_jobcancelled_ends_cancelled(settings, store, monkeypatch):
    def stops(ctx):
        raise JobCancelled("stop")

    monkeypatch.setitem(HANDLERS, "evaluate", stops)
    job_id = jobs.enqueue(store, "evaluate", {})
    run_worker(settings, once=True)
    assert jobs.get(store, job_id)["status"] == "cancelled"


def test_cancel_queued_job_never_runs(settings, store):
    task_with_outputs(store, n=2)
    job_id = train_job.enqueue(store, "toy", "sft-weak", TrainConfig())
    jobs.request_cancel(store, job_id)
    assert run_worker(settings, once=True) == 0
    assert jobs.get(store, job_id)["status"] == "cancelled"


def test_train_job_frees_the_models_earlier_jobs_cached(settings, store, tiny):
    from models import loading

    loading.load(tiny, settings, device="cpu")
    assert loading.cached_count() == 1
    task_with_outputs(store, n=2)
    job_id = train_job.enqueue(store, "toy", "sft-weak", tiny_config(tiny, max_steps=1))
    assert run_worker(settings, once=True) == 1 and jobs.get(store, job_id)["status"] == "done"
    assert loading.cached_count() == 0


def test_cancel_running_train_job(settings, store, tiny):
    task_with_outputs(store, n=4)
    job_id = train_job.enqueue(store, "toy", "sft-weak", tiny_config(tiny, max_steps=500, save_steps=1000))
    worker = threading.Thread(target=run_worker, kwargs=dict(settings=settings, once=True), daemon=True)
    worker.start()
    wait_for(lambda: jobs.get(store, job_id)["step"] >= 2 or jobs.get(store, job_id)["status"] in jobs.FINISHED, timeout=240)
    assert jobs.get(store, job_id)["status"] == "running", jobs.get(store, job_id)["message"]
    jobs.request_cancel(store, job_id)
    worker.join(timeout=60)
    job = jobs.get(store, job_id)
    assert job["status"] == "cancelled" and job["step"] < 500


def test_killed_worker_job_resumes_from_checkpoint(settings, store, tiny):
    task_with_outputs(store, n=8)
    total = 40
    job_id = train_job.enqueue(store, "toy", "dpo-refined", tiny_config(tiny, max_steps=total, save_steps=4))
    env = {**os.environ, "REFINERY_HOME": str(settings.home)}
    cmd = [sys.executable, str(ROOT / "app.py"), "worker", "--poll", "0.2"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def resumable_and_unfinished() -> bool:
        job = jobs.get(store, job_id)
        # a slice is a small share of the run; should the job still reach its end in one, the test fails, never passes
        assert job["status"] not in jobs.FINISHED and (job["step"] or 0) < total, "the job ran to its end before it was stopped"
        return last_checkpoint(settings.jobs_dir / str(job_id) / "checkpoints") is not None

    try:
        run_in_slices(first, resumable_and_unfinished, timeout=300)
        first.send_signal(signal.SIGKILL)  # the worker is stopped: the kill lands where the look saw it
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    killed = jobs.get(store, job_id)
    assert killed["status"] == "running" and killed["step"] < total, "the job must be cut off mid-run"

    # the first worker is dead, so any heartbeat counts as stale (--stale-after 0): no waiting on a clock
    second = subprocess.run(cmd + ["--once", "--stale-after", "0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    job = jobs.get(store, job_id)
    assert job["status"] == "done", job["message"] + job["log"][-2000:]
    assert job["attempts"] == 2 and "resuming from checkpoint-" in job["log"]
    assert job["result"]["global_step"] == total and job["result"]["resumed_from_step"] >= 4
    steps = [s for s, _ in metrics.series(store, job_id)["loss"]]
    assert sorted(set(steps)) == list(range(1, total + 1))
    # steps up to the checkpoint were trained once: the second worker did not start over at step 1
    assert steps.count(1) == 1 and all(steps.count(s) == 1 for s in range(1, job["result"]["resumed_from_step"] + 1))
    assert job["result"]["model"] == f"toy-dpo-refined-{job_id}"


def test_worker_gives_the_models_back_after_every_job(settings, store, tiny, monkeypatch):
    import weakref

    from models import loading

    def generate_like(ctx):  # an evaluate or generate job leaves its models in the cache
        model, _ = loading.load(tiny, settings, device="cpu")
        held.append(weakref.ref(model))
        return {}

    held = []
    monkeypatch.setitem(HANDLERS, "evaluate", generate_like)
    job_id = jobs.enqueue(store, "evaluate", {})
    assert run_worker(settings, once=True) == 1 and jobs.get(store, job_id)["status"] == "done"
    assert loading.cached_count() == 0
    assert held and held[0]() is None  # nothing else kept the model alive


def test_every_job_kind_of_the_schema_has_a_handler_module():
    import jobs as job_registry
    from storage import jobs as job_store

    assert job_registry.KINDS.names == job_store.KINDS
    for kind in job_registry.KINDS:
        assert job_registry.get_handler(kind) is not None
