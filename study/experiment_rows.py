"""The experiment's trained rows and their training data: pure functions over prompts and texts.

Every trained row answers the plain eval prompt, so the concept must now be in the weights:

- sft-weak: SFT on the weak labels (the paper's naive baseline);
- sft-refined: SFT on icl-refine outputs (the paper's method, Algorithm 1);
- dpo-weak: DPO on the simulated weak annotator's votes over the naive pairs (weak vs strong-base);
- dpo-refined: DPO on its votes over the refined pairs (icl-refine vs strong-base, icl-refine vs weak);
- dpo-refined-sft: the same votes with TRL's sigmoid loss plus an SFT term on the chosen answer,
  weighted up, which keeps the chosen answers likely instead of only pushing the rejected ones
  down; a margin alone moved the tokens after a pirate opening, not the opening itself;
- dpo-concept-sft: the same loss on the votes over the concept pairs alone (icl-refine vs strong-base,
  equal content), whose chosen answers carry the concept, and only those every annotator agreed on;
  the icl-refine vs weak votes, where the weak annotator mostly picks the weak answer, taught the SFT
  term the weak model's wrong facts;
- sft-restyle: SFT on icl-restyle outputs, the strong model's plain answers rewritten in the weak
  examples' style (their facts are the strong model's own);
- dpo-restyle-sft: dpo-concept-sft's loss on the votes over the restyle pairs (icl-restyle vs strong-base),
  with the SFT term 16x instead of 64x and LoRA rank 2 instead of 8;
- sft-opening: SFT on weak-opening outputs, the strong model's plain answers begun with the opening
  most weak labels share (the rest of each answer is the strong model's own);
- dpo-opening-sft: dpo-restyle-sft's loss and settings on the votes over the opening pairs
  (weak-opening vs strong-base);
- sft-ask-to-improve: SFT on ask-to-improve outputs, each weak label with its facts fixed by the strong
  model (the paper's Algorithm 3);
- sft-infer-and-respond: SFT on infer-and-respond outputs, the strong model's answer in the style it
  inferred from the weak examples (Algorithm 2).

The restyle and opening rows' only gain was a formula once the concept was scored as a voice (every
pirate answer "Aye, " or "Arrr, matey!" on a plain answer, formula share 0.94-1.00; results/README.md):
runs on the wide prompt set leave them out (--rows), and they stay here so the committed runs resume.

COMPARISONS are the paper's question, refined minus naive, asked of each kind of training.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback.pair_plan import plan_pairs
from registry import Registry

# Few LoRA steps: 16 steps of 4 examples cover the 64 default train prompts once. A DPO step of 4
# pairs costs ~100 s on the 1.5B in fp32 on 2 cores (~60 s on the 0.5B), so a DPO row is ~30 min
# there; SFT rows need no reference pass and cost about 40% of that. Activation checkpointing trades
# ~30% more time for memory: without it a 1.5B DPO job peaked at 20 GB in fp32, too close to a 24 GB
# machine that also runs the app (the peak with it is yet to be measured).
EXPERIMENT_TRAIN = {"max_steps": 16, "batch_size": 4, "max_length": 384, "save_steps": 4, "logging_steps": 1,
                    "gradient_checkpointing": True}


@dataclass(frozen=True)
class Row:
    """One trained row: its report name, the TRL method, and where its data comes from."""

    key: str
    method: str  # training.trainers method: sft-weak / sft-refined (SFT), dpo (preference pairs)
    labels: str = ""  # SFT rows: the strategy whose train-prompt answers are the targets
    plan: str = ""  # DPO rows: the pair plan whose annotator votes are the pairs
    loss_type: str = ""  # DPO rows: the TRL loss(es); empty: TrainConfig's default
    loss_weights: str = ""  # DPO rows: the losses' weights (TrainConfig.loss_weights); empty: all 1
    label_smoothing: float | None = None  # DPO rows: None smooths by the annotator's flip rate
    steps: int = 0  # optimizer steps; 0: the run's --train-steps
    learning_rate: float = 0.0  # peak rate; 0: the run's --learning-rate
    min_agreement: float = 0.0  # DPO rows: train only on pairs whose annotators agreed at least this much (a single vote: 1)
    lora_r: int = 0  # LoRA rank (alpha 2r); 0: TrainConfig's
    baseline: str = ""  # the naive row this one is compared with (paired differences in the report); empty: none


TRAINED = (
    Row("sft-weak", "sft-weak", labels="weak"),
    Row("sft-refined", "sft-refined", labels="icl-refine", baseline="sft-weak"),
    Row("dpo-weak", "dpo", plan="naive", loss_type="robust"),
    Row("dpo-refined", "dpo", plan="refined", loss_type="robust", baseline="dpo-weak"),
    # the sweep's setting (results/sweeps/dpo-sweep.md): a plain sigmoid margin, the SFT term weighted up
    Row("dpo-refined-sft", "dpo", plan="refined", loss_type="sigmoid,sft", loss_weights="1,16", label_smoothing=0.0, baseline="dpo-weak"),
    # the concept pairs only (icl-refine vs strong-base) the annotators agreed on unanimously, the SFT term
    # 64x and 16 steps: the sweep's best DPO line on held-out prompts (higher rates or more steps looped;
    # without the agreement filter a quarter of the SFT targets were the plain answers)
    Row("dpo-concept-sft", "dpo", plan="concept", loss_type="sigmoid,sft", loss_weights="1,64", label_smoothing=0.0, steps=16,
        min_agreement=1.0, baseline="dpo-weak"),
    Row("sft-restyle", "sft-refined", labels="icl-restyle", baseline="sft-weak"),
    # LoRA rank 2 and the SFT term 16x: the held-out sweep's most content (0.88 against 0.84 at rank 8 and 64x,
    # concept 0.85 against 0.90; results/sweeps/dpo-sweep.md, results/validation). On the eval prompts it
    # keeps no more than rank 8 and 64x did (pirate 0.84 against 0.85)
    Row("dpo-restyle-sft", "dpo", plan="restyle", loss_type="sigmoid,sft", loss_weights="1,16", label_smoothing=0.0, steps=16,
        min_agreement=1.0, lora_r=2, baseline="dpo-weak"),
    Row("sft-opening", "sft-refined", labels="weak-opening", baseline="sft-weak"),
    Row("dpo-opening-sft", "dpo", plan="opening", loss_type="sigmoid,sft", loss_weights="1,16", label_smoothing=0.0, steps=16,
        min_agreement=1.0, lora_r=2, baseline="dpo-weak"),
    # the paper's Algorithms 3 and 2 as SFT labels: the weak label with its facts fixed by the strong model,
    # and the strong model's answer in the style it inferred from the weak examples
    Row("sft-ask-to-improve", "sft-refined", labels="ask-to-improve", baseline="sft-weak"),
    Row("sft-infer-and-respond", "sft-refined", labels="infer-and-respond", baseline="sft-weak"),
)
ROWS: Registry[Row] = Registry("experiment row", TRAINED, name_of=lambda r: r.key)
# the paper's question, refined minus naive, asked of each kind of training (report order)
COMPARISONS = tuple((r.key, r.baseline) for r in TRAINED if r.baseline)


def matchups(rows=TRAINED) -> list[tuple[str, str]]:
    """Every (a, b) pair of strategies some DPO row of `rows` needs the annotator's verdicts on, in a stable order."""
    seen: list[tuple[str, str]] = []
    for row in rows:
        for pair in plan_pairs(row.plan) if row.plan else ():
            if pair not in seen:
                seen.append(pair)
    return seen


def strategies_needed(rows) -> set[str]:
    """The train-prompt strategies whose texts `rows` learn from: SFT labels and both sides of every DPO matchup."""
    return {row.labels for row in rows if row.labels} | {s for pair in matchups(rows) for s in pair}


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
    (or the majority of several annotators) preferred, with the majority's agreement."""
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
