"""Benchmark: Refinery's DPO job against stock trl.DPOTrainer, same model, data, LoRA and epochs.

    python bench/train.py [--pairs 32] [--epochs 2] [--model smollm2-135m]

Preference pairs come from the shipped general prompts: chosen = the reference answer, rejected =
the reference answer of another question (fluent but wrong). Both runs start from a fresh copy of
the model with the same LoRA config; the stock run keeps every DPOConfig default except the output
directory, the epochs and the precision (matched to Refinery's, so the comparison is not about
bf16 emulation on CPUs without native bf16). Prints wall time per preference pair of each, their
ratio (target <= 0.8), and the final reward accuracy of each adapter, measured the same way:
the share of pairs whose implicit reward beta*(log pi - log pi_ref) is higher for the chosen answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from settings import Settings  # noqa: E402
from training import datasets as tds  # noqa: E402
from training import trainers  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.loading import load_uncached, pick_device  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    """Run both trainers and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    settings = Settings.load()
    device = pick_device(args.device)
    examples = bench_pairs(args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        ours, ours_dir = run_refinery(args.model, settings, device, examples, args.epochs, Path(tmp) / "refinery")
        stock, stock_dir = run_stock(args.model, settings, device, examples, args.epochs, Path(tmp) / "stock")
        ours_acc = reward_accuracy(args.model, settings, device, ours_dir, examples)
        stock_acc = reward_accuracy(args.model, settings, device, stock_dir, examples)
    print(f"model {args.model} on {device}, {args.pairs} pairs, {args.epochs:g} epochs, LoRA r={TrainConfig().lora_r}")
    for label, clock, acc in (("refinery DPO job", ours, ours_acc), ("stock DPOTrainer", stock, stock_acc)):
        print(f"{label}: {clock.wall / args.pairs:6.2f} s/pair wall ({clock.wall:6.1f} s), "
              f"{clock.cpu / args.pairs:6.2f} s/pair CPU; final reward accuracy {acc:.2f}")
    print(f"ratio refinery/stock: {ours.wall / stock.wall:.2f} wall, {ours.cpu / stock.cpu:.2f} CPU "
          f"(target <= 0.8); reward accuracy no worse: {'yes' if ours_acc >= stock_acc else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
