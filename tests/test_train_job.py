"""`python app.py train`: queueing with TOML + flag precedence, cancel, --wait end to end on a tiny
model (adapter registered and loadable), and the `accelerate launch ... --direct` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import app
from storage import jobs, metrics
from tests.fixtures_trainer import task_with_outputs
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from training.config import TrainConfig

ROOT = Path(__file__).resolve().parent.parent


def test_cli_queues_job_with_toml_then_flags(settings, store, tmp_path, capsys):
    task_with_outputs(store, n=2)
    toml = tmp_path / "train.toml"
    toml.write_text("[train]\nbeta = 0.3\nlora_r = 4\nsave_steps = 2\n")
    assert app.main(["train", "--task", "toy", "--method", "sft-weak", "--config", str(toml), "--beta", "0.2", "--no-group-by-length"]) == 0
    job = jobs.list_jobs(store, kind="train")[0]
    assert job["status"] == "queued" and job["params"]["task"] == "toy" and job["params"]["method"] == "sft-weak"
    config = TrainConfig.from_dict(job["params"]["config"])
    assert (config.beta, config.lora_r, config.save_steps, config.group_by_length) == (0.2, 4, 2, False)
    assert config.batch_size == TrainConfig().batch_size
    assert f"queued train job {job['id']}" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--task", "nope"], "unknown task"),
    (["train", "--task", "toy", "--lora-r", "0"], "lora_r must be positive"),
])
def test_cli_refuses_mistakes(settings, store, argv, message, capsys):
    task_with_outputs(store, n=1)
    assert app.main(argv) == 2
    assert message in capsys.readouterr().err
    assert jobs.list_jobs(store, kind="train") == []


def test_cli_refuses_unknown_toml_setting(settings, store, tmp_path, capsys):
    task_with_outputs(store, n=1)
    toml = tmp_path / "bad.toml"
    toml.write_text("betta = 0.3\n")
    assert app.main(["train", "--task", "toy", "--config", str(toml)]) == 2
    assert "unknown training settings: betta" in capsys.readouterr().err


def test_cli_cancel(settings, store, capsys):
    task_with_outputs(store, n=1)
    app.main(["train", "--task", "toy", "--method", "sft-weak"])
    job_id = jobs.list_jobs(store, kind="train")[0]["id"]
    assert app.main(["jobs", "cancel", str(job_id)]) == 0
    assert jobs.get(store, job_id)["status"] == "cancelled"
    assert app.main(["jobs", "list", "--kind", "train"]) == 0
    assert "cancelled" in capsys.readouterr().out


def test_wait_trains_registers_and_adapter_loads(settings, store, tiny_model_dir):
    from peft import PeftModel

    from storage import models as model_store
    from models.loading import load_uncached

    task_with_outputs(store, n=4)
    argv = ["train", "--task", "toy", "--method", "dpo-refined", "--model", str(tiny_model_dir), "--max-steps", "3",
            "--batch-size", "2", "--device", "cpu", "--wait"]
    assert app.main(argv) == 0
    job = jobs.list_jobs(store, kind="train")[0]
    assert job["status"] == "done" and (job["step"], job["total"]) == (3, 3)
    version = model_store.get_model(store, f"toy-dpo-refined-{job['id']}")
    assert version["method"] == "dpo-refined" and version["base_spec"] == str(tiny_model_dir)
    assert version["data_snapshot"]["n"] == 4 and len(version["data_snapshot"]["hash"]) == 64
    assert version["config"]["max_steps"] == 3 and version["metrics"]["global_step"] == 3
    assert 0 < version["metrics"]["peak_rss_gb"] < 64  # the job's own peak, printed in its log too
    assert any("peak memory" in line for line in jobs.get(store, job["id"])["log"].splitlines())
    assert {"loss", "rewards/margins", "rewards/accuracies", "learning_rate"} <= set(metrics.series(store, job["id"]))
    base, _ = load_uncached(str(tiny_model_dir), settings, device="cpu")
    PeftModel.from_pretrained(base, version["path"])  # a plain PEFT directory


@pytest.mark.skipif(shutil.which("accelerate", path=str(Path(sys.executable).parent)) is None, reason="accelerate CLI not installed")
def test_accelerate_launch_runs_direct_training(settings, store, tiny_model_dir):
    from storage import models as model_store

    task_with_outputs(store, n=2)
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    cmd = [accelerate, "launch", "--num_processes", "1", "--cpu", "--mixed_precision", "no", str(ROOT / "app.py"),
           "train", "--task", "toy", "--method", "sft-refined", "--direct", "--model", str(tiny_model_dir), "--max-steps", "1"]
    env = {**os.environ, "REFINERY_HOME": str(settings.home)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(m["method"] == "sft-refined" for m in model_store.list_models(store))
    assert jobs.list_jobs(store, kind="train") == []  # trained in the launched process, not queued


def test_train_tab_queues_and_cancels(tmp_path):
    from tests.fixtures_app import running_app, signed_in

    form = ["", 0.0, False, "train", "icl-refine", "weak", 0, 0.0, 1.0, 3, 2, 4, "robust", "", 0.1, -1.0, 8, 256, True]
    with running_app(tmp_path / "home") as (url, store):
        researcher = signed_in(url, "res")
        researcher.predict("toy", "none", "sft-weak", *form, None, api_name="/train_start")  # watched job last
        (job,) = jobs.list_jobs(store, kind="train")
        config = TrainConfig.from_dict(job["params"]["config"])
        assert (config.max_steps, config.batch_size, config.lora_r, config.max_length) == (3, 2, 4, 256)
        assert config.gradient_checkpointing  # the tab's default (less memory in fp32)
        assert job["created_by"] == "res" and config.model == ""
        researcher.predict(job["id"], api_name="/train_cancel")
        assert jobs.get(store, job["id"])["status"] == "cancelled"
        # said in the status above the watched job's, which stays (a raised error would clear it)
        watched, status = researcher.predict("toy", "none", "dpo", *form[:15], 0.6, *form[16:], job["id"], api_name="/train_start")[:2]
        assert "Not started:" in status and "label_smoothing must be below 0.5" in status and f"Job {job['id']}" in status
        assert len(jobs.list_jobs(store, kind="train")) == 1
        # a recipe fills the method and the form; starting with one records it, and a changed field as changed
        note, method, *values = researcher.predict("sft-weak", api_name="/train_recipe")
        assert method == "sft-weak" and "sft-weak: sft-weak on weak outputs" in note and values[7] == 1e-3  # its rate
        values[0] = ""  # the model field keeps what was typed (skipped by the handler)
        values[10] = 8  # batch_size
        researcher.predict("toy", "sft-weak", method, *values, None, api_name="/train_start")
        started = jobs.list_jobs(store, kind="train")[0]
        assert started["params"]["recipe"] == {"name": "sft-weak", "changed": {"batch_size": 8}}


def test_status_before_the_first_step_says_what_is_being_prepared(settings, store, tiny_model_dir, tmp_path):
    from training import train_job

    task_with_outputs(store, n=2)
    config = TrainConfig(model=str(tiny_model_dir), max_steps=1, batch_size=2, device="cpu")
    heard, steps = [], []
    train_job.train_and_register(store, settings, train_job.job_params("toy", "dpo-refined", config), tmp_path,
                                 on_status=heard.append, on_step=lambda step, total: steps.append(step), log=lambda line: None)
    assert heard == [f"preparing 2 examples: loading {tiny_model_dir}, reference log-probs"] and steps[-1] == 1


def test_step_clock_estimates_time_left_from_the_pace_of_steps():
    from training.train_job import StepClock

    now = [100.0]
    clock = StepClock(clock=lambda: now[0])
    assert clock.message(1, 10) == "step 1/10"  # one step timed: no pace yet
    now[0] += 30  # 30 s for step 2
    assert clock.message(2, 10) == "step 2/10 · about 4 min 00 s left"
    now[0] += 30
    assert clock.message(10, 10) == "step 10/10"


def test_progress_shows_elapsed_time_and_the_phase_not_step_0_of_unknown():
    from ui.job_view import progress_html

    job = {"id": 7, "kind": "train", "status": "running", "step": 0, "total": 0, "message": "preparing 64 examples: loading m, reference log-probs",
           "log": "", "result": {}, "started_at": "2026-01-01T00:00:00+00:00", "finished_at": None}
    shown = progress_html(job, now=datetime.fromisoformat("2026-01-01T00:03:05+00:00").timestamp())
    assert "running for 3 min 05 s" in shown and "reference log-probs" in shown and "0/?" not in shown
    done = {**job, "status": "done", "step": 8, "total": 8, "message": "step 8/8",
            "finished_at": "2026-01-01T00:10:00+00:00", "result": {"model": "toy-dpo-7"}}
    shown = progress_html(done)
    assert "ran 10 min 00 s" in shown and "step 8/8" in shown and shown.count("step 8/8") == 1


def test_train_tab_cancel_on_a_finished_job_says_so_and_lists_fresh_status(tmp_path):
    from tests.fixtures_app import running_app, signed_in
    from ui.train_tab import job_choices

    with running_app(tmp_path / "home") as (url, store):
        job_id = jobs.enqueue(store, "train", {"task": "toy", "method": "dpo"})
        researcher = signed_in(url, "res")
        jobs.claim(store, "w1")
        assert job_choices(store)[0][0].endswith("· running")
        jobs.finish(store, job_id, "done", {"model": "toy-dpo-1"})
        researcher.predict(None, api_name="/train_refresh")  # the session's job list, as a page load fills it
        dropdown, status, *_ = researcher.predict(job_id, api_name="/train_cancel")
        assert "already ended (done); there is nothing to cancel" in status
        assert jobs.get(store, job_id)["status"] == "done"


def test_train_form_empty_fields_mean_the_defaults():
    from ui.train_tab import config_from_form

    config = config_from_form({"learning_rate": None, "max_steps": None, "label_smoothing": None, "refined_strategy": "icl-refine"})
    assert (config.learning_rate, config.max_steps, config.label_smoothing) == (0.0, -1, -1.0)  # method's rate, epochs, measured
