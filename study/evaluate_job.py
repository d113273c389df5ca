"""Evaluate jobs: `python app.py evaluate --task T --model SPEC_OR_VERSION` scores a model on the eval split.

The job generates the model's answers to the first `n` prompts of its split (eval unless
`--split validation`, for choosing rows, rates and steps; reusing stored outputs),
scores them with the task's concept and content scorers, and stores means with 95% bootstrap
intervals in the evaluations table, where the Results tab reads them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import confargs
from storage import jobs
from storage.db import Store
from storage.tasks import SPLITS
from storage.errors import UserError
from storage.terms import AXES
from study import evaluation
from models.gen_params import DEFAULT_MAX_NEW_TOKENS, DEFAULT_REPETITION_PENALTY, GenParams
from models.strategies import STRONG_BASE
from jobs import JobContext, handler


@dataclass
class EvalJob:
    """Parameters of an evaluate job (stored as the job's params)."""

    task: str
    model: str
    strategy: str = STRONG_BASE
    n: int | None = None  # None: the whole split
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    batch_size: int = 32
    repetition_penalty: float = DEFAULT_REPETITION_PENALTY
    judge: str | None = None  # model spec of an LLM judge scoring beside the heuristics
    split: str = "eval"  # validation chooses rows, rates and steps; eval is scored once

    def gen_job(self, store: Store, settings):
        """The generate job that produces the texts; UserError if the task, model or strategy is wrong."""
        return evaluation.generate_job_for(
            store, settings, self.task, self.model, self.strategy, self.n, split=self.split,
            max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p, seed=self.seed,
            batch_size=self.batch_size, repetition_penalty=self.repetition_penalty, int8=False,
        )


def enqueue(store: Store, settings, params: EvalJob, created_by: str | None = None) -> int:
    """Validate and queue an evaluate job; returns its id."""
    if params.n is not None and params.n < 1:
        raise UserError("--n must be at least 1 (or left out for the whole split)")
    if params.split not in SPLITS:
        raise UserError(f"--split must be one of {', '.join(SPLITS)}, not {params.split!r}")
    params.gen_job(store, settings)
    if params.judge:
        from models.specs import resolve

        resolve(params.judge)  # UserError naming the accepted forms, before anything is queued
    return jobs.enqueue(store, "evaluate", dataclasses.asdict(params), created_by=created_by)


@handler("evaluate")
def run_job(ctx: JobContext) -> dict:
    """Worker entry point: generate, score and store; the result is the evaluation's summary."""
    params = EvalJob(**ctx.params)
    row = evaluation.evaluate(ctx, params.gen_job(ctx.store, ctx.settings), judge_spec=params.judge)
    return summary(row)


def summary(row: dict) -> dict:
    """The headline numbers of an evaluations row."""
    keys = ("id", "model", "strategy", "split", "n", "concept_mean", "concept_lo", "concept_hi", "content_mean", "content_lo", "content_hi")
    out = {k: row[k] for k in keys}
    details = row.get("details") or {}
    if details.get("judge"):  # the judge's summaries, when the job was run with --judge
        out["details"] = {k: details[k] for k in ("judge", *(f"judge_{axis}" for axis in AXES))}
    return out


def format_summary(row: dict) -> str:
    """One line per axis: mean [lo, hi]."""
    lines = [f"{row['model']} ({row['strategy']}), {row['n']} {row.get('split', 'eval')} prompts:"]
    for axis in AXES:
        mean = row[f"{axis}_mean"]
        lines.append(f"  {axis}: " + ("n/a" if mean is None else f"{mean:.3f} [{row[f'{axis}_lo']:.3f}, {row[f'{axis}_hi']:.3f}]"))
    details = row.get("details") or {}
    for axis in AXES:
        stat = details.get(f"judge_{axis}")
        if stat:
            lines.append(f"  {axis} (judge {details['judge']}): {stat['mean']:.3f} [{stat['lo']:.3f}, {stat['hi']:.3f}]")
    return "\n".join(lines)


def cli(parser) -> None:
    """`evaluate --task T --model SPEC_OR_VERSION [--strategy S] [--n N] [--wait]`."""
    parser.add_argument("--task", required=True, help="task name (see `python app.py tasks list`)")
    parser.add_argument("--model", required=True, help="model spec or trained version name (see `python app.py models list`)")
    parser.add_argument("--strategy", default=STRONG_BASE,
                        help="how a base model is prompted: strong-base, strong-instructed or weak (versions: plain prompt)")
    parser.add_argument("--split", choices=SPLITS, default="eval",
                        help="prompts to score on (default eval; validation to choose rows, rates and steps)")
    parser.add_argument("--n", type=int, help="first N prompts of the split (default: all)")
    confargs.add_arguments(parser, GenParams, "gen_", only=("max_new_tokens", "temperature", "top_p", "seed", "batch_size", "repetition_penalty"))
    parser.add_argument("--judge", help="also score with this LLM judge (model spec), stored beside the heuristic scores")
    parser.add_argument("--wait", action="store_true", help="run the job here with a progress bar instead of leaving it to a worker")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Validate, queue, and with --wait run here and print the scores."""
    from feedback.tasks import sync_shipped

    store = Store(args.settings.db_path)
    sync_shipped(store)
    params = EvalJob(task=args.task, model=args.model, strategy=args.strategy, n=args.n, split=args.split,
                     judge=args.judge, **confargs.typed_flags(args, GenParams, "gen_"))
    job_id = enqueue(store, args.settings, params, created_by="cli")
    if not args.wait:
        print(f"queued evaluate job {job_id}; a worker (`python app.py worker`, or `serve`) will run it")
        return 0
    from jobs.wait import run_here

    result = run_here(store, args.settings, job_id, unit="text")
    print(format_summary(result))
    return 0
