"""DPO, SFT and KTO with LoRA on a causal LM, through TRL 1.16 and PEFT; resumable from checkpoints.

`train()` is the one entry point, shared by train jobs and the experiment runner. The reference
model of DPO/KTO is the trained model with its adapter disabled (no second copy in memory), and
its log-probs are computed once before training instead of at every step. Batches group examples
of similar length so little compute is spent on padding.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from peft import LoraConfig
from transformers import PrinterCallback, TrainerCallback
from transformers.trainer_pt_utils import LengthGroupedSampler
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer, SFTConfig, SFTTrainer

from storage.errors import UserError
from training import fused_head, methods
from training.config import MAX_LABEL_SMOOTHING, TrainConfig
from models.loading import load_uncached, pick_device

# what goes to the metrics table at each logging step (when the trainer reports it)
REPORTED = (
    "loss", "learning_rate", "grad_norm", "rewards/margins", "rewards/accuracies", "rewards/chosen",
    "rewards/rejected", "mean_token_accuracy", "kl",
)

StepFn = Callable[[int, int], None]  # (global_step, max_steps)
LogFn = Callable[[int, dict], None]  # (global_step, {name: value})


@dataclass
class TrainResult:
    """What a finished run produced: the adapter directory, its step count and final metrics."""

    adapter_dir: Path
    global_step: int
    resumed_from_step: int  # 0 when the run started fresh
    device: str = "cpu"
    dtype: str = "torch.float32"
    metrics: dict = field(default_factory=dict)


def label_smoothing_for(config: TrainConfig, examples: list[dict]) -> float:
    """The label-flip rate for robust DPO: the configured one, else measured annotator disagreement.

    Disagreement is 1 - mean agreement of the preference pairs (agreement = share of votes for the
    majority side), clipped to [0, MAX_LABEL_SMOOTHING]; examples without agreement count as 1.
    """
    if config.label_smoothing >= 0:
        return config.label_smoothing
    if not examples:
        return 0.0
    agreements = [1.0 if e.get("agreement") is None else float(e["agreement"]) for e in examples]
    mean_agreement = sum(agreements) / len(agreements)
    return min(max(1.0 - mean_agreement, 0.0), MAX_LABEL_SMOOTHING)


class _Reporter(TrainerCallback):
    """Forwards progress and logged metrics to the caller (job progress, metrics table, tqdm)."""

    def __init__(self, on_step: StepFn | None, on_log: LogFn | None):
        self.on_step, self.on_log_fn = on_step, on_log

    def on_train_begin(self, args, state, control, **kwargs):
        if self.on_step:
            self.on_step(state.global_step, state.max_steps)

    def on_step_end(self, args, state, control, **kwargs):
        if self.on_step:
            self.on_step(state.global_step, state.max_steps)

    def on_log(self, args, state, control, logs=None, **kwargs):
        values = {k: float(v) for k, v in (logs or {}).items() if k in REPORTED and isinstance(v, (int, float)) and math.isfinite(v)}
        if self.on_log_fn and values:
            self.on_log_fn(state.global_step, values)


def _pair_lengths(dataset) -> list[int]:
    return [len(p) + max(len(c), len(r)) for p, c, r in zip(dataset["prompt_ids"], dataset["chosen_ids"], dataset["rejected_ids"])]


class LengthGroupedDPOTrainer(DPOTrainer):
    """DPOTrainer whose batches hold pairs of similar tokenized length (less padding per step).

    Transformers' own group_by_length looks for `input_ids`, which DPO datasets do not have, so
    the lengths come from the prompt and the longer of the two answers.
    """

    def _get_train_sampler(self, train_dataset=None):
        dataset = self.train_dataset if train_dataset is None else train_dataset
        return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps, lengths=_pair_lengths(dataset))


def _common_args(config: TrainConfig, method: str, output_dir: Path, device: str, dtype: torch.dtype) -> dict:
    return dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=methods.learning_rate(config, method),
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio in transformers 5
        weight_decay=config.weight_decay,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        activation_checkpointing=config.gradient_checkpointing,
        bf16=dtype == torch.bfloat16,
        fp16=False,
        use_cpu=device == "cpu",
        max_length=config.max_length,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def lora_config(config: TrainConfig) -> LoraConfig:
    targets = config.lora_target_modules.strip()
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets if targets == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()],
        task_type="CAUSAL_LM",
    )


def dpo_trainer(config: TrainConfig, examples: list[dict], common: dict, kwargs: dict):
    """A DPO trainer (dpo, dpo-refined): robust loss by default, label smoothing from annotator agreement."""
    fused_head.score_completions_only()
    args = DPOConfig(
        **common,
        loss_type=config.losses(),  # "robust,sft": both, added up with loss_weights
        loss_weights=config.weights(),
        beta=config.beta,
        label_smoothing=label_smoothing_for(config, examples),
        precompute_ref_log_probs=config.precompute_ref_log_probs,
        # the precompute pass holds no gradients, so it can take bigger batches
        precompute_ref_batch_size=config.batch_size * 2,
    )
    cls = LengthGroupedDPOTrainer if config.group_by_length else DPOTrainer
    return cls(args=args, **kwargs)


def sft_trainer(config: TrainConfig, examples: list[dict], common: dict, kwargs: dict):
    """An SFT trainer (sft-weak, sft-refined) on prompt/completion rows, loss on the completion only."""
    args = SFTConfig(**common, train_sampling_strategy="group_by_length" if config.group_by_length else "random")
    return SFTTrainer(args=args, **kwargs)


def kto_trainer(config: TrainConfig, examples: list[dict], common: dict, kwargs: dict):
    """A KTO trainer on desirable/undesirable completions."""
    # KTO estimates its KL term from completions rotated within a batch: needs >1 example per batch, sequential order
    args = KTOConfig(
        **common,
        beta=config.beta,
        precompute_ref_log_probs=config.precompute_ref_log_probs,
        train_sampling_strategy="sequential",
    )
    return KTOTrainer(args=args, **kwargs)


def build_trainer(method: str, model, tokenizer, examples: list[dict], config: TrainConfig, output_dir: Path, device: str, callbacks=()):
    """The TRL trainer for `method` (its training.methods entry) over `examples`, with a fresh LoRA adapter."""
    entry = methods.get(method)
    dataset = methods.to_trl_dataset(method, examples)
    common = _common_args(config, method, output_dir, device, model.dtype)
    kwargs = dict(model=model, processing_class=tokenizer, train_dataset=dataset, peft_config=lora_config(config), callbacks=list(callbacks))
    return entry.trainer(config, examples, common, kwargs)


def lora_inputs_stay_bf16(model, active: bool):
    """While training a bf16 model (`active`), PEFT does not cast each LoRA layer's bf16 input to the
    adapter's fp32.

    The trainers run a bf16 model under bf16 autocast, which computes the LoRA matmuls in bf16
    whatever the input's dtype, so the cast only made one more copy of every adapted layer's input,
    kept for the backward pass. The adapter's weights and optimizer state stay fp32; outside
    training (no autocast) the casts are back, so the trained model still runs as it is.
    """
    from peft.helpers import disable_input_dtype_casting

    return disable_input_dtype_casting(model, active=active)


def last_checkpoint(folder: str | Path) -> Path | None:
    """The newest complete checkpoint in `folder`, or None.

    Transformers writes trainer_state.json last (and not atomically), so a directory without it, or with a
    file that is not whole JSON, was cut off mid-write (the worker was killed while saving) and is skipped.
    """
    folder = Path(folder)
    done = [p for p in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if _whole_json(p / "trainer_state.json")] if folder.is_dir() else []
    return max(done, key=lambda p: int(p.name.rsplit("-", 1)[1]), default=None)


def _whole_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def final_metrics(log_history: list[dict]) -> dict:
    """The last logged value of every numeric metric, plus the run's average loss as train_loss."""
    out: dict = {}
    for entry in log_history:
        for key, value in entry.items():
            if isinstance(value, (int, float)) and math.isfinite(value) and key != "epoch":
                out[key] = float(value)
    return out


def train(
    model_spec: str,
    method: str,
    examples: list[dict],
    config: TrainConfig,
    output_dir: str | Path,
    *,
    settings=None,
    adapter_dir: str | Path | None = None,
    model=None,
    tokenizer=None,
    on_step: StepFn | None = None,
    on_log: LogFn | None = None,
    resume: bool = True,
) -> TrainResult:
    """Train a LoRA adapter on `model_spec` with `method` and save it as a plain PEFT directory.

    examples: Refinery's plain dicts (see training.methods.to_trl_dataset): prompt/chosen/rejected
    for dpo and dpo-refined, prompt/completion for SFT, prompt/completion/label for kto.
    output_dir holds checkpoints; with `resume` the run continues from the newest one there, its
    global step continuing. The adapter goes to adapter_dir (default output_dir/"adapter").
    Pass `model`/`tokenizer` to skip loading (they are changed in place: a LoRA adapter is added).
    """
    if not examples:
        raise UserError(f"no training examples for {method}")
    output_dir = Path(output_dir)
    checkpoints = output_dir / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    adapter_dir = Path(adapter_dir) if adapter_dir else output_dir / "adapter"
    device = pick_device(config.device)
    if model is None:
        # a private copy: training changes it, the cached models of models.loading.load are shared
        model, tokenizer = load_uncached(model_spec, settings, device=device)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    trainer = build_trainer(method, model, tokenizer, examples, config, checkpoints, device, callbacks=[_Reporter(on_step, on_log)])
    trainer.remove_callback(PrinterCallback)  # metrics go to on_log, not stdout
    last = last_checkpoint(checkpoints) if resume else None
    with lora_inputs_stay_bf16(trainer.model, model.dtype == torch.bfloat16):
        trainer.train(resume_from_checkpoint=str(last) if last else None)
    trainer.save_model(str(adapter_dir))
    metrics = final_metrics(trainer.state.log_history)
    metrics.update(global_step=trainer.state.global_step, n_examples=len(examples))
    return TrainResult(
        adapter_dir=adapter_dir,
        global_step=trainer.state.global_step,
        resumed_from_step=int(last.name.rsplit("-", 1)[1]) if last else 0,
        device=str(next(model.parameters()).device),
        dtype=str(model.dtype),
        metrics=metrics,
    )
