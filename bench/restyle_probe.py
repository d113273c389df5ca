"""Probe where the strong model loses facts when it writes in the weak teacher's voice (train prompts only).

Two measurements on the first `--n` train prompts of a finished run (its weak-train and
strong-base-train stages give the weak labels and the plain answers), scored with the task's
concept and content scorers and the run's greedy decoding:

- `forms`: the restyled answers three ways of asking for them give. `text` is the product's
  icl-restyle (weak examples quoted in one message, then "rewrite the answer below"); `chat` puts
  the weak examples in as prior chat turns (as icl-refine does) and appends the plain answer's facts
  to the prompt; `chat-rewrite` does the same but asks to rewrite that answer.
- `prefix`: the plain answers with the assistant's reply forced to open with a persona formula
  (e.g. "Arrr, matey!"; no trailing space, which would split the next word's token): whether a voice put before the answer costs facts by itself.

One JSON line per measurement goes to `--log`, the table of all lines to `--table`.

    .venv/bin/python bench/restyle_probe.py forms --run results/analogy-qwen2.5-coder-1.5b
    .venv/bin/python bench/restyle_probe.py prefix --run results/pirate-qwen2.5-coder-1.5b --prefix "" --prefix "Arrr, matey!" --prefix "Aye,"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.strategies import ICL_REFINE, STRATEGIES, WEAK_OPENING, Context, Messages, example_contexts  # noqa: E402


def _as_chat(task: dict, prompt: str, ctx: Context, request: str) -> Messages:
    """icl-refine's conversation (the weak examples as prior chat turns) with `request`, which holds the
    plain answer, after the prompt."""
    return STRATEGIES[ICL_REFINE].build(task, f"{prompt}\n\n{request.format(answer=ctx.base_answer.strip())}", ctx)


FORMS = {
    "text": lambda task, prompt, ctx: STRATEGIES["icl-restyle"].build(task, prompt, ctx),
    "chat": lambda task, prompt, ctx: _as_chat(task, prompt, ctx, "(Facts to use in your answer: {answer})"),
    "chat-rewrite": lambda task, prompt, ctx: _as_chat(
        task, prompt, ctx, "A correct answer is: {answer}\n\nRewrite this answer in the same style as your answers above: "
        "the same voice, persona, tone and way of explaining. Keep every fact of it and add no new ones. "
        "Reply with the rewritten answer only."),
}


def mean(values: list[float]) -> float:
    """The mean of `values`, rounded for the table."""
    return round(sum(values) / len(values), 3)


def table(lines: list[dict]) -> str:
    """All measurements so far as a Markdown table."""
    out = ["| run | probe | n | concept | content | texts' words |", "|---|---|---|---|---|---|"]
    for line in lines:
        out.append(f"| {line['run']} | {line['probe']} | {line['n']} | {line['concept']:.2f} | {line['content']:.2f} | {line['words']:.0f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    """Run one probe on a finished run's train prompts and append its line to the log and table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=["forms", "prefix"])
    parser.add_argument("--run", required=True, help="a results folder with its weak-train and strong-base-train stages")
    parser.add_argument("--n", type=int, default=24, help="train prompts to answer (the run's first)")
    parser.add_argument("--forms", default=",".join(FORMS), help="forms to compare (forms probe)")
    parser.add_argument("--prefix", action="append", default=[], help="a forced opening of the reply (prefix probe; repeatable; '' for none)")
    parser.add_argument("--log", default="results/sweeps/restyle-probe.jsonl")
    parser.add_argument("--table", default="results/sweeps/restyle-probe.md")
    args = parser.parse_args()

    from feedback.tasks import sync_shipped
    from settings import Settings
    from storage import tasks as task_store
    from storage.db import Store
    from storage.terms import AXES
    from study.evaluation import score_texts
    from models.generation import GenParams, generate
    from models.loading import load

    run = Path(args.run)
    cfg = json.loads((run / "config.json").read_text())
    stage = lambda name: json.loads((run / "stages" / f"{name}.json").read_text())["texts"]  # noqa: E731
    settings = Settings.load()
    store = Store(settings.db_path)
    sync_shipped(store)
    task = task_store.get_task(store, cfg["task"])
    train = task_store.list_prompts(store, task["prompt_set"], "train", limit=cfg["n_train"])
    contexts = example_contexts(train, stage("weak-train"), cfg["n_icl"], cfg["seed"], stage("strong-base-train"))[:args.n]
    prompts = train[:args.n]
    params = GenParams(max_new_tokens=cfg["max_new_tokens"], temperature=0.0, seed=cfg["seed"],
                       batch_size=cfg["batch_size"], repetition_penalty=cfg["repetition_penalty"])
    model, tokenizer = load(cfg["strong"], settings, device=settings.device)

    if args.probe == "forms":
        jobs = {f"restyle form {form}": [FORMS[form](task, p["text"], c) for p, c in zip(prompts, contexts)]
                for form in args.forms.split(",")}
    else:  # weak-opening's messages: a final assistant message is continued, so each answer begins with the forced opening
        jobs = {f"plain answer opening {prefix!r}": [STRATEGIES[WEAK_OPENING].build(task, p["text"], Context(opening=prefix)) for p in prompts]
                for prefix in (args.prefix or ["", "Arrr, matey!"])}
    log = Path(args.log)
    for name, conversations in jobs.items():
        start = time.perf_counter()
        texts = generate(model, tokenizer, conversations, params)
        scores = score_texts(task, prompts, texts)
        line = {"run": run.name, "probe": name, "n": len(prompts), **{axis: mean(scores[axis]) for axis in AXES},
                "words": mean([len(t.split()) for t in texts]), "seconds": round(time.perf_counter() - start, 1), "texts": texts}
        print({k: v for k, v in line.items() if k != "texts"}, flush=True)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(json.dumps(line) + "\n")
    lines = [json.loads(s) for s in log.read_text().splitlines() if s.strip()]
    Path(args.table).write_text(table(lines))


if __name__ == "__main__":
    main()
