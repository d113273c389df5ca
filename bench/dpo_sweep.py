"""Sweep DPO settings of an experiment's rows on held-out train prompts, never the eval split.

Reads a finished run's train-prompt stages (weak, icl-refine, strong-base texts and the simulated
annotator's verdicts, results/<run>/stages), trains one DPO row per setting on them exactly as the
experiment does (training.experiment_rows), answers the next `--n-held` train prompts (those the
row did not train on) greedily with the run's decoding, and scores concept, content and
repetition with the task's scorers. One JSON line per setting goes to `--log` (texts included),
and the table of all lines so far to `--table`.

    .venv/bin/python bench/dpo_sweep.py --run results/pirate-qwen2.5-coder-1.5b --row dpo-weak \\
        --tag sigmoid --set loss_type=sigmoid --set label_smoothing=0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def held_out(task: dict, n_train: int, n_held: int) -> tuple[list[dict], list[dict]]:
    """(the run's train prompts, the next n_held train prompts) as prompt rows, in the store's order."""
    from feedback.tasks import PROMPTS_DIR

    rows = [json.loads(line) for line in (PROMPTS_DIR / f"{task['prompt_set']}.jsonl").read_text().splitlines() if line.strip()]
    train = [{"id": i, "text": r["prompt"], "reference": r.get("reference"), "key_facts": r.get("key_facts")}
             for i, r in enumerate(r for r in rows if r["split"] == "train")]
    return train[:n_train], train[n_train:n_train + n_held]


def _value(text: str):
    try:
        return json.loads(text)  # numbers, true/false
    except ValueError:
        return text  # "sigmoid,sft", "1,4"


def table(lines: list[dict]) -> str:
    """A markdown table of sweep lines: setting, concept, content, repetition, seconds."""
    out = ["| row | setting | concept | content | repetition | train s |", "|---|---|---|---|---|---|"]
    for s in lines:
        out.append(f"| {s['row']} | {s['tag']}: `{json.dumps(s['set'])}` | {s['concept']:.2f} | {s['content']:.2f} | "
                   f"{s['repetition']:.3f} | {s['train_s']} |")
    return "\n".join(out) + "\n"


def main() -> None:
    """Train and score one setting; append it to the log and rewrite the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a results folder with its stages")
    parser.add_argument("--row", default="dpo-weak", help="the experiment row whose data and loss to start from")
    parser.add_argument("--tag", required=True, help="a short name for this setting")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a TrainConfig value (repeatable)")
    parser.add_argument("--n-held", type=int, default=16, help="held-out train prompts to answer")
    parser.add_argument("--log", default="results/sweeps/dpo-sweep.jsonl")
    parser.add_argument("--table", default="results/sweeps/dpo-sweep.md")
    args = parser.parse_args()

    from feedback.fluency import repetition
    from feedback.tasks import TASKS_DIR, load_task_file
    from settings import Settings
    from training.evaluation import score_texts
    from training.experiment_rows import ROWS, training_data
    from training.generation import GenParams, generate
    from training.loading import load_uncached
    from training.trainers import train

    run = Path(args.run)
    cfg = json.loads((run / "config.json").read_text())
    stages = run / "stages"
    task = dataclasses.asdict(load_task_file(TASKS_DIR / f"{cfg['task']}.toml"))
    prompts, held = held_out(task, cfg["n_train"], args.n_held)
    texts = {s: json.loads((stages / f"{s}-train.json").read_text())["texts"] for s in ("weak", "icl-refine", "strong-base")}
    verdicts = json.loads((stages / "judge.json").read_text())["verdicts"]
    row = ROWS[args.row]
    examples = training_data(row, prompts, texts, verdicts)
    from training.experiment_runner import EXPERIMENT_TRAIN
    from training.config import TrainConfig

    values = {**EXPERIMENT_TRAIN, "max_steps": cfg["train_steps"], "learning_rate": cfg["learning_rate"], "seed": cfg["seed"],
              "label_smoothing": min(cfg["noise"], 0.4), "loss_type": row.loss_type or "robust", "device": "cpu",
              "gradient_checkpointing": False, "save_steps": 1000}
    chosen = {k: _value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    values.update(chosen)
    config = TrainConfig.from_dict(values).validate()
    settings = Settings.load()
    model, tokenizer = load_uncached(cfg["strong"], settings, device="cpu")
    print(f"{args.tag}: {len(examples)} pairs of {args.row}, {model.dtype}, {chosen}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(cfg["strong"], row.method, examples, config, tmp, settings=settings, model=model, tokenizer=tokenizer,
                       resume=False, on_log=lambda step, v: print(step, {k: round(x, 3) for k, x in v.items()}, flush=True))
        train_s = time.perf_counter() - start
        del model
        model, tokenizer = load_uncached(cfg["strong"], settings, device="cpu", adapter_path=result.adapter_dir)
    params = GenParams(max_new_tokens=cfg["max_new_tokens"], temperature=0.0, repetition_penalty=cfg["repetition_penalty"],
                       batch_size=16, seed=cfg["seed"])
    answers = generate(model, tokenizer, [[{"role": "user", "content": p["text"]}] for p in held], params)
    scores = score_texts(task, held, answers)
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    line = {"row": args.row, "tag": args.tag, "set": chosen, "concept": mean(scores["concept"]), "content": mean(scores["content"]),
            "repetition": mean([repetition(a) for a in answers]), "train_s": round(train_s), "dtype": str(config.device) + "/" + str(result.dtype),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 1), "texts": answers}
    print(json.dumps({k: v for k, v in line.items() if k != "texts"}))
    log, out = ROOT / args.log, ROOT / args.table
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(json.dumps(line) + "\n")
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    out.write_text(f"# DPO sweep on held-out train prompts ({args.n_held} after the run's {cfg['n_train']})\n\n"
                   f"Run: {run.name}; CPU dtype: {result.dtype}. Generated by bench/dpo_sweep.py.\n\n" + table(lines))


if __name__ == "__main__":
    main()
