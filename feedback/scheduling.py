"""Pair scheduling: put two strategies' (or model versions') outputs side by side for annotators.

`python app.py pairs --task pirate --n 40` schedules the refined pair plan (feedback.pair_plan:
icl-refine against strong-base and against weak) on up to 40 prompts each; `--plan naive` the
naive one; `--a icl-refine --b weak` one matchup of your choice. A side is a strategy name (`weak`, `icl-refine`, `correction`, ...), a model
version as `model:<version>`, or either with `@<model>` to pick one model's outputs
(`weak@smollm2-135m`). Only prompts where both sides have an output are used, identical texts
are never paired, a prompt already paired for the same two outputs is not paired again, and
which side is shown as A is drawn from a seeded generator.
"""

from __future__ import annotations

import random

from feedback.pair_plan import PLANS, describe, plan_pairs
from feedback.recipes import DEFAULT_RECIPE, RECIPES, voting_recipes
from storage import outputs
from storage import pairs as pair_store
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from storage.terms import MODEL_PREFIX


class MissingSide(UserError):
    """A side of a matchup has no outputs yet (a plan schedules its other matchups and reports this one)."""


def parse_side(side: str) -> tuple[str, str | None]:
    """(strategy, model or None) from 'strategy', 'strategy@model' or 'model:<version>'."""
    side = side.strip()
    if not side:
        raise UserError("name a strategy or model:<version> for each side")
    if side.startswith(MODEL_PREFIX):
        return side, side[len(MODEL_PREFIX):]
    strategy, _, model = side.partition("@")
    return strategy, (model or None)


def side_outputs(store: Store, task_id: int, side: str, split: str | None = None, source: str | None = None) -> dict[int, dict]:
    """{prompt_id: output} for one side (of one source if given); where a prompt has several, the newest."""
    strategy, model = parse_side(side)
    return {
        o["prompt_id"]: o for o in outputs.list_outputs(store, task_id, strategy=strategy, model=model, split=split)
        if source is None or o["source"] == source
    }


def schedule_pairs(
    store: Store,
    task_name: str,
    a: str,
    b: str,
    n: int,
    split: str | None = None,
    votes_wanted: int | None = None,
    seed: int = 0,
    source: str | None = None,
) -> dict:
    """Create up to `n` pairs of side `a` against side `b` on a task's prompts.

    `source` ('model', 'human' or 'seed') restricts both sides to outputs of that origin.
    Returns {"created": new pair ids, "skipped_identical": prompts whose two texts are the same,
    "missing": prompts where only one side has an output}. Prompts already paired for these
    two outputs are left out before counting towards `n`, so calling again adds new prompts.
    """
    task = task_store.get_task(store, task_name)
    if split is not None and split not in task_store.SPLITS:
        raise UserError(f"split must be one of {task_store.SPLIT_NAMES}, not {split!r}")
    if n < 1:
        raise UserError("number of pairs must be at least 1")
    votes = task["votes_per_pair"] if votes_wanted is None else int(votes_wanted)
    if votes < 1:
        raise UserError("votes per pair must be at least 1")
    side_a, side_b = (side_outputs(store, task["id"], side, split, source) for side in (a, b))
    if not side_a or not side_b:
        empty = a if not side_a else b
        raise MissingSide(
            f"no outputs of {empty!r} for task {task_name!r}{f' ({split} split)' if split else ''}; "
            f"generate them first: python app.py generate --task {task_name} --strategies {parse_side(empty)[0]}"
        )
    both = sorted(set(side_a) & set(side_b))
    missing = len(set(side_a) ^ set(side_b))
    paired = {frozenset((p["output_a"], p["output_b"])) for p in pair_store.list_pairs(store, task["id"])}
    rng = random.Random(seed)
    candidates, identical = [], 0
    for prompt_id in both:
        oa, ob = side_a[prompt_id], side_b[prompt_id]
        if oa["id"] == ob["id"] or oa["text"].strip() == ob["text"].strip():
            identical += 1
            continue
        if frozenset((oa["id"], ob["id"])) in paired:
            continue
        first, second = (oa, ob) if rng.random() < 0.5 else (ob, oa)
        candidates.append((prompt_id, first["id"], second["id"]))
        if len(candidates) == n:
            break
    created = pair_store.create_pairs(store, task["id"], candidates, votes, batch=f"{a} vs {b}")
    return {"created": created, "skipped_identical": identical, "missing": missing}


def schedule_plan(store: Store, task_name: str, plan: str, n: int, split: str | None = None,
                  votes_wanted: int | None = None, seed: int = 0, source: str | None = None) -> list[dict]:
    """schedule_pairs() for every matchup of pair plan `plan`; one result dict (with "a", "b") per matchup.

    A matchup whose outputs are missing is reported (UserError's text under "error") instead of
    stopping the others.
    """
    results = []
    for a, b in plan_pairs(plan):
        try:
            results.append({"a": a, "b": b, **schedule_pairs(store, task_name, a, b, n, split, votes_wanted, seed, source)})
        except MissingSide as err:
            results.append({"a": a, "b": b, "created": [], "skipped_identical": 0, "missing": 0, "error": str(err)})
    if not any(r["created"] for r in results) and all("error" in r for r in results):
        raise UserError("; ".join(r["error"] for r in results))
    return results


def summary_line(result: dict) -> str:
    """What one schedule_pairs() result means, in words."""
    if "error" in result:
        return f"{result['a']} vs {result['b']}: {result['error']}"
    return (f"{result['a']} vs {result['b']}: created {len(result['created'])} pairs; "
            f"{result['skipped_identical']} prompts skipped for identical texts, {result['missing']} prompts have only one side")


def cli(parser) -> None:
    """`pairs --task T [--recipe R | --plan P | --a SIDE --b SIDE] --n 40 [--split train|validation|eval] [--votes K] [--seed S]`."""
    parser.add_argument("--task", required=True, help="task name")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, choices=voting_recipes(),
                        help=f"schedule the pairs this recipe trains on (default {DEFAULT_RECIPE}: "
                        f"{describe(RECIPES[DEFAULT_RECIPE].plan)})")
    parser.add_argument("--plan", choices=sorted(PLANS), help="instead of the recipe's: a pair plan")
    parser.add_argument("--a", help="instead of a plan: a strategy (weak, icl-refine, ...), model:<version>, or either @model")
    parser.add_argument("--b", help="the other side, same forms as --a")
    parser.add_argument("--n", type=int, default=40, help="at most this many new pairs per matchup (one per prompt)")
    parser.add_argument("--split", choices=(*task_store.SPLITS, task_store.ALL_SPLITS), default=task_store.DEFAULT_SPLIT,
                        help=f"prompts of this split (default {task_store.DEFAULT_SPLIT})")
    parser.add_argument("--votes", type=int, help="distinct annotators wanted per pair (default: the task's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the A/B placement")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Schedule the pairs and print what happened."""
    from feedback.tasks import sync_shipped

    if bool(args.a) != bool(args.b):
        raise UserError("give both --a and --b, or neither (then --plan decides)")
    store = Store(args.settings.db_path)
    sync_shipped(store)
    if args.a:
        results = [{"a": args.a, "b": args.b, **schedule_pairs(store, args.task, args.a, args.b, args.n, task_store.split_choice(args.split), args.votes, args.seed)}]
    else:
        results = schedule_plan(store, args.task, args.plan or RECIPES[args.recipe].plan, args.n, task_store.split_choice(args.split), args.votes, args.seed)
    for result in results:
        print(summary_line(result))
    return 0
