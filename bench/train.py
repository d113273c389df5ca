"""Benchmark: Refinery's DPO job against stock trl.DPOTrainer, same model, data, LoRA and epochs.

    python bench/train.py [--pairs 32] [--epochs 2] [--model smollm2-135m] [--sides refinery,stock]

Preference pairs come from the shipped general prompts: chosen = the reference answer, rejected =
the reference answer of another question (fluent but wrong). Both runs start from a fresh copy of
the model with the same LoRA config; the stock run keeps every DPOConfig default except the output
directory, the epochs and the precision (matched to Refinery's, so the comparison is not about
bf16 emulation on CPUs without native bf16). Each trainer runs in a process of its own, so that its
peak memory (RSS, model load included) is its own. Prints wall time per preference pair and per 4
pairs (one Refinery step) of each, their ratio (target <= 0.5), each one's peak RSS, and the final
reward accuracy of each adapter, measured the same way: the share of pairs whose implicit reward
beta*(log pi - log pi_ref) is higher for the chosen answer. `--sides refinery` times Refinery alone
(the 1.5B figure: `--model qwen2.5-coder-1.5b --pairs 64 --epochs 1`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from settings import Settings  # noqa: E402
from training import peak_memory, trainers  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from models.loading import cpu_in_words, load_uncached, pick_device, pick_dtype  # noqa: E402
from docblocks import replace as replace_block  # noqa: E402


def bench_pairs(n: int) -> list[dict]:
    """n preference pairs from data/prompts/general.jsonl: the reference answer over another question's."""
    rows = [json.loads(line) for line in (ROOT / "data" / "prompts" / "general.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("reference")][: n + 1]
    if len(rows) < n + 1:
        raise SystemExit(f"need {n + 1} prompts with references, found {len(rows)}")
    return [
        {"id": r["id"], "prompt": r["prompt"], "chosen": r["reference"], "rejected": rows[i + 1]["reference"], "agreement": 1.0}
        for i, r in enumerate(rows[:n])
    ]


def completion_logp(model, tokenizer, prompt: str, answer: str) -> float:
    """Sum of log-probs of the answer tokens after the chat-formatted prompt."""
    messages = [{"role": "user", "content": prompt}]
    prompt_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}], return_dict=True)["input_ids"]
    ids = torch.tensor([full_ids], device=model.device)
    with torch.no_grad():
        logps = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
    targets = ids[0, 1:]
    token_logps = logps.gather(1, targets[:, None])[:, 0]
    return float(token_logps[len(prompt_ids) - 1:].sum())


def reward_accuracy(spec: str, settings: Settings, device: str, adapter_dir: Path, examples: list[dict]) -> float:
    """Share of pairs where the adapter raised the chosen answer's log-ratio above the rejected one's."""
    from peft import PeftModel

    base, tokenizer = load_uncached(spec, settings, device=device)
    model = PeftModel.from_pretrained(base, str(adapter_dir)).eval()
    wins = 0
    for e in examples:
        policy = [completion_logp(model, tokenizer, e["prompt"], e[k]) for k in ("chosen", "rejected")]
        with model.disable_adapter():
            ref = [completion_logp(model, tokenizer, e["prompt"], e[k]) for k in ("chosen", "rejected")]
        wins += (policy[0] - ref[0]) > (policy[1] - ref[1])
    return wins / len(examples)


class Clock:
    """Wall and process CPU seconds of a block (CPU time is less disturbed by other users of a shared machine)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_refinery(spec, settings, device, examples, epochs, out: Path) -> tuple[Clock, Path]:
    """Refinery's DPO job path (trainers.train with TrainConfig defaults); returns (times, adapter dir)."""
    model, tokenizer = load_uncached(spec, settings, device=device)
    config = TrainConfig(num_train_epochs=epochs, device=device)
    with Clock() as clock:
        result = trainers.train(spec, "dpo", examples, config, out, settings=settings, model=model, tokenizer=tokenizer, resume=False)
    return clock, result.adapter_dir


def run_stock(spec, settings, device, examples, epochs, out: Path) -> tuple[Clock, Path]:
    """trl.DPOTrainer with its defaults on the same model, data (in given order), LoRA and epochs."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    model, tokenizer = load_uncached(spec, settings, device=device)
    records = [
        {"prompt": [{"role": "user", "content": e["prompt"]}], "chosen": [{"role": "assistant", "content": e["chosen"]}],
         "rejected": [{"role": "assistant", "content": e["rejected"]}]}
        for e in examples
    ]
    args = DPOConfig(
        output_dir=str(out / "checkpoints"), num_train_epochs=epochs, report_to="none", disable_tqdm=True,
        bf16=model.dtype == torch.bfloat16, use_cpu=device == "cpu",
    )
    lora = trainers.lora_config(TrainConfig())
    with Clock() as clock:
        trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(records), processing_class=tokenizer, peft_config=lora)
        trainer.train()
    trainer.save_model(str(out / "adapter"))
    return clock, out / "adapter"


RUNS = {"refinery": run_refinery, "stock": run_stock}
LABELS = {"refinery": "refinery DPO job", "stock": "stock DPOTrainer"}


def child(side: str, args) -> dict:
    """One side's run in this (fresh) process: its times, adapter, dtype and the process's peak RSS."""
    settings = Settings.load()
    device = pick_device(args.device)
    examples = bench_pairs(args.pairs)
    peak_memory.reset()  # from here: the model's load and the run, as a train job counts them
    clock, adapter = RUNS[side](args.model, settings, device, examples, args.epochs, Path(args.out))
    return {"wall": clock.wall, "cpu": clock.cpu, "adapter": str(adapter), "dtype": str(pick_dtype(device)).replace("torch.", ""),
            "peak_rss_gb": peak_memory.peak_gb()["rss"]}


def run_side(side: str, args, out: Path) -> dict:
    """Run one side in a child process, so that its peak memory is its own."""
    command = [sys.executable, __file__, "--child", side, "--out", str(out), "--pairs", str(args.pairs),
               "--epochs", str(args.epochs), "--model", args.model, "--device", args.device]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the trainers asked for (each in its own process) and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sides", default="refinery,stock", help="which trainers to run: refinery, stock or both")
    parser.add_argument("--update-readme", action="store_true", help="write the figures into bench/README.md's training paragraph of this model")
    parser.add_argument("--child", choices=tuple(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args)))
        return 0
    sides = [s for s in args.sides.split(",") if s]
    unknown = set(sides) - set(RUNS)
    if unknown:
        parser.error(f"unknown --sides {', '.join(sorted(unknown))}")
    settings = Settings.load()
    device = pick_device(args.device)
    examples = bench_pairs(args.pairs)
    machine = f"{cpu_in_words() if device == 'cpu' else device}, load average {os.getloadavg()[0]:.1f} at the start"
    print(f"model {args.model} on {device} ({machine}); {args.pairs} pairs, {epochs(args.epochs)}, LoRA r={TrainConfig().lora_r}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in sides:
            results[side] = run_side(side, args, Path(tmp) / side)
            results[side]["accuracy"] = reward_accuracy(args.model, settings, device, Path(results[side]["adapter"]), examples)
    per4 = 4 / (args.pairs * args.epochs)  # seconds per 4 pairs (one default Refinery step) from a run's total
    for side, r in results.items():
        print(f"{LABELS[side]}: {r['wall'] / args.pairs:6.2f} s/pair wall ({r['wall']:6.1f} s; {r['wall'] * per4:6.1f} s per 4 pairs), "
              f"{r['cpu'] / args.pairs:6.2f} s/pair CPU; {r['dtype']}; peak RSS {r['peak_rss_gb']:.1f} GB; "
              f"final reward accuracy {r['accuracy']:.2f}")
    if len(results) == 2:
        ours, stock = results["refinery"], results["stock"]
        print(f"ratio refinery/stock: {ours['wall'] / stock['wall']:.2f} wall, {ours['cpu'] / stock['cpu']:.2f} CPU "
              f"(target <= 0.5); reward accuracy no worse: {'yes' if ours['accuracy'] >= stock['accuracy'] else 'no'}")
    if args.update_readme:
        start, end = readme_markers(args.model)
        readme = ROOT / "bench" / "README.md"
        readme.write_text(replace_block(readme.read_text(), readme_paragraph(args, machine, results), start, end))
        print(f"bench/README.md: training paragraph of {args.model} updated")
    return 0


def epochs(n: float) -> str:
    """'1 epoch', '2 epochs', '0.5 epochs'."""
    return f"{n:g} epoch" + ("" if n == 1 else "s")


def readme_markers(model: str) -> tuple[str, str]:
    """The bench/README.md markers around the training paragraph of `model`'s bench runs."""
    return f"<!-- train-bench {model}:start -->", f"<!-- train-bench {model}:end -->"


def readme_paragraph(args, machine: str, results: dict) -> str:
    """bench/README.md's training paragraph from this run's figures (written by --update-readme)."""
    flags = "" if (args.pairs, args.epochs, args.model) == (32, 2, "smollm2-135m") else \
        f" --model {args.model} --pairs {args.pairs} --epochs {args.epochs:g}"
    flags += "" if args.sides == "refinery,stock" else f" --sides {args.sides}"
    per4 = 4 / (args.pairs * args.epochs)
    runs = "; ".join(
        f"{LABELS[side]} {r['wall'] / args.pairs:.2f} s a pair ({r['wall'] * per4:.1f} s per 4 pairs), peak memory "
        f"{r['peak_rss_gb']:.1f} GB, final reward accuracy {r['accuracy']:.2f}" for side, r in results.items())
    text = (f"DPO training, measured by `python bench/train.py{flags}` ({args.model}, {args.pairs} pairs, "
            f"{epochs(args.epochs)}, LoRA r={TrainConfig().lora_r}, TrainConfig defaults; {machine}; {results[next(iter(results))]['dtype']}): {runs}.")
    if len(results) == 2:
        text += f" Refinery takes {results['refinery']['wall'] / results['stock']['wall']:.2f}x stock TRL's wall time."
    return text


if __name__ == "__main__":
    sys.exit(main())
