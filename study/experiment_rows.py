"""The experiment's trained rows and their training data: pure functions over prompts and texts.

Every trained row is a recipe of feedback.recipes (the product trains the same way; each recipe's purpose
is written there) and answers the plain eval prompt, so the concept must now be in the weights. SFT rows
train on a strategy's train-prompt answers; DPO rows on the simulated weak annotators' votes over their
plan's pairs.

The restyle and opening rows' only gain was a formula once the concept was scored as a voice (every
pirate answer "Aye, " or "Arrr, matey!" on a plain answer, formula share 0.94-1.00; results/README.md):
runs on the wide prompt set leave them out (--rows), and they stay so the committed runs resume.

COMPARISONS are the paper's question, refined minus naive, asked of each kind of training.
"""

from __future__ import annotations

from feedback.pair_plan import plan_pairs
from feedback.recipes import RECIPE_TRAIN, RECIPES, Recipe

EXPERIMENT_TRAIN = RECIPE_TRAIN  # the rows train as the product's recipes do; the run sets steps and rate
Row = Recipe  # a trained row is a recipe (feedback.recipes): the same registry, not a copy
TRAINED: tuple[Row, ...] = tuple(RECIPES.values())
ROWS = RECIPES
# the paper's question, refined minus naive, asked of each kind of training (report order)
COMPARISONS = tuple((r.name, r.baseline) for r in TRAINED if r.baseline)


def matchups(rows=TRAINED) -> list[tuple[str, str]]:
    """Every (a, b) pair of strategies some DPO row of `rows` needs the annotator's verdicts on, in a stable order."""
    seen: list[tuple[str, str]] = []
    for row in rows:
        for pair in plan_pairs(row.plan) if row.plan else ():
            if pair not in seen:
                seen.append(pair)
    return seen


def strategies_needed(rows) -> tuple[str, ...]:
    """The train-prompt strategies whose texts `rows` learn from (SFT labels and both sides of every DPO matchup), in
    the order the rows first need them."""
    return tuple(dict.fromkeys(s for row in rows for s in (
        ((row.labels,) if row.labels else ()) + (sum(plan_pairs(row.plan), ()) if row.plan else ()))))


def matchup_name(a: str, b: str) -> str:
    """How a matchup is named in the judge stage and the report: 'a vs b'."""
    return f"{a} vs {b}"


def sft_examples(prompts: list[dict], labels: list[str]) -> list[dict]:
    """SFT examples (training.datasets format) on the bare prompt: the concept must go into the weights."""
    return [{"id": p["id"], "prompt": p["text"], "completion": t} for p, t in zip(prompts, labels)]


def preference_examples(prompts: list[dict], chosen: list[str], rejected: list[str], agreements: list | None = None) -> list[dict]:
    """Preference examples (training.datasets format), skipping pairs whose two texts are identical.
    `agreements`: the majority's share of the votes per pair (None: a single vote)."""
    agreements = agreements or [None] * len(prompts)
    return [
        {"id": p["id"], "prompt": p["text"], "chosen": c, "rejected": r, "agreement": g}
        for p, c, r, g in zip(prompts, chosen, rejected, agreements)
        if c.strip() != r.strip()
    ]


def voted_examples(prompts: list[dict], texts: dict[str, list[str]], verdicts: dict[str, list[dict]], plan: str,
                   min_agreement: float = 0.0) -> list[dict]:
    """Preference examples from the annotator's verdicts on every matchup of `plan`: chosen = the side it
    (or the majority of several annotators) preferred, with the majority's agreement.

    The product's pairs (training.datasets.voted_pair_examples) are the same idea on stored votes, not this function:
    there a majority of "tie" or "both bad", or a tie for first, drops the pair and annotators failing gold checks
    can be left out, while a simulated crowd always picks a side (its tie goes to the first annotator's) and has no
    gold; and this one compares texts stripped and keeps an empty answer, as it always has: every trained row's
    examples are hashed into the committed runs' stage keys."""
    out = []
    for a, b in plan_pairs(plan):
        votes = verdicts[matchup_name(a, b)]
        prefers_a = [v["prefers_a"] for v in votes]
        out += preference_examples(
            prompts,
            [x if p else y for x, y, p in zip(texts[a], texts[b], prefers_a)],
            [y if p else x for x, y, p in zip(texts[a], texts[b], prefers_a)],
            [v.get("agreement") for v in votes],
        )
    # the product's --min-agreement: a single vote counts as agreement 1
    return [e for e in out if (1.0 if e["agreement"] is None else e["agreement"]) >= min_agreement]


def training_data(row: Row, prompts: list[dict], texts: dict[str, list[str]], verdicts: dict[str, list[dict]]) -> list[dict]:
    """The examples row `row` trains on, from the train prompts' texts by strategy and the annotator's verdicts."""
    if row.labels:
        return sft_examples(prompts, texts[row.labels])
    return voted_examples(prompts, texts, verdicts, row.plan, row.min_agreement)
