"""One experiment run: every stage in order, each read back instead of run when its stored inputs match.

Stages: the weak labels and the weak model's eval answers; the strong model's eval answers without
and with the concept instruction; its plain answers, icl-refine labels and icl-restyle labels (its
plain answers rewritten in the weak examples' style) and weak-opening labels (its plain answers begun
with the weak labels' shared opening) on the train prompts;
the simulated weak annotator's verdicts on every matchup the DPO rows need (`judge`); then for each
trained row (study.experiment_rows) its training and its eval answers; with --judge, an LLM
judge's scores of every row's eval answers (`llm-judge`); then the report.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from training.config import MAX_LABEL_SMOOTHING
from study.experiment_llm_judge import llm_judge_stage
from study.experiment_report import write_report
from study.experiment_rows import EXPERIMENT_TRAIN, TRAINED, Row, strategies_needed, training_data
from study.experiment_annotators import annotator_stage
from study.experiment_stages import Stages, fingerprint, free_memory
from models.strategies import (ICL_REFINE, REFERENCES, STRATEGIES, STRONG_BASE, WEAK, WEAK_OPENING, Context,
                               example_contexts, shared_opening)


def row_train_config(cfg, row: Row, device: str, **overrides):
    """The TrainConfig a trained row of experiment `cfg` uses: EXPERIMENT_TRAIN, the run's steps, rate and
    seed (a row may set its own steps, rate and LoRA rank); a DPO row uses the row's losses and smooths its labels by the annotator's flip rate unless the
    row sets its own. `overrides` (TrainConfig fields) come last: bench/dpo_sweep.py trains a row under
    other settings with them.

    The flip rate here is a known fact, the verdict noise the simulation draws (clipped to MAX_LABEL_SMOOTHING), not
    what training.trainers.label_smoothing_for measures: that estimates an unknown rate from real annotators'
    disagreement, which a single simulated annotator per pair never shows."""
    from training.config import TrainConfig

    smoothing = min(cfg.noise, MAX_LABEL_SMOOTHING) if row.label_smoothing is None else row.label_smoothing
    values = {
        **EXPERIMENT_TRAIN, "max_steps": cfg.train_steps, "seed": cfg.seed, "learning_rate": cfg.learning_rate,
        "label_smoothing": smoothing if row.plan else 0.0, "device": device, **row.own_settings(),
    }
    return TrainConfig.from_dict({**values, **overrides}).validate()


def train_stages(strategy: str) -> tuple[str, ...]:
    """The stages of `strategy`'s train-prompt answers: its first step's (a described style), then its answers'."""
    return ((f"{strategy}-style-train",) if STRATEGIES[strategy].describe else ()) + (f"{strategy}-train",)


# the train-prompt answers every run makes: the weak labels, the default refined labels and the strong model's plain
# answers (the contrast annotator's other pole); then the rest some row learns from, in the rows' order, each made only
# when a chosen row learns from it
ALWAYS = (WEAK, ICL_REFINE, STRONG_BASE)
TRAIN_TEXTS = tuple(dict.fromkeys(ALWAYS + strategies_needed(TRAINED)))
OPTIONAL_LABELS = {s: train_stages(s) for s in TRAIN_TEXTS if s not in ALWAYS}


class Runner:
    """One experiment run over a resolved ExperimentConfig (see study.experiment)."""

    PLAN = (
        [*train_stages(WEAK), *(f"{s}-eval" for s in REFERENCES), "forced-opening-eval",
         *(n for s in TRAIN_TEXTS if s != WEAK for n in train_stages(s)), "judge"]
        + [s for r in TRAINED for s in (f"train-{r.name}", f"{r.name}-eval")]
        + ["report"]
    )

    def __init__(self, cfg, settings, store: Store, progress: Callable[[int, int, str], None] | None = None):
        self.cfg, self.settings, self.store = cfg, settings, store
        self.out = Path(cfg.out)
        self.stages = Stages(self.out)
        self.task = task_store.get_task(store, cfg.task)
        self.rows = [r for r in TRAINED if not cfg.rows or r.name in cfg.rows.split(",")]
        optional = {s for v in OPTIONAL_LABELS.values() for s in v}
        # an optional stage runs when a chosen row learns from it and is read back when the folder holds it (so a run
        # on some rows of a complete folder sees the same train texts and annotator verdicts as the complete run)
        self.needed = set(strategies_needed(self.rows)) | {
            strategy for strategy, names in OPTIONAL_LABELS.items() if all(self.stages.path(n).is_file() for n in names)}
        extra = {s for strategy in self.needed for s in OPTIONAL_LABELS.get(strategy, ())}
        self.plan = ([s for s in self.PLAN[:self.PLAN.index("judge") + 1] if s not in optional or s in extra] + [s for r in self.rows for s in (f"train-{r.name}", f"{r.name}-eval")]
                     + (["llm-judge"] if cfg.judge else []) + ["report"])
        self.prompt_set = cfg.prompt_set or self.task["prompt_set"]
        self.train, self.eval, self.eval_split = self.prompts(store)
        if len(self.train) < cfg.n_train or len(self.eval) < cfg.n_eval:
            where = "train prompts after the first --n-train" if self.eval_split == "held-out train" else f"{self.eval_split} prompts"
            raise UserError(f"task {cfg.task!r} (prompt set {self.prompt_set!r}) has {len(self.train)} train and {len(self.eval)} {where}; "
                            f"asked for --n-train {cfg.n_train} and --n-eval {cfg.n_eval}")
        self.report_progress = progress
        self.timings_path = self.out / "timings.json"
        self.timings: dict[str, float] = json.loads(self.timings_path.read_text()) if self.timings_path.is_file() else {}
        self.earlier_seconds: dict[str, float] = {}  # time killed runs spent on a stage this run resumes
        self.done = 0

    # -- helpers --

    def prompts(self, store: Store) -> tuple[list[dict], list[dict], str]:
        """(train prompts, the prompts rows are scored on, their split). --validation never looks at the eval split: it scores
        the set's validation split or, in a set without one, the train prompts after the first --n-train (as before that split)."""
        cfg, listed = self.cfg, lambda split, n: task_store.list_prompts(store, self.prompt_set, split, limit=n)
        if not cfg.validation:
            return listed("train", cfg.n_train), listed("eval", cfg.n_eval), "eval"
        if task_store.count_prompts(store, self.prompt_set, "validation"):
            return listed("train", cfg.n_train), listed("validation", cfg.n_eval), "validation"
        train = listed("train", cfg.n_train + cfg.n_eval)
        return train[:cfg.n_train], train[cfg.n_train:], "held-out train"

    def gen_params(self):
        """Greedy decoding with the run's length, batch and repetition penalty, the same for every row."""
        from models.generation import GenParams

        return GenParams(max_new_tokens=self.cfg.max_new_tokens, temperature=0.0, seed=self.cfg.seed,
                         batch_size=self.cfg.batch_size, repetition_penalty=self.cfg.repetition_penalty)

    def step(self, name: str, fn: Callable[[], object], cached: bool):
        """Run one stage (or read it back), advance progress, record its time."""
        if self.report_progress:
            self.report_progress(self.done, len(self.plan), f"{name}{' (cached)' if cached else ''}")
        start = time.perf_counter()
        value = fn()
        if not cached and name != "report":  # a resumed stage adds the time its killed runs spent
            self.timings[name] = round(time.perf_counter() - start + self.earlier_seconds.pop(name, 0.0), 1)
            self.timings_path.write_text(json.dumps(self.timings, indent=1))
        self.done += 1
        return value

    def text_key(self, spec: str, adapter_key: str | None, conversations: list) -> str:
        """Fingerprint of a generation stage: model, adapter training, prompts as messages, decoding."""
        return fingerprint(spec, adapter_key, conversations, self.gen_params().to_dict())

    def texts(self, name: str, spec: str, conversations: list, adapter: tuple[Path, str] | None = None) -> list[str]:
        """Cached generation: stage `name` holds the texts for `conversations`, generated by `spec`
        (with `adapter` = (directory, fingerprint of its training) merged in). Each answer is kept as it finishes
        (Stages.put_partial), so a run killed mid-stage generates only the rest when it resumes."""
        key = self.text_key(spec, adapter[1] if adapter else None, conversations)
        found = self.stages.get(name, key)
        if found is not None:
            return self.step(name, lambda: found, cached=True)["texts"]

        def run() -> dict:
            from tqdm import tqdm

            from models.generation import generate
            from models.loading import load, load_uncached

            if adapter is None:
                model, tokenizer = load(spec, self.settings, device=self.settings.device)
            else:
                model, tokenizer = load_uncached(spec, self.settings, device=self.settings.device, adapter_path=adapter[0])
            kept, earlier = self.stages.partial(name, key)  # answers a killed run of this stage already finished
            self.earlier_seconds[name] = earlier
            start = time.perf_counter()
            todo = [i for i in range(len(conversations)) if i not in kept]
            with tqdm(total=len(conversations), initial=len(kept), desc=name, unit="text", leave=False) as bar:

                def advance(done: int, total: int) -> None:
                    bar.update(len(kept) - bar.n)
                    if self.report_progress:
                        self.report_progress(self.done, len(self.plan), f"{name}: {len(kept)}/{len(conversations)} texts")

                def keep(i: int, text: str) -> None:
                    kept[todo[i]] = text
                    self.stages.put_partial(name, key, kept, earlier + time.perf_counter() - start)

                generate(model, tokenizer, [conversations[i] for i in todo], self.gen_params(), progress=advance, on_text=keep)
            texts = [kept[i] for i in range(len(conversations))]
            # the dtype is not in the key (a run resumes on another machine), but a reader should know it
            where = f"{model.device.type}/{str(model.dtype).replace('torch.', '')}"
            if adapter is not None:
                del model
                free_memory()
            return self.stages.put(name, key, {"model": spec, "adapter": str(adapter[0]) if adapter else None,
                                               "device_dtype": where, "texts": texts})

        return self.step(name, run, cached=False)["texts"]

    def messages(self, strategy: str, prompts: list[dict], contexts: list[Context] | None = None) -> list:
        """The conversations `strategy` sends for `prompts` (with per-prompt contexts for icl-refine, icl-restyle and weak-opening)."""
        build = STRATEGIES[strategy].build
        contexts = contexts or [Context()] * len(prompts)
        return [build(self.task, p["text"], c) for p, c in zip(prompts, contexts)]

    def model_of(self, strategy: str) -> str:
        """The model spec that runs `strategy`: the weak model for the weak labels, else the strong one."""
        return self.cfg.weak if STRATEGIES[strategy].role == "weak" else self.cfg.strong

    def train_texts(self, weak_train: list[str], opening: str) -> dict[str, list[str]]:
        """Every train-prompt answer the run makes (TRAIN_TEXTS: ALWAYS, and the rest only when needed), each strategy
        given what it takes (strategies.context_of: weak labels, ICL examples, the plain answers made before it, the
        shared opening) and, for one with a first step, the style that step described."""
        cfg, texts = self.cfg, {WEAK: weak_train}
        for name in TRAIN_TEXTS:
            if name in texts or (name not in ALWAYS and name not in self.needed):
                continue
            spec = STRATEGIES[name]
            contexts = example_contexts(self.train, weak_train, cfg.n_icl, cfg.seed, texts.get(STRONG_BASE), opening)
            if spec.describe:
                styles = self.texts(f"{name}-style-train", self.model_of(name), [spec.describe(self.task, c) for c in contexts])
                contexts = [replace(c, description=d) for c, d in zip(contexts, styles)]
            texts[name] = self.texts(f"{name}-train", self.model_of(name), self.messages(name, self.train, contexts))
        return texts

    def train_config(self, row: Row):
        """The TrainConfig of a trained row of this run (row_train_config on the run's device)."""
        return row_train_config(self.cfg, row, self.settings.device)

    def trained_texts(self, row: Row, examples: list[dict], plain: list) -> list[str]:
        """Row `row`'s eval answers: read back when its eval stage matches (no adapter needed, so a run
        resumed on another machine does not retrain), else trained (resuming checkpoints) and generated."""
        config = self.train_config(row)
        key = fingerprint(self.cfg.strong, row.method, examples, config.to_dict())
        name = f"{row.name}-eval"
        found = self.stages.get(name, self.text_key(self.cfg.strong, key, plain))
        if found is not None:
            self.step(f"train-{row.name}", lambda: None, cached=True)
            return self.step(name, lambda: found, cached=True)["texts"]
        adapter = self.train_row(row, examples, config, key)
        return self.texts(name, self.cfg.strong, plain, adapter=(adapter, key))

    def train_row(self, row: Row, examples: list[dict], config, key: str) -> Path:
        """The adapter directory of `row`, trained unless already complete.

        The fingerprint is written before training starts, so checkpoints of a killed run are
        resumed only when the data and settings are still the same; otherwise they are deleted.
        """
        out = self.stages.adapter_dir(row.name)
        adapter, key_file = out / "adapter", out / "key.txt"
        if key_file.is_file() and key_file.read_text() != key:
            shutil.rmtree(out)
        if (adapter / "adapter_config.json").is_file():
            return self.step(f"train-{row.name}", lambda: adapter, cached=True)

        def run() -> Path:
            from models.loading import load_uncached
            from training.trainers import train

            if not examples:
                raise UserError(f"{row.name}: no training examples (all pairs had identical texts)")
            out.mkdir(parents=True, exist_ok=True)
            key_file.write_text(key)
            # a private copy: LoRA layers are added to the model in place, the cached one must stay clean
            model, tokenizer = load_uncached(self.cfg.strong, self.settings, device=config.device)
            train(self.cfg.strong, row.method, examples, config, out, settings=self.settings, adapter_dir=adapter,
                  model=model, tokenizer=tokenizer)
            del model
            free_memory()  # the next stage loads the model again; on a GPU two copies may not fit
            return adapter

        return self.step(f"train-{row.name}", run, cached=False)

    # -- the run --

    def run(self) -> dict:
        """Every stage, then report.md and report.png; returns the report rows."""
        cfg = self.cfg
        weak_train = self.texts(f"{WEAK}-train", cfg.weak, self.messages(WEAK, self.train))
        evals = {s: self.texts(f"{s}-eval", self.model_of(s), self.messages(s, self.eval)) for s in REFERENCES}
        opening = shared_opening(weak_train)  # the floor a formula reaches untrained: the base made to open like the weak labels
        evals["forced-opening"] = self.texts("forced-opening-eval", cfg.strong,
                                             self.messages(WEAK_OPENING, self.eval, [Context(opening=opening)] * len(self.eval)))
        texts = self.train_texts(weak_train, opening)
        judge = self.judge(texts)
        data = {row.name: training_data(row, self.train, texts, judge["verdicts"]) for row in self.rows}
        from models.loading import clear_cache

        clear_cache()  # from here on each stage loads its own copy of the strong model; keep one in memory
        plain = self.messages(STRONG_BASE, self.eval)
        for row in self.rows:
            evals[row.name] = self.trained_texts(row, data[row.name], plain)

        judged = self.llm_judge(evals) if cfg.judge else None  # {"judge": name, "scores": ...}
        return self.step("report", lambda: write_report(self, evals, judge, {k: len(d) for k, d in data.items()}, judged),
                         cached=False)

    def llm_judge(self, evals: dict[str, list[str]]) -> dict:
        """Stage `llm-judge`: the LLM judge's scores of every row's eval answers (study.experiment_llm_judge)."""
        return llm_judge_stage(self, evals)

    def judge(self, texts: dict[str, list[str]]) -> dict:
        """Stage `judge`: the simulated weak annotators' verdicts on every matchup (study.experiment_annotators)."""
        return annotator_stage(self, texts)
