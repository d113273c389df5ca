"""The paper's weak-to-strong comparison without humans: `python app.py experiment --task pirate`.

A simulated weak annotator (the task's own scorers as judge, each verdict flipped with
probability `noise`) stands in for weak human feedback. Rows of the report:

- weak model: the weak teacher with the concept instruction (the weak labels' quality);
- strong base / strong instructed: the strong model without and with the concept instruction;
- sft-weak: SFT on the weak labels (the paper's naive baseline);
- sft-refined: SFT on icl-refine outputs (the paper's method, Algorithm 1);
- dpo: DPO on the simulated annotator's preferences between the weak label and the icl-refine
  output of each train prompt (the pair Refinery schedules for humans), robust loss with
  label smoothing = noise;
- dpo-refined: DPO with chosen = icl-refine output, rejected = weak label, no judge.

Trained rows answer the plain eval prompt (the concept must now be in the weights). Every stage
writes its result into the results folder (`stages/*.json`, `adapters/<method>/`) and is skipped
when present, so a killed run resumes where it stopped. The folder's `config.json` pins the
settings; running again into it with different ones is refused.

Training is cut to `EXPERIMENT_TRAIN` (a few LoRA steps) so that one task at the default size
aims to fit in an hour on the embedded models on an otherwise idle 2-core CPU; `--train-steps`
changes it. report.md lists the time every stage took. The same
command runs with hub model specs (e.g. `--weak Qwen/Qwen2.5-0.5B-Instruct --strong
Qwen/Qwen2.5-7B-Instruct`) on a GPU.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from storage import evaluations as eval_store
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from training import report
from training.config import DEFAULT_LR, MAX_LABEL_SMOOTHING
from training.evaluation import score_texts, summarize_scores
from training.jobs import JobContext, handler
from training.strategies import STRATEGIES, Context, select_examples

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
METHODS = ("sft-weak", "sft-refined", "dpo", "dpo-refined")
ROW_NAMES = {"weak": "weak model", "strong-base": "strong base", "strong-instructed": "strong instructed"}
N_SAMPLES = 2  # eval prompts whose answers report.md quotes, one per row
# Few LoRA steps: 16 steps of 4 examples cover the 64 default train prompts once. A DPO step of 4
# pairs costs ~100 s on the 1.5B in fp32 on 2 cores (~60 s on the 0.5B), so a DPO row is ~30 min
# there; SFT rows need no reference pass and cost about 40% of that.
# The train command's rates (5e-5 DPO, 2e-4 SFT) suit hundreds of steps; in 4 steps they moved no
# trained row of the 0.5B or 1.5B model. 1e-3 moves the 0.5B's sft-weak to concept 0.88 in 8 steps.
EXPERIMENT_LR = 1e-3
EXPERIMENT_TRAIN = {"max_steps": 16, "batch_size": 4, "max_length": 384, "save_steps": 4, "logging_steps": 1}


@dataclass
class ExperimentConfig:
    """Settings of one experiment run (stored in the results folder's config.json)."""

    task: str = field(default="pirate", metadata={"help": "task to run"})
    weak: str = field(default="", metadata={"help": "weak model spec (default: settings.weak_model)"})
    strong: str = field(default="", metadata={"help": "strong model spec (default: settings.strong_model)"})
    n_train: int = field(default=64, metadata={"help": "train prompts: weak labels, refinement, training data"})
    n_eval: int = field(default=32, metadata={"help": "eval prompts every row is scored on"})
    noise: float = field(default=0.2, metadata={"help": "probability the simulated annotator flips a verdict"})
    n_icl: int = field(default=4, metadata={"help": "weak-labelled examples in context for icl-refine"})
    max_new_tokens: int = field(default=128, metadata={"help": "longest generated answer, in tokens"})
    batch_size: int = field(default=32, metadata={"help": "prompts per generation batch"})
    train_steps: int = field(default=EXPERIMENT_TRAIN["max_steps"], metadata={"help": "LoRA optimizer steps per trained row"})
    learning_rate: float = field(default=EXPERIMENT_LR, metadata={"help": "peak LoRA learning rate of every trained row (0: the train command's per-method default)"})
    seed: int = field(default=0, metadata={"help": "seed of example choice, annotator flips, training and bootstrap"})
    out: str = field(default="", metadata={"help": "results folder (default: results/<task>-<strong>)"})

    def resolved(self, settings) -> "ExperimentConfig":
        """A copy with model specs and the results folder filled in; UserError on impossible values."""
        cfg = dataclasses.replace(self, weak=self.weak or settings.weak_model, strong=self.strong or settings.strong_model)
        if not cfg.out:
            cfg.out = str(RESULTS / f"{cfg.task}-{_slug(cfg.strong)}")
        if cfg.n_train < cfg.n_icl + 1 or cfg.n_eval < 1:
            raise UserError(f"need --n-train > --n-icl ({cfg.n_icl}) and --n-eval >= 1")
        if not 0.0 <= cfg.noise < 0.5:
            raise UserError("--noise must be in [0, 0.5): at 0.5 the annotator's verdicts carry no information")
        if cfg.train_steps < 1 or cfg.max_new_tokens < 1 or cfg.batch_size < 1:
            raise UserError("--train-steps, --max-new-tokens and --batch-size must be at least 1")
        if cfg.learning_rate < 0:
            raise UserError("--learning-rate must not be negative")
        return cfg

    def pinned(self) -> dict:
        """The settings a cached stage depends on (everything but the output folder)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "out"}


def _rate(value: float) -> str:
    """A learning rate as people write it: 5e-5, not 5e-05."""
    return f"{value:.0e}".replace("e-0", "e-")


def _slug(spec: str) -> str:
    """A short name of a model spec: an embedded name as is, the last part of a hub id or path."""
    return spec.rstrip("/").split("/")[-1].replace(" ", "_")


# --- pure parts ---------------------------------------------------------------------------------


def simulated_verdicts(utilities: list[tuple[float, float]], noise: float, seed: int) -> list[dict]:
    """The simulated weak annotator: for each (utility_a, utility_b), prefer the higher one (a coin
    toss on a tie), then flip the verdict with probability `noise`. Returns {prefers_a, flipped, clean}."""
    rng = random.Random(seed)
    out = []
    for ua, ub in utilities:
        clean = rng.random() < 0.5 if ua == ub else ua > ub
        flipped = rng.random() < noise
        out.append({"prefers_a": clean != flipped, "flipped": flipped, "clean": clean})
    return out


def utility(concept: float | None, content: float | None) -> float:
    """What the simulated annotator maximises: concept plus content, as the task guidelines ask for both."""
    return (concept or 0.0) + (content or 0.0)


def sft_examples(prompts: list[dict], labels: list[str]) -> list[dict]:
    """SFT examples (training.datasets format) on the bare prompt: the concept must go into the weights."""
    return [{"id": p["id"], "prompt": p["text"], "completion": t} for p, t in zip(prompts, labels)]


def preference_examples(prompts: list[dict], chosen: list[str], rejected: list[str]) -> list[dict]:
    """Preference examples (training.datasets format), skipping pairs whose two texts are identical."""
    return [
        {"id": p["id"], "prompt": p["text"], "chosen": c, "rejected": r, "agreement": None}
        for p, c, r in zip(prompts, chosen, rejected)
        if c.strip() != r.strip()
    ]


# --- stages -------------------------------------------------------------------------------------


def fingerprint(*parts) -> str:
    """A stable hash of a stage's inputs: a cached result counts only when its inputs hash the same."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:16]


class Stages:
    """The results folder: stage files written atomically and read back on resume.

    Each file records the fingerprint of its inputs (model, prompts as messages, settings, upstream
    texts); one whose inputs changed (say, a strategy's wording) is stale and runs again.
    """

    def __init__(self, out: Path):
        self.out = out
        (out / "stages").mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.out / "stages" / f"{name}.json"

    def get(self, name: str, key: str) -> dict | None:
        """The stage's stored value if its inputs had fingerprint `key`, else None."""
        path = self.path(name)
        value = json.loads(path.read_text()) if path.is_file() else None
        return value if value is not None and value.get("key") == key else None

    def put(self, name: str, key: str, value: dict) -> dict:
        """Store the stage's value with its inputs' fingerprint."""
        path = self.path(name)
        tmp = path.with_suffix(".tmp")
        value = {"key": key, **value}
        tmp.write_text(json.dumps(value, indent=1, ensure_ascii=False))
        os.replace(tmp, path)  # a kill mid-write never leaves a half stage behind
        return value

    def adapter_dir(self, method: str) -> Path:
        return self.out / "adapters" / method


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def check_config(out: Path, cfg: ExperimentConfig) -> None:
    """Write config.json into a new results folder, or refuse one made with other settings."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "config.json"
    if path.is_file():
        old = json.loads(path.read_text())
        if old != cfg.pinned():
            changed = sorted(k for k in set(old) | set(cfg.pinned()) if old.get(k) != cfg.pinned().get(k))
            raise UserError(
                f"{out} holds a run with other settings ({', '.join(changed)}); pass another --out or delete the folder"
            )
    else:
        path.write_text(json.dumps(cfg.pinned(), indent=1))


class Runner:
    """One experiment run: stages in order, each read back instead of run when its stored inputs match."""

    PLAN = (
        ["weak-train", "weak-eval", "strong-base-eval", "strong-instructed-eval", "icl-refine-train", "judge"]
        + [s for m in METHODS for s in (f"train-{m}", f"{m}-eval")]
        + ["report"]
    )

    def __init__(self, cfg: ExperimentConfig, settings, store: Store, progress: Callable[[int, int, str], None] | None = None):
        self.cfg, self.settings, self.store = cfg, settings, store
        self.out = Path(cfg.out)
        self.stages = Stages(self.out)
        self.task = task_store.get_task(store, cfg.task)
        self.train = task_store.list_prompts(store, self.task["prompt_set"], "train", limit=cfg.n_train)
        self.eval = task_store.list_prompts(store, self.task["prompt_set"], "eval", limit=cfg.n_eval)
        if len(self.train) < cfg.n_train or len(self.eval) < cfg.n_eval:
            raise UserError(
                f"task {cfg.task!r} has {len(self.train)} train and {len(self.eval)} eval prompts; "
                f"asked for --n-train {cfg.n_train} and --n-eval {cfg.n_eval}"
            )
        self.report_progress = progress
        self.timings_path = self.out / "timings.json"
        self.timings: dict[str, float] = json.loads(self.timings_path.read_text()) if self.timings_path.is_file() else {}
        self.done = 0

    # -- helpers --

    def gen_params(self):
        from training.generation import GenParams

        return GenParams(max_new_tokens=self.cfg.max_new_tokens, temperature=0.0, seed=self.cfg.seed, batch_size=self.cfg.batch_size)

    def step(self, name: str, fn: Callable[[], object], cached: bool):
        """Run one stage (or read it back), advance progress, record its time."""
        if self.report_progress:
            self.report_progress(self.done, len(self.PLAN), f"{name}{' (cached)' if cached else ''}")
        start = time.perf_counter()
        value = fn()
        if not cached and name != "report":
            self.timings[name] = round(time.perf_counter() - start, 1)
            self.timings_path.write_text(json.dumps(self.timings, indent=1))
        self.done += 1
        return value

    def texts(self, name: str, spec: str, conversations: list, adapter: tuple[Path, str] | None = None) -> list[str]:
        """Cached generation: stage `name` holds the texts for `conversations`, generated by `spec`
        (with `adapter` = (directory, fingerprint of its training) merged in)."""
        key = fingerprint(spec, adapter[1] if adapter else None, conversations, self.gen_params().to_dict())
        found = self.stages.get(name, key)
        if found is not None:
            return self.step(name, lambda: found, cached=True)["texts"]

        def run() -> dict:
            from tqdm import tqdm

            from training.generation import generate
            from training.loading import load, load_uncached

            if adapter is None:
                model, tokenizer = load(spec, self.settings, device=self.settings.device)
            else:
                model, tokenizer = load_uncached(spec, self.settings, device=self.settings.device, adapter_path=adapter[0])
            with tqdm(total=len(conversations), desc=name, unit="text", leave=False) as bar:

                def advance(done: int, total: int) -> None:
                    bar.update(done - bar.n)
                    if self.report_progress:
                        self.report_progress(self.done, len(self.PLAN), f"{name}: {done}/{total} texts")

                texts = generate(model, tokenizer, conversations, self.gen_params(), progress=advance)
            if adapter is not None:
                del model
                _free_memory()
            return self.stages.put(name, key, {"model": spec, "adapter": str(adapter[0]) if adapter else None, "texts": texts})

        return self.step(name, run, cached=False)["texts"]

    def messages(self, strategy: str, prompts: list[dict], contexts: list[Context] | None = None) -> list:
        build = STRATEGIES[strategy].build
        contexts = contexts or [Context()] * len(prompts)
        return [build(self.task, p["text"], c) for p, c in zip(prompts, contexts)]

    def train_config(self, method: str):
        """The TrainConfig of a trained row: EXPERIMENT_TRAIN, the run's steps and seed; dpo smooths labels by the noise."""
        from training.config import TrainConfig

        smoothing = min(self.cfg.noise, MAX_LABEL_SMOOTHING) if method == "dpo" else 0.0
        return TrainConfig.from_dict({
            **EXPERIMENT_TRAIN, "max_steps": self.cfg.train_steps, "seed": self.cfg.seed, "learning_rate": self.cfg.learning_rate,
            "label_smoothing": smoothing, "device": self.settings.device,
        }).validate()

    def trained(self, method: str, examples: list[dict]) -> tuple[Path, str]:
        """(adapter directory, fingerprint of its training) of `method`, trained unless already complete.

        The fingerprint is written before training starts, so checkpoints of a killed run are
        resumed only when the data and settings are still the same; otherwise they are deleted.
        """
        out = self.stages.adapter_dir(method)
        adapter, key_file = out / "adapter", out / "key.txt"
        config = self.train_config(method)
        key = fingerprint(self.cfg.strong, method, examples, config.to_dict())
        if key_file.is_file() and key_file.read_text() != key:
            shutil.rmtree(out)
        if (adapter / "adapter_config.json").is_file():
            return self.step(f"train-{method}", lambda: (adapter, key), cached=True)

        def run() -> tuple[Path, str]:
            from training.loading import load_uncached
            from training.trainers import train

            if not examples:
                raise UserError(f"{method}: no training examples (all pairs had identical texts)")
            out.mkdir(parents=True, exist_ok=True)
            key_file.write_text(key)
            # a private copy: LoRA layers are added to the model in place, the cached one must stay clean
            model, tokenizer = load_uncached(self.cfg.strong, self.settings, device=config.device)
            train(self.cfg.strong, method, examples, config, out, settings=self.settings, adapter_dir=adapter,
                  model=model, tokenizer=tokenizer)
            del model
            _free_memory()  # the next stage loads the model again; on a GPU two copies may not fit
            return adapter, key

        return self.step(f"train-{method}", run, cached=False)

    # -- the run --

    def run(self) -> dict:
        """Every stage, then report.md and report.png; returns the report rows."""
        cfg = self.cfg
        weak_train = self.texts("weak-train", cfg.weak, self.messages("weak", self.train))
        evals = {"weak": self.texts("weak-eval", cfg.weak, self.messages("weak", self.eval))}
        for strategy in ("strong-base", "strong-instructed"):
            evals[strategy] = self.texts(f"{strategy}-eval", cfg.strong, self.messages(strategy, self.eval))

        labels = {p["id"]: t for p, t in zip(self.train, weak_train)}
        contexts = [
            Context(examples=tuple((e["text"], labels[e["id"]]) for e in select_examples(self.train, p, cfg.n_icl, cfg.seed)))
            for p in self.train
        ]
        refined = self.texts("icl-refine-train", cfg.strong, self.messages("icl-refine", self.train, contexts))
        judge = self.judge(weak_train, refined)

        prefers_refined = [v["prefers_a"] for v in judge["verdicts"]]
        data = {
            "sft-weak": sft_examples(self.train, weak_train),
            "sft-refined": sft_examples(self.train, refined),
            "dpo": preference_examples(
                self.train,
                [r if pr else w for w, r, pr in zip(weak_train, refined, prefers_refined)],
                [w if pr else r for w, r, pr in zip(weak_train, refined, prefers_refined)],
            ),
            "dpo-refined": preference_examples(self.train, refined, weak_train),
        }
        from training.loading import clear_cache

        clear_cache()  # from here on each stage loads its own copy of the strong model; keep one in memory
        plain = self.messages("strong-base", self.eval)
        for method in METHODS:
            adapter = self.trained(method, data[method])
            evals[method] = self.texts(f"{method}-eval", cfg.strong, plain, adapter=adapter)

        return self.step("report", lambda: self.write_report(evals, judge, {m: len(d) for m, d in data.items()}), cached=False)

    def judge(self, weak_train: list[str], refined: list[str]) -> dict:
        """Stage `judge`: the simulated annotator's verdicts on (icl-refine output, weak label) per train prompt."""
        key = fingerprint(weak_train, refined, self.cfg.noise, self.cfg.seed, self.task["concept_scorer"], self.task["content_scorer"])
        found = self.stages.get("judge", key)
        if found is not None:
            return self.step("judge", lambda: found, cached=True)

        def utilities_of(texts: list[str]) -> list[float]:
            s = score_texts(self.task, self.train, texts)
            return [utility(s["concept"][i] if s["concept"] else None, s["content"][i] if s["content"] else None)
                    for i in range(len(texts))]

        def run() -> dict:
            utilities = list(zip(utilities_of(refined), utilities_of(weak_train)))
            verdicts = simulated_verdicts(utilities, self.cfg.noise, self.cfg.seed)
            return self.stages.put("judge", key, {"a": "icl-refine", "b": "weak", "utilities": utilities, "verdicts": verdicts})

        return self.step("judge", run, cached=False)

    def write_report(self, evals: dict[str, list[str]], judge: dict, n_examples: dict[str, int]) -> dict:
        """Score every row, write report.md and report.png, store evaluations; returns the rows."""
        rows = []
        for key, texts in evals.items():
            summary = summarize_scores(score_texts(self.task, self.eval, texts), seed=self.cfg.seed)
            rows.append({"name": ROW_NAMES.get(key, key), "key": key, **summary})
        rows = report.add_ratios(rows)
        cfg = self.cfg
        title = f"{cfg.task}: weak {_slug(cfg.weak)} → strong {_slug(cfg.strong)}"
        setup = (
            f"{cfg.n_train} train / {cfg.n_eval} eval prompts, simulated annotator noise {cfg.noise}, "
            f"{cfg.n_icl} ICL examples, {cfg.train_steps} LoRA steps per trained row, greedy, "
            f"max {cfg.max_new_tokens} new tokens, seed {cfg.seed}; "
            f"scorers: concept `{self.task['concept_scorer']}`, content `{self.task['content_scorer']}`."
        )
        verdicts = judge["verdicts"]
        flips = sum(v["flipped"] for v in verdicts)
        details = "\n".join([
            "### Details",
            "",
            f"- Simulated annotator: {sum(v['prefers_a'] for v in verdicts)}/{len(verdicts)} verdicts prefer the "
            f"icl-refine output over the weak label ({flips} flipped by noise).",
            f"- Training examples per row: {', '.join(f'{m} {n}' for m, n in n_examples.items())}.",
            f"- Training config: {json.dumps({**EXPERIMENT_TRAIN, 'max_steps': cfg.train_steps, 'learning_rate': cfg.learning_rate})} "
            f"(learning rate 0: {_rate(DEFAULT_LR['dpo'])} DPO, {_rate(DEFAULT_LR['sft-weak'])} SFT; rest: TrainConfig defaults; "
            f"dpo uses label smoothing = noise, clipped to {MAX_LABEL_SMOOTHING}).",
            "- Concept transferred = (concept − strong base) / (weak − strong base); "
            "content kept = (content − weak) / (strong base − weak).",
            f"- Stage times (s, when each stage last ran; total {sum(self.timings.values()) / 60:.1f} min): "
            + ", ".join(f"{k} {v}" for k, v in self.timings.items()) + ".",
            "",
            "### Example answers (first eval prompts, cut at 300 characters)",
            *[line for i, p in enumerate(self.eval[:N_SAMPLES]) for line in self.samples(p, {k: t[i] for k, t in evals.items()})],
        ])
        (self.out / "report.md").write_text(report.report_markdown(title, setup, rows, details))
        report.plot(rows, self.out / "report.png", title)
        self.store_evaluations(rows)
        return {"rows": rows, "out": str(self.out)}

    @staticmethod
    def samples(prompt: dict, answers: dict[str, str]) -> list[str]:
        """Markdown lines quoting each row's answer to `prompt` (one line each, no HTML)."""
        def quote(text: str) -> str:
            flat = " ".join(text.split())
            flat = flat[:300] + ("…" if len(flat) > 300 else "")
            return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        return ["", f"**{quote(prompt['text'])}**", ""] + [f"- *{ROW_NAMES.get(k, k)}*: {quote(t)}" for k, t in answers.items()]

    def store_evaluations(self, rows: list[dict]) -> None:
        """One evaluations row per report row, so the Results tab plots experiment runs beside evaluate jobs."""
        run = self.out.name
        for r in rows:
            key = r["key"]
            if key in METHODS:
                model, strategy = f"{run}/{key}", "strong-base"
            else:
                model, strategy = (self.cfg.weak if key == "weak" else self.cfg.strong), key
            eval_store.add_evaluation(
                self.store, self.task["id"], model, strategy, len(self.eval), r["concept"], r["content"],
                details={"experiment": str(self.out), "row": r["name"], "prompt_ids": [p["id"] for p in self.eval]},
            )


def run_experiment(cfg: ExperimentConfig, settings, store: Store, progress=None) -> dict:
    """Run (or resume) an experiment; returns {"rows": [...], "out": folder}."""
    from feedback.tasks import sync_shipped

    sync_shipped(store)
    cfg = cfg.resolved(settings)
    check_config(Path(cfg.out), cfg)
    return Runner(cfg, settings, store, progress).run()


@handler("experiment")
def run_job(ctx: JobContext) -> dict:
    """Worker entry point: job params are ExperimentConfig fields."""
    cfg = ExperimentConfig(**ctx.params)
    result = run_experiment(cfg, ctx.settings, ctx.store, progress=lambda i, n, msg: ctx.progress(i, n, msg))
    return {"out": result["out"], "rows": [
        {k: r[k] for k in ("name", "concept", "content", "transferred", "kept")} for r in result["rows"]
    ]}


# --- command line -------------------------------------------------------------------------------


def cli(parser) -> None:
    """`experiment`: run the comparison here (with a progress bar), or rewrite README's results block."""
    for f in dataclasses.fields(ExperimentConfig):
        flag = "--" + f.name.replace("_", "-")
        shown = f" (default: {f.default})" if f.default != "" else ""
        parser.add_argument(flag, type=type(f.default), default=f.default, help=f.metadata["help"] + shown)
    parser.add_argument(
        "--update-readme", action="store_true",
        help="instead of running, rewrite README.md's results block from every results/*/report.md",
    )
    parser.set_defaults(func=_run)


def _run(args) -> int:
    if args.update_readme:
        changed = report.update_readme(ROOT / "README.md", RESULTS)
        print("README.md results block " + ("updated" if changed else "already up to date"))
        return 0
    from tqdm import tqdm

    cfg = ExperimentConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ExperimentConfig)})
    store = Store(args.settings.db_path)
    with tqdm(unit="stage") as bar:

        def progress(i: int, n: int, msg: str) -> None:
            bar.total = n
            bar.n = i
            bar.set_description(msg)
            bar.refresh()

        result = run_experiment(cfg, args.settings, store, progress)
        bar.n = bar.total
        bar.refresh()
    print((Path(result["out"]) / "report.md").read_text())
    print(f"wrote {result['out']}/report.md and report.png")
    return 0
