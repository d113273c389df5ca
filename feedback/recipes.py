"""Recipes: everything a training run needs beyond the task, shared by the product and the experiment.

A recipe names the pair plan annotators vote on (DPO recipes) or the strategy whose outputs are the
targets (SFT recipes), the training method, and the training settings that differ from TrainConfig's
defaults. `pairs`, the Generate tab, `train` and the Train tab take a recipe and default to
DEFAULT_RECIPE; the experiment's trained rows *are* these recipes (study.experiment_rows), so what the
experiment measures is what the product does.

DEFAULT_RECIPE was chosen on the validation split, not on eval: on 48 held-out train prompts of the
1.5B pirate run (results/validation/pirate-n64, rescored with the voice scorer) dpo-concept-sft was the
only DPO row with a voice (concept 0.51, formula share 0.31, content 0.80 against the base's 0.90);
dpo-weak and dpo-refined left the concept at 0.00, dpo-opening-sft learned a formula (formula share 1.00).
Those votes came from the legacy annotator that perceived the concept through the eval scorer; the
loop's own measured run is in results/ (README's session section links it).

Pure data: feedback imports no training code, so TrainConfig values are plain dicts here and
training.recipe_config turns them into a TrainConfig.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback.pair_plan import plan_pairs
from registry import Registry
from storage.terms import ASK_TO_IMPROVE, ICL_REFINE, ICL_RESTYLE, INFER_AND_RESPOND, WEAK, WEAK_OPENING

# Few LoRA steps at a high rate: 16 steps of 4 examples cover 64 train prompts once; the train command's
# per-method rates (5e-5 DPO, 2e-4 SFT) suit hundreds of steps and moved no row of the 0.5B or 1.5B model
# in 4. A DPO step of 4 pairs costs ~100 s on the 1.5B in fp32 on 2 cores; activation checkpointing trades
# ~30% more time for memory (without it a 1.5B DPO job peaked at 20 GB in fp32).
RECIPE_TRAIN = {"max_steps": 16, "batch_size": 4, "max_length": 384, "save_steps": 4, "logging_steps": 1,
                "gradient_checkpointing": True}
RECIPE_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Recipe:
    """One recipe (and experiment row): its name, the TRL method, where its data comes from, its own settings."""

    name: str
    method: str  # training method: sft-weak / sft-refined (SFT), dpo (preference pairs)
    labels: str = ""  # SFT recipes: the strategy whose train-prompt answers are the targets
    plan: str = ""  # DPO recipes: the pair plan whose votes are the pairs
    loss_type: str = ""  # DPO recipes: the TRL loss(es); empty: TrainConfig's default
    loss_weights: str = ""  # DPO recipes: the losses' weights (TrainConfig.loss_weights); empty: all 1
    label_smoothing: float | None = None  # DPO recipes: None smooths by the annotators' measured disagreement
    steps: int = 0  # optimizer steps; 0: RECIPE_TRAIN's (the experiment: its --train-steps)
    learning_rate: float = 0.0  # peak rate; 0: RECIPE_LEARNING_RATE (the experiment: its --learning-rate)
    min_agreement: float = 0.0  # DPO recipes: train only on pairs whose annotators agreed at least this much (a single vote: 1)
    lora_r: int = 0  # LoRA rank (alpha 2r); 0: TrainConfig's
    baseline: str = ""  # the naive recipe the experiment compares this one with (paired differences); empty: none
    purpose: str = ""  # one line: what the recipe is for

    def own_settings(self) -> dict:
        """The TrainConfig values this recipe sets itself (losses, steps, rate, rank), without the run's common ones."""
        values: dict = {}
        if self.loss_type:
            values["loss_type"] = self.loss_type
        if self.loss_weights:
            values["loss_weights"] = self.loss_weights
        if self.steps:
            values["max_steps"] = self.steps
        if self.learning_rate:
            values["learning_rate"] = self.learning_rate
        if self.lora_r:
            values["lora_r"], values["lora_alpha"] = self.lora_r, 2 * self.lora_r
        return values

    def settings(self) -> dict:
        """Every TrainConfig value a product train job of this recipe sets (the rest are TrainConfig's defaults)."""
        values = {**RECIPE_TRAIN, "learning_rate": RECIPE_LEARNING_RATE, **self.own_settings()}
        if self.plan:
            if self.label_smoothing is not None:
                values["label_smoothing"] = self.label_smoothing
            if self.min_agreement:
                values["min_agreement"] = self.min_agreement
        elif self.method == "sft-refined":
            values["refined_strategy"] = self.labels
        elif self.method == "sft-weak":
            values["weak_strategy"] = self.labels
        return values

    def describe(self) -> str:
        """One line for people: the name, what it trains on, and its purpose."""
        data = f"votes on {', '.join(f'{a} vs {b}' for a, b in plan_pairs(self.plan))}" if self.plan else f"{self.labels} outputs"
        return f"{self.name}: {self.method} on {data}" + (f" — {self.purpose}" if self.purpose else "")


RECIPES: Registry[Recipe] = Registry("recipe", (
    Recipe("sft-weak", "sft-weak", labels=WEAK, purpose="the paper's naive baseline: imitate the weak labels"),
    Recipe("sft-refined", "sft-refined", labels=ICL_REFINE, baseline="sft-weak",
           purpose="the paper's method (Algorithm 1): imitate the strong model's refinements of the weak labels"),
    Recipe("dpo-weak", "dpo", plan="naive", loss_type="robust", purpose="DPO on votes over the naive pairs (weak vs strong-base)"),
    Recipe("dpo-refined", "dpo", plan="refined", loss_type="robust", baseline="dpo-weak",
           purpose="DPO on votes over the refined pairs (concept and content questions)"),
    # the sweep's setting (results/sweeps/dpo-sweep.md): a plain sigmoid margin, the SFT term weighted up
    Recipe("dpo-refined-sft", "dpo", plan="refined", loss_type="sigmoid,sft", loss_weights="1,16", label_smoothing=0.0,
           baseline="dpo-weak", purpose="the refined votes with an SFT term that keeps the chosen answers likely"),
    # the concept pairs only (icl-refine vs strong-base) the annotators agreed on unanimously, the SFT term
    # 64x and 16 steps: the sweep's best DPO line on held-out prompts (higher rates or more steps looped;
    # without the agreement filter a quarter of the SFT targets were the plain answers)
    Recipe("dpo-concept-sft", "dpo", plan="concept", loss_type="sigmoid,sft", loss_weights="1,64", label_smoothing=0.0,
           steps=16, min_agreement=1.0, baseline="dpo-weak",
           purpose="the concept pairs the annotators agree on, with a strong SFT term: the voice without the weak facts"),
    Recipe("sft-restyle", "sft-refined", labels=ICL_RESTYLE, baseline="sft-weak",
           purpose="imitate the strong model's own answers rewritten in the weak style (formula-prone)"),
    # LoRA rank 2 and the SFT term 16x: the held-out sweep's most content (results/sweeps/dpo-sweep.md)
    Recipe("dpo-restyle-sft", "dpo", plan="restyle", loss_type="sigmoid,sft", loss_weights="1,16", label_smoothing=0.0,
           steps=16, min_agreement=1.0, lora_r=2, baseline="dpo-weak",
           purpose="votes over restyled answers; learned a formula, not a voice (results/README.md)"),
    Recipe("sft-opening", "sft-refined", labels=WEAK_OPENING, baseline="sft-weak",
           purpose="imitate plain answers begun with the weak labels' opening (a formula by construction)"),
    Recipe("dpo-opening-sft", "dpo", plan="opening", loss_type="sigmoid,sft", loss_weights="1,16", label_smoothing=0.0,
           steps=16, min_agreement=1.0, lora_r=2, baseline="dpo-weak",
           purpose="votes over opening pairs; learned a formula, not a voice (results/README.md)"),
    # the paper's Algorithms 3 and 2 as SFT labels
    Recipe("sft-ask-to-improve", "sft-refined", labels=ASK_TO_IMPROVE, baseline="sft-weak",
           purpose="the paper's Algorithm 3: imitate the weak labels with their facts fixed by the strong model"),
    Recipe("sft-infer-and-respond", "sft-refined", labels=INFER_AND_RESPOND, baseline="sft-weak",
           purpose="the paper's Algorithm 2: imitate the strong model's answers in the style it inferred"),
    # dpo-concept-sft's settings on other pairs: the annotators pick between two strong-model attempts at the concept
    Recipe("dpo-pick-sft", "dpo", plan="pick", loss_type="sigmoid,sft", loss_weights="1,64", label_smoothing=0.0,
           steps=16, min_agreement=1.0, baseline="dpo-weak",
           purpose="the annotators' pick of two strong-model attempts at the concept (icl-refine vs strong-instructed)"),
), name_of=lambda r: r.name)
DEFAULT_RECIPE = "dpo-concept-sft"


def voting_recipes() -> list[str]:
    """The recipes that train on votes (they have a pair plan), the default first: what "Create pairs" offers."""
    return sorted((r.name for r in RECIPES.values() if r.plan), key=lambda n: n != DEFAULT_RECIPE)
