"""TrainConfig: every knob of a training run, with help text; CLI flags and TOML files derive from it.

Defaults are chosen for the embedded strong model (Qwen2.5-Coder-1.5B, bf16) on a 2-core CPU:
a 64-pair, one-epoch DPO job should finish in minutes, not hours. Precedence when building a
config: field defaults < TOML file < command-line flags given explicitly.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import confargs
from models.strategies import ICL_REFINE, WEAK
from storage.errors import UserError
from storage.tasks import SPLITS

MAX_LABEL_SMOOTHING = 0.4  # robust DPO needs < 0.5; beyond 0.4 the labels are too noisy to learn from


def _f(default, help_text: str, **extra):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help_text, **extra})
    return field(default=default, metadata={"help": help_text, **extra})


@dataclass
class TrainConfig:
    """Hyperparameters, data filters and run settings of one training job."""

    # --- data ---
    min_agreement: float = _f(0.0, "keep only preference pairs whose annotator agreement is at least this (0-1)")  # 0: all majority votes count
    exclude_failed_gold: bool = _f(False, "drop votes of annotators who fail gold checks")  # off: a fresh task has no gold pairs yet
    split: str = _f("train", "prompt split to train on: train, validation or eval", choices=SPLITS)  # validation and eval stay held out: validation chooses rows, rates and steps, eval is scored once
    refined_strategy: str = _f(ICL_REFINE, "strategy whose outputs are the refined labels (sft-refined, dpo-refined)")  # the paper's Algorithm 1
    weak_strategy: str = _f(WEAK, "strategy whose outputs are the weak labels (sft-weak, dpo-refined)")  # the weak teacher's answers
    max_examples: int = _f(0, "use at most this many examples (0: all)")  # 0: no cap
    kto_threshold: int = _f(4, "kto: a 1-5 rating at or above this is desirable; at or below 6 minus it, undesirable")  # 4/2 split, 3 is neutral
    # --- model and LoRA ---
    model: str = _f("", "model spec to train (default: the strong model from settings)")  # empty: settings.strong_model
    lora_r: int = _f(8, "LoRA rank")  # r=8 is enough for a style; larger ranks only cost time here
    lora_alpha: int = _f(16, "LoRA scaling alpha")  # alpha = 2r, the usual pairing
    lora_dropout: float = _f(0.0, "dropout on the LoRA input")  # TRL disables model dropout for DPO; keep LoRA consistent
    lora_target_modules: str = _f("all-linear", "comma-separated module names to adapt, or all-linear")  # every projection, lm_head excluded
    # --- optimisation ---
    learning_rate: float = _f(0.0, "peak learning rate (0: 5e-5 for DPO/KTO, 2e-4 for SFT)")  # 0: per-method default, training.methods
    num_train_epochs: float = _f(1.0, "passes over the data")  # one epoch: weak labels are noisy, more passes memorise them
    max_steps: int = _f(-1, "stop after this many optimizer steps (-1: run the epochs)")  # -1: epochs decide
    batch_size: int = _f(4, "preference pairs (or examples) per optimizer step, per device")  # 4 pairs = 8 sequences: good CPU throughput without long padding
    gradient_accumulation_steps: int = _f(1, "micro-batches per optimizer step")  # 1: small data, every step counts
    lr_scheduler_type: str = _f("cosine", "learning-rate schedule (transformers name)")  # smooth decay over few steps
    warmup_ratio: float = _f(0.0, "fraction of steps spent warming up the learning rate")  # 0: transformers' warmup runs its first step at rate 0, a tenth of an 8-step job
    weight_decay: float = _f(0.0, "AdamW weight decay")  # LoRA weights start at zero; decay only slows them
    max_length: int = _f(512, "truncate prompt+answer to this many tokens")  # covers the shipped prompts and answers; bounds step time
    seed: int = _f(0, "random seed (LoRA init, data order)")  # fixed for reproducible runs
    # --- preference loss ---
    loss_type: str = _f("robust", "DPO loss (TRL name): robust, sigmoid, ipo, hinge, ...; several joined by commas are added up (robust,sft also keeps the chosen answers likely)")  # robust to flipped labels: human feedback here is weak by design
    loss_weights: str = _f("", "weights of the losses in loss_type, comma-separated in the same order (empty: all 1)")  # e.g. 1,4: the SFT term of robust,sft counts four times
    beta: float = _f(0.1, "DPO beta: higher keeps the model closer to the reference")  # TRL's and the DPO paper's default
    label_smoothing: float = _f(-1.0, "assumed label-flip rate for robust/exo losses (-1: measured annotator disagreement, clipped to [0, 0.4])")  # -1: measured
    precompute_ref_log_probs: bool = _f(True, "compute reference log-probs once before training instead of every step")  # saves a forward pass per step and epoch
    group_by_length: bool = _f(True, "batch examples of similar length together to avoid padding")  # padding is pure waste on a CPU
    # --- run ---
    gradient_checkpointing: bool = _f(False, "trade compute for memory (needed only for big models on small GPUs)")  # off: recomputing activations costs ~30% time
    logging_steps: int = _f(1, "record loss and reward metrics every this many steps")  # every step: steps are slow, plots should move
    save_steps: int = _f(8, "write a resumable checkpoint every this many steps")  # ~2 pairs-batches of 1.5B work at risk on a CPU
    save_total_limit: int = _f(2, "keep at most this many checkpoints")  # the last one plus one in case it was cut mid-write
    device: str = _f("auto", "auto, cpu or cuda")  # auto: cuda when present

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A config from a dict (TOML table, job params); UserError names unknown keys and bad values."""
        return confargs.from_dict(cls, values, "training settings", hint="see `python app.py train --help`")

    @classmethod
    def from_toml(cls, path: str | Path) -> "TrainConfig":
        """A config from a TOML file: top-level keys, or a [train] table."""
        data = confargs.read_toml(path)
        return cls.from_dict(data.get("train", data))

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field."""
        return dataclasses.asdict(self)

    def losses(self) -> list[str]:
        """The TRL loss names of loss_type ("robust,sft" -> ["robust", "sft"])."""
        return [t.strip() for t in self.loss_type.split(",") if t.strip()]

    def weights(self) -> list[float] | None:
        """loss_weights as numbers, or None for equal weights; UserError on a non-number."""
        if not self.loss_weights.strip():
            return None
        try:
            return [float(w) for w in self.loss_weights.split(",")]
        except ValueError:
            raise UserError(f"loss_weights must be numbers separated by commas, got {self.loss_weights!r}") from None

    def validate(self) -> "TrainConfig":
        """Raise UserError on values no run could use; returns self."""
        checks = [
            (0.0 <= self.min_agreement <= 1.0, "min_agreement must be between 0 and 1"),
            (self.lora_r > 0, "lora_r must be positive"),
            (self.batch_size > 0, "batch_size must be positive"),
            (self.num_train_epochs > 0 or self.max_steps > 0, "give num_train_epochs > 0 or max_steps > 0"),
            (self.learning_rate >= 0, "learning_rate must not be negative"),
            (self.label_smoothing < 0.5, "label_smoothing must be below 0.5 (or -1 for measured)"),
            (self.save_steps > 0, "save_steps must be positive"),
            (self.max_length > 16, "max_length is too short to hold a prompt and an answer"),
            (self.device in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda"),
            (self.weights() is None or len(self.weights()) == len(self.losses()), "give one loss weight per loss in loss_type"),
            (self.split in SPLITS, f"split must be one of {', '.join(SPLITS)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message)
        return self


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one --flag per TrainConfig field; unset flags stay out of the namespace (SUPPRESS)."""
    confargs.add_arguments(parser, TrainConfig, "tc_", "training settings (TrainConfig; also settable in --config FILE.toml)")


def from_args(args: argparse.Namespace, toml_path: str | Path | None = None, base: dict | None = None) -> TrainConfig:
    """The config given by defaults, then `base` (a recipe's settings), then the TOML file, then the flags the user typed."""
    values = dict(base or {})
    if toml_path:
        TrainConfig.from_toml(toml_path)  # refuses unknown keys and bad values, naming the file's problem
        data = confargs.read_toml(toml_path)
        values.update(data.get("train", data))
    values.update(confargs.typed_flags(args, TrainConfig, "tc_"))
    return TrainConfig.from_dict(values).validate()
