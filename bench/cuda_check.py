"""CUDA check: batched generation and short train jobs through the real queue and worker, on the GPU in bf16 if there is one.

    python bench/cuda_check.py [--model SPEC] [--random-weights] [--steps 4] [--pairs 4] [--methods dpo-refined,sft-weak]

By default the model is a tiny random one built on the spot (no download); pass --model
smollm2-135m (or a hub id on a networked GPU machine) for a real one. --random-weights keeps the
model's config and tokenizer but draws fresh weights, for a machine the weights cannot travel to
(timings are real, texts are noise). Without CUDA it runs on the CPU and says so. Prints the
device and dtype of each step, whether batched greedy texts equal one-by-one `model.generate`,
and the steps, time and loss / reward metrics of each finished job.
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
from models.chat import encode  # noqa: E402
from models.generation import GenParams, Generator  # noqa: E402
from models.loading import load_uncached  # noqa: E402
from jobs.worker import run_worker  # noqa: E402

QUESTIONS = ["What is the capital of France?", "How many legs has a spider?", "What gas do plants take in?", "Who wrote Hamlet?"]
REFINED = ["Arr, Paris be the capital, matey!", "Eight legs, ye landlubber!", "Carbon dioxide, arr!", "Shakespeare wrote it, me hearty!"]
WEAK = ["Lyon.", "Six.", "Oxygen.", "Dickens."]
CONVERSATIONS = [[{"role": "user", "content": q}] for q in ["hi", *QUESTIONS, "Explain in a few long sentences why the sea is salty."]]


def seed_task(store: Store, n_pairs: int) -> None:
    """A task whose n prompts each have a refined and a weak output (for dpo-refined, sft-weak and sft-refined jobs)."""
    task_id = tasks.upsert_task(store, {"name": "check", "title": "CUDA check", "concept": "Talk like a pirate.",
                                        "guidelines": "-", "prompt_set": "check"})
    texts = [f"{QUESTIONS[i % 4]} ({i})" if n_pairs > 4 else QUESTIONS[i] for i in range(n_pairs)]
    tasks.insert_prompts(store, "check", [{"ext_id": str(i), "text": q, "split": "train"} for i, q in enumerate(texts)])
    for i, prompt in enumerate(tasks.list_prompts(store, "check")):
        outputs.add_output(store, task_id, prompt["id"], "m", "icl-refine", {}, 0, REFINED[i % 4])
        outputs.add_output(store, task_id, prompt["id"], "m", "weak", {}, 0, WEAK[i % 4])


def random_copy(spec_dir: str, out: Path) -> str:
    """A model directory with spec_dir's config and tokenizer and freshly drawn (seeded) weights."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(spec_dir)).save_pretrained(out)
    AutoTokenizer.from_pretrained(spec_dir).save_pretrained(out)
    return str(out)


def check_generation(spec: str, settings: Settings) -> None:
    """Batched greedy generation on the default device against one-by-one `model.generate`, and streaming."""
    model, tokenizer = load_uncached(spec, settings, device="auto")
    params = GenParams(max_new_tokens=16, batch_size=4)
    generator = Generator(model, tokenizer)
    start = time.perf_counter()
    batched = generator.generate(CONVERSATIONS, params)
    seconds = time.perf_counter() - start
    same = 0
    for conv, text in zip(CONVERSATIONS, batched):
        ids = torch.tensor([encode(tokenizer, conv)], device=model.device)
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=16, do_sample=False)
        same += tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True) == text
    *_, streamed = generator.stream(CONVERSATIONS[1], params)
    print(f"generation on {model.device} in {model.dtype} ({generator.backend} backend): {len(batched)} answers in {seconds:.2f} s; "
          f"{same}/{len(batched)} identical to one-by-one model.generate; stream ends in the batched text: {streamed == batched[1]}")
    del model


def check_training(spec: str, settings: Settings, methods: list[str], steps: int, n_pairs: int) -> bool:
    """Queue and run one job per method through the worker; print device, dtype, time and metrics. False if one failed."""
    store = Store(settings.db_path)
    seed_task(store, n_pairs)
    ok = True
    for method in methods:
        config = TrainConfig(model=spec, max_steps=steps, batch_size=2, learning_rate=1e-3, warmup_ratio=0.0, device="auto")
        job_id = train_job.enqueue(store, "check", method, config)
        start = time.perf_counter()
        run_worker(settings, once=True)
        seconds = time.perf_counter() - start
        job = jobs.get(store, job_id)
        message = f" ({job['message']})" if job["message"] not in ("", job["status"]) else ""
        print(f"job {job_id} ({method}): {job['status']}{message} in {seconds:.1f} s")
        if job["status"] != "done":
            print(job["log"])
            ok = False
            continue
        result = job["result"]
        print(f"  device {result['device']}  dtype {result['dtype']}  steps {result['global_step']}  pairs {n_pairs}")
        for key in ("loss", "rewards/margins", "rewards/accuracies", "learning_rate"):
            if key in result["metrics"]:
                print(f"  {key}: {result['metrics'][key]}")
    store.close()
    return ok


def main(argv: list[str] | None = None) -> int:
    """Run the generation check and one job per method; print what they ran on and their metrics."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model spec (default: a tiny random model)")
    parser.add_argument("--random-weights", action="store_true", help="keep the model's config and tokenizer, draw new weights")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=4, help="preference pairs (and SFT examples) in the check task")
    parser.add_argument("--methods", default="dpo-refined,sft-weak")
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; CUDA available: {cuda}" + (f" ({torch.cuda.get_device_name(0)})" if cuda else " -> falling back to the CPU"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(env={"REFINERY_HOME": str(Path(tmp) / "home")})
        if args.model is None:
            from tests.tiny import make_tiny_model

            args.model = str(make_tiny_model(Path(tmp) / "tiny"))
        elif args.random_weights:
            args.model = random_copy(args.model, Path(tmp) / "random")
        check_generation(args.model, settings)
        ok = check_training(args.model, settings, args.methods.split(","), args.steps, args.pairs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
