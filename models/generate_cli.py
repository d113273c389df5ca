"""`python app.py generate --task T --strategies a,b --n 40 [--wait [--export FILE]]`: queue (or run here) a generate job,
and write its outputs in the seed format.
"""

from __future__ import annotations

import json
from pathlib import Path

import confargs
from storage import outputs
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from models.gen_params import GenParams
from models.strategies import STRATEGIES

from models.generate_spec import DEFAULT_ICL_POOL, DEFAULT_N_ICL, enqueue, make_job


def export_outputs(store: Store, output_ids: list[int], path: str | Path) -> int:
    """Write outputs as JSON lines (task, prompt ext_id and text, model, strategy, params, seed, text, extra).

    The format `feedback.seed.load_seed` reads; returns the number of lines written.
    """
    lines = []
    for output_id in output_ids:
        o = outputs.get_output(store, output_id)
        prompt = task_store.get_prompt(store, o["prompt_id"])
        task = task_store.get_task_by_id(store, o["task_id"])
        lines.append(json.dumps({
            "task": task["name"], "prompt_set": prompt["prompt_set"], "prompt_ext_id": prompt["ext_id"],
            "prompt": prompt["text"], "split": prompt["split"], "model": o["model"], "strategy": o["strategy"],
            "params": o["params"], "seed": o["seed"], "text": o["text"], "extra": o["extra"],
        }, ensure_ascii=False, sort_keys=True))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def cli(parser) -> None:
    """`generate --task T --strategies a,b --n 40 [...] [--wait [--export FILE]]`."""
    names = ", ".join(n for n in STRATEGIES if n != "model") + ", model:<version>"
    parser.add_argument("--task", required=True, help="task name (see `python app.py tasks list`)")
    parser.add_argument("--strategies", required=True, help=f"comma-separated strategies: {names}")
    parser.add_argument("--n", type=int, default=40, help="how many prompts (the first n of the set or split)")
    parser.add_argument("--split", choices=(*task_store.SPLITS, task_store.ALL_SPLITS), default=task_store.DEFAULT_SPLIT,
                        help=f"prompts of this split (default {task_store.DEFAULT_SPLIT}; eval prompts are for scoring)")
    parser.add_argument("--weak", help="weak model spec (default: settings weak_model)")
    parser.add_argument("--strong", help="strong model spec (default: settings strong_model)")
    confargs.add_arguments(parser, GenParams, "gen_", only=("max_new_tokens", "temperature", "top_p", "seed", "repetition_penalty"))
    parser.add_argument("--n-icl", type=int, default=DEFAULT_N_ICL, help="weak-labelled examples in context")
    parser.add_argument("--icl-pool", type=int, default=DEFAULT_ICL_POOL,
                        help="examples are drawn from this many first train prompts")
    confargs.add_arguments(parser, GenParams, "gen_", only=("batch_size",))
    parser.add_argument("--full-precision", action="store_true",
                        help="keep the weights' own precision on a CPU without native bf16 (default there: int8 linear layers in models of 1B parameters or more, about 1.6x faster)")
    parser.add_argument("--wait", action="store_true", help="run the job here with a progress bar instead of leaving it to a worker")
    parser.add_argument("--export", metavar="FILE", help="with --wait: also write the outputs to FILE as JSON lines (seed format)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Validate, queue the job, and with --wait run it here."""
    from feedback.tasks import sync_shipped

    if args.export and not args.wait:
        raise UserError("--export needs --wait (the outputs exist only once the job has run)")
    store = Store(args.settings.db_path)
    sync_shipped(store)
    job = make_job(
        store, args.settings, args.task, args.strategies, args.n, task_store.split_choice(args.split), args.weak, args.strong,
        n_icl=args.n_icl, icl_pool=args.icl_pool, int8=not args.full_precision, **confargs.typed_flags(args, GenParams, "gen_"),
    )
    job_id = enqueue(store, job, created_by="cli")
    if not args.wait:
        print(f"queued generate job {job_id}; a worker (`python app.py worker`, or `serve`) will run it")
        return 0
    from jobs.wait import run_here

    result = run_here(store, args.settings, job_id, unit="text")
    print(f"job {job_id}: generated {result['generated']} texts, {result['skipped']} outputs already stored, "
          f"{result['shared']} shared from other tasks, {len(result['outputs'])} outputs in all")
    if args.export:
        print(f"wrote {export_outputs(store, result['outputs'], args.export)} outputs to {args.export}")
    return 0
