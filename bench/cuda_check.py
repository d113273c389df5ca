"""CUDA check: a short DPO train job through the real queue and worker, on the GPU in bf16 if there is one.

    python bench/cuda_check.py [--model SPEC] [--steps 4]

By default the model is a tiny random one built on the spot (no download); pass --model
smollm2-135m (or a hub id on a networked GPU machine) for a real one. Without CUDA it runs on
the CPU and says so. Prints the device, dtype, steps, loss and reward metrics of the finished job.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from settings import Settings  # noqa: E402
from storage import jobs, outputs, tasks  # noqa: E402
from storage.db import Store  # noqa: E402
from training import train_job  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.worker import run_worker  # noqa: E402

QUESTIONS = ["What is the capital of France?", "How many legs has a spider?", "What gas do plants take in?", "Who wrote Hamlet?"]
REFINED = ["Arr, Paris be the capital, matey!", "Eight legs, ye landlubber!", "Carbon dioxide, arr!", "Shakespeare wrote it, me hearty!"]
WEAK = ["Lyon.", "Six.", "Oxygen.", "Dickens."]


def seed_task(store: Store) -> None:
    """A task whose four prompts each have a refined and a weak output (for a dpo-refined job)."""
    task_id = tasks.upsert_task(store, {"name": "check", "title": "CUDA check", "concept": "Talk like a pirate.",
                                        "guidelines": "-", "prompt_set": "check"})
    tasks.insert_prompts(store, "check", [{"ext_id": str(i), "text": q, "split": "train"} for i, q in enumerate(QUESTIONS)])
    for prompt, refined, weak in zip(tasks.list_prompts(store, "check"), REFINED, WEAK):
        outputs.add_output(store, task_id, prompt["id"], "m", "icl-refine", {}, 0, refined)
        outputs.add_output(store, task_id, prompt["id"], "m", "weak", {}, 0, weak)


def main(argv: list[str] | None = None) -> int:
    """Queue and run one dpo-refined job; print what it ran on and its metrics."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model spec (default: a tiny random model)")
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; CUDA available: {cuda}" + (f" ({torch.cuda.get_device_name(0)})" if cuda else " -> falling back to the CPU"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(env={"REFINERY_HOME": str(Path(tmp) / "home")})
        if args.model is None:
            from tests.tiny import make_tiny_model

            args.model = str(make_tiny_model(Path(tmp) / "tiny"))
        store = Store(settings.db_path)
        seed_task(store)
        config = TrainConfig(model=args.model, max_steps=args.steps, batch_size=2, learning_rate=1e-3, warmup_ratio=0.0, device="auto")
        job_id = train_job.enqueue(store, "check", "dpo-refined", config)
        start = time.perf_counter()
        run_worker(settings, once=True)
        seconds = time.perf_counter() - start
        job = jobs.get(store, job_id)
        result = job["result"]
        print(f"job {job_id}: {job['status']} {job['message']} in {seconds:.1f} s")
        if job["status"] != "done":
            print(job["log"])
            return 1
        print(f"device {result['device']}  dtype {result['dtype']}  steps {result['global_step']}")
        for key in ("loss", "rewards/margins", "rewards/accuracies", "learning_rate"):
            print(f"  {key}: {result['metrics'].get(key)}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
