"""Benchmark: an LLM judge scoring 32 answers on both axes, against the 2-minute target.

Takes 32 real model answers from the pirate seed (data/seed/pirate.jsonl: weak, strong-base,
icl-refine and ask-to-improve outputs, in turn) with their prompts, loads the judge (not timed),
then times judge_scores() on both axes: the shared instructions once, 32 answer bodies in
batches, two short asks per body on its cache. The heuristic scorers on the same texts run in the
same process as the baseline. Prints the prompt tokens, the seconds, the ratio to the 120 s target
(<= 1.0 meets it) and the heuristic time.

    .venv/bin/python bench/judge.py                          # the 1.5B strong default
    .venv/bin/python bench/judge.py --judge smollm2-135m --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 120.0  # the target: 32 eval answers, both axes, on the 2-core CPU


def answers(n: int = 32) -> tuple[dict, list[dict], list[str]]:
    """(pirate task, prompts, texts): n seed answers, cycling through the strategies."""
    from feedback.tasks import PROMPTS_DIR, TASKS_DIR, load_task_file

    task = load_task_file(TASKS_DIR / "pirate.toml")
    prompts = {json.loads(line)["id"]: json.loads(line) for line in (PROMPTS_DIR / "general.jsonl").read_text().splitlines() if line.strip()}
    rows = [json.loads(line) for line in (ROOT / "data" / "seed" / "pirate.jsonl").read_text().splitlines() if line.strip()]
    by_strategy: dict[str, list[dict]] = {}
    for r in rows:
        by_strategy.setdefault(r["strategy"], []).append(r)
    mixed = [r for group in zip(*by_strategy.values()) for r in group][:n]
    return task.as_dict(), [prompts[r["prompt_ext_id"]] for r in mixed], [r["text"] for r in mixed]


def main() -> int:
    """Parse flags, load the judge, time one scoring run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="qwen2.5-coder-1.5b", help="judge model spec")
    parser.add_argument("--n", type=int, default=32, help="answers to judge")
    parser.add_argument("--batch-size", type=int, default=8, help="rubric prompts per forward pass")
    parser.add_argument("--precision", default="auto", help="judge weights: native, int8 or auto (judging.judge.PRECISIONS)")
    args = parser.parse_args()

    import torch

    from settings import Settings
    from storage.terms import AXES
    from study.evaluation import score_texts
    from judging.judge import judge_scores, load_judge, segments

    task, prompts, texts = answers(args.n)
    start = time.perf_counter()
    heuristic = score_texts(task, prompts, texts)
    heuristic_s = time.perf_counter() - start
    start = time.perf_counter()
    judge = load_judge(args.judge, Settings.load(None), batch_size=args.batch_size, precision=args.precision)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = judge_scores(judge, task, prompts, texts)
    judge_s = time.perf_counter() - start
    mean = {axis: sum(v) / len(v) for axis, v in scores.items()}
    prefix, bodies, asks = segments(judge.tokenizer, task, prompts, texts, AXES)
    tokens = len(prefix) + sum(map(len, bodies)) + len(texts) * sum(map(len, asks.values()))
    print(f"prompt tokens: {tokens} (shared prefix {len(prefix)} once, bodies {sum(map(len, bodies))}, asks "
          f"{' + '.join(str(len(a)) for a in asks.values())} per answer); {tokens / judge_s:.1f} tok/s; torch threads {torch.get_num_threads()}")
    print(f"judge {judge.name}: {len(texts)} answers x 2 axes in {judge_s:.1f} s (load {load_s:.1f} s, not counted), "
          f"batch {args.batch_size}")
    print(f"ratio to the {TARGET_S:.0f} s target: {judge_s / TARGET_S:.2f} ({'meets' if judge_s <= TARGET_S else 'misses'} it)")
    print(f"heuristic scorers on the same texts: {heuristic_s * 1000:.1f} ms; judge / heuristic: {judge_s / max(heuristic_s, 1e-9):.0f}x")
    print(f"mean judge concept {mean['concept']:.3f}, content {mean['content']:.3f}; "
          f"heuristic concept {sum(heuristic['concept']) / len(texts):.3f}, content {sum(heuristic['content']) / len(texts):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
