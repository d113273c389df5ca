"""Score a model version on a task's eval split: concept and content means with 95% bootstrap intervals.

The pure parts (`bootstrap_ci`, `paired_difference`, `score_texts`, `summarize`) are shared with the experiment
runner; `evaluate` adds generation (reusing outputs already stored for the same prompt, model,
strategy, parameters and seed) and stores the result in the evaluations table.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from scoring import scorers
from feedback.bootstrap import bootstrap_ci, bootstrap_p
from models import embeddings  # noqa: F401  (gives the 'embedding' content scorer its encoder)
from storage import evaluations as eval_store
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from storage.terms import AXES, CONCEPT, CONTENT


def paired_difference(a: Sequence[float], b: Sequence[float], n: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """{mean, lo, hi, n, p} of a - b over the same prompts (p: two-sided bootstrap p-value of no difference): the percentile bootstrap resamples prompts,
    keeping each prompt's two scores together, so the prompt-to-prompt spread both rows share
    cancels out (independent intervals that overlap can still hide a clear paired difference)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("paired_difference needs two equally long, non-empty lists of scores")
    mean, lo, hi = bootstrap_ci(x - y, n=n, seed=seed, level=level)
    return {"mean": mean, "lo": lo, "hi": hi, "n": int(x.size), "p": bootstrap_p(x - y, n=n, seed=seed)}


def summarize(values: Sequence[float], n: int = 1000, seed: int = 0) -> dict | None:
    """{mean, lo, hi, n} of `values` (95% bootstrap interval), or None when there are none."""
    if len(values) == 0:
        return None
    mean, lo, hi = bootstrap_ci(values, n=n, seed=seed)
    return {"mean": mean, "lo": lo, "hi": hi, "n": len(values)}


def score_texts(task: dict, prompts: Sequence[dict], texts: Sequence[str], judge=None) -> dict[str, list[float] | None]:
    """Per-text scores {"concept": [...], "content": [...]} by the task's scorers (None for a missing scorer).

    With a `judge` (judging.judge.Judge) the result also holds "judge_concept" and
    "judge_content"; the heuristic axes are the same either way.
    """
    if len(prompts) != len(texts):
        raise ValueError("one text per prompt")
    concept, content = task.get("concept_scorer"), task.get("content_scorer")
    scores = {
        CONCEPT: [float(scorers.concept_score(concept, t)) for t in texts] if concept else None,
        CONTENT: [float(scorers.content_score(content, t, p)) for p, t in zip(prompts, texts)] if content else None,
    }
    if judge is not None:
        from judging.judge import judge_scores

        scores.update({f"judge_{axis}": v for axis, v in judge_scores(judge, task, prompts, texts).items()})
    return scores


def summarize_scores(scores: dict[str, list[float] | None], n: int = 1000, seed: int = 0) -> dict[str, dict | None]:
    """summarize() of each axis of score_texts()' result."""
    return {axis: (summarize(v, n=n, seed=seed) if v is not None else None) for axis, v in scores.items()}


def generate_job_for(store: Store, settings, task_name: str, model: str, strategy: str, n: int | None, split: str = "eval", **gen):
    """The generate job (models.generate_spec.Job) that produces `model`'s outputs under `strategy` on the split.

    `model` is a base model spec or a trained version name; a version always answers the plain
    prompt (strategy `model:<version>`), a base spec runs `strategy` as the weak or strong model.
    """
    from storage.models import get_adapter
    from models import generate_spec
    from models.strategies import MODEL_PREFIX, get_strategy

    if get_adapter(store, model) is not None:
        strategy = MODEL_PREFIX + model
    else:
        from models.specs import resolve

        resolve(model)  # UserError naming the accepted forms, before anything is queued
    spec, _ = get_strategy(strategy)
    if spec.role == "human":
        raise UserError(f"strategy {strategy!r} is written by annotators, not generated; evaluate a model strategy")
    task = task_store.get_task(store, task_name)
    n = n or task_store.count_prompts(store, task["prompt_set"], split)
    if not n:
        raise UserError(f"task {task_name!r} has no {split} prompts in set {task['prompt_set']!r}; import prompts "
                        f"with a {split} split first (`python app.py prompts import`)")
    role = {"weak": {"weak": model}, "strong": {"strong": model}}.get(spec.role, {})
    return generate_spec.make_job(store, settings, task_name, [strategy], n, split=split, **role, **gen)


def evaluate(ctx, gen_job, judge_spec: str | None = None) -> dict:
    """Generate what is missing for `gen_job` (one strategy) inside job `ctx`, score it and store an evaluation.

    Reuses outputs already stored for the same prompt, model, strategy, parameters and seed.
    With `judge_spec` the texts are also scored by that LLM judge; its per-prompt scores and
    summaries go into details beside the heuristics' ("judge", "judge_concept_scores", ...).
    Returns the stored evaluations row (with per-prompt scores in details).
    """
    from models import generate_job, generate_spec
    from models.strategies import get_strategy

    (strategy,) = gen_job.strategies
    spec, version = get_strategy(strategy)
    model = version or (gen_job.weak if spec.role == "weak" else gen_job.strong)
    run = generate_job.produce(ctx, gen_job)  # the generate step, as part of this job: same id, progress and cancellation
    store, task, prompts, found = ctx.store, run.task, run.targets, run.outputs_of(strategy)
    params = generate_spec.output_params(gen_job, strategy)
    missing = [p["ext_id"] for p, o in zip(prompts, found) if o is None]
    if missing:
        raise UserError(f"no output stored for prompts {', '.join(missing[:5])}; the generate step did not finish")
    judge = None
    if judge_spec:
        from judging.judge import load_judge

        judge = load_judge(judge_spec, ctx.settings)
    scores = score_texts(task, prompts, [o["text"] for o in found], judge=judge)
    summary = summarize_scores(scores)
    details = {
        "params": params,
        "seed": gen_job.seed,
        "output_ids": [o["id"] for o in found],
        **{f"{axis}_scores": scores[axis] for axis in AXES},
    }
    if judge is not None:
        details["judge"] = judge.name
        for axis in AXES:
            details[f"judge_{axis}_scores"] = scores[f"judge_{axis}"]
            details[f"judge_{axis}"] = summary[f"judge_{axis}"]
    eval_id = eval_store.add_evaluation(
        store, task["id"], model, strategy, len(prompts), summary[CONCEPT], summary[CONTENT],
        split=gen_job.split, details=details, job_id=ctx.id,
    )
    return eval_store.get_evaluation(store, eval_id)
