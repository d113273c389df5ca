"""The paper's weak-to-strong comparison without humans: `python app.py experiment --task pirate`.

A simulated weak annotator (feedback.simulated_annotator) stands in for weak human feedback. By default
(`--annotator contrast`) it perceives the concept through a word contrast learned from the run's own train
texts (feedback.contrast_view: the weak model's answers against the strong base's; not the eval scorer,
fitted to no labels), and the content only as a verdict that is a coin toss with probability
`content_noise`, then flips verdicts with probability `noise`. `--annotator judge` perceives the concept
through a pairwise LLM judge (below chance on the concept at 1.5B, results/calibration/judge-pairs.md);
`--annotator scorer` through the eval scorer itself, as the runs committed before either did (their
folders keep it). Rows of the report:

- weak model: the weak teacher with its cue and demonstrations (the weak labels' quality);
- strong base / strong instructed: the strong model without and with the concept instruction
  (a trained row matters only if it beats prompting);
- the trained rows of study.experiment_rows: sft-weak, sft-refined, dpo-weak, dpo-refined,
  dpo-refined-sft, each answering the plain eval prompt.

Beside each row's interval, paired bootstrap intervals of refined − naive answer the paper's question
on the same eval prompts. Every stage writes its result into the results folder (`stages/*.json`,
`adapters/<row>/`) and is skipped when present, so a killed run resumes where it stopped, and a
committed folder resumes on another machine without retraining rows whose eval stage is there. The
folder's `config.json` pins the settings; running again into it with different ones is refused.

The prompts come from the task's own prompt set unless `--prompt-set` names another (e.g. `wide`,
data/prompts/README.md); only then is the set pinned in config.json, so runs made before the option
keep their config. `--validation` scores the set's validation split instead of its eval split, for
choosing rows, rates and steps (a set without one: the train prompts after the first --n-train).

Training is cut to a few LoRA steps (`--train-steps`) so that a run fits a 2-core CPU;
report.md lists the time every stage took. The same command runs with hub model specs (e.g.
`--weak Qwen/Qwen2.5-0.5B-Instruct --strong Qwen/Qwen2.5-7B-Instruct`) on a GPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import confargs
from feedback.simulated_annotator import ANNOTATORS, DEFAULT_CONTENT_NOISE, DEFAULT_NOISE
from models.gen_params import DEFAULT_REPETITION_PENALTY
from models.generate_spec import DEFAULT_N_ICL
from storage.db import Store
from storage.errors import UserError
from study import report
from study.experiment_report import slug
from storage.terms import AXES
from study.experiment_rows import EXPERIMENT_TRAIN, ROWS
from study.experiment_runner import Runner
from study.experiment_stages import check_config
from jobs import JobContext, handler

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
# The train command's rates (5e-5 DPO, 2e-4 SFT) suit hundreds of steps; in 4 steps they moved no
# trained row of the 0.5B or 1.5B model. 1e-3 moves the 0.5B's sft-weak to concept 0.88 in 8 steps.
EXPERIMENT_LR = 1e-3
# The 135M weak model's greedy answers loop ("It's a spell of magic, aye! It's a spell of magic, aye!")
# in about half its pirate labels; labels that loop teach loops. A mild penalty on tokens the answer
# already holds, the same for every row, keeps labels and answers readable; repetition is still reported.
# The product's default (models.gen_params), so that what the experiment measures is what generate does.
EXPERIMENT_REPETITION_PENALTY = DEFAULT_REPETITION_PENALTY
# Three votes per pair, as the product collects several per pair: a majority and its agreement let a
# row train on the pairs the weak annotators agree on (held-out sweep, results/sweeps/dpo-sweep.md).
DEFAULT_ANNOTATORS = 3


@dataclass
class ExperimentConfig:
    """Settings of one experiment run (stored in the results folder's config.json)."""

    task: str = field(default="pirate", metadata={"help": "task to run"})
    prompt_set: str = field(default="", metadata={"help": "prompt set the train, validation and eval prompts come from (default: the task's own; see `python app.py prompts list`)"})
    weak: str = field(default="", metadata={"help": "weak model spec (default: settings.weak_model)"})
    strong: str = field(default="", metadata={"help": "strong model spec (default: settings.strong_model)"})
    n_train: int = field(default=64, metadata={"help": "train prompts: weak labels, refinement, training data"})
    n_eval: int = field(default=48, metadata={"help": "eval prompts every row is scored on"})
    noise: float = field(default=DEFAULT_NOISE, metadata={"help": "probability the simulated annotator flips a verdict"})
    content_noise: float = field(default=DEFAULT_CONTENT_NOISE, metadata={"help": "probability the simulated annotator guesses an answer's content instead of judging it (0: judges facts perfectly, 1: blind to them)"})
    annotator: str = field(default="", metadata={"help": "what perceives the concept for the simulated annotators: contrast (a word contrast learned from the run's weak and strong-base train answers; results/calibration/annotator-agreement.md), judge (a pairwise LLM judge, --annotator-model; at or below chance on the concept at 1.5B, about 20 s a pair) or scorer (the eval concept scorer itself, legacy); default: the folder's own, contrast for a new folder, scorer for one whose config.json predates this option"})
    annotator_model: str = field(default="", metadata={"help": "the judge annotator's model spec (default: the strong model); its precision is --judge-precision"})
    annotators: int = field(default=DEFAULT_ANNOTATORS, metadata={"help": "simulated weak annotators voting on each pair; the majority's verdict is the pair's (1: a single vote)"})
    n_icl: int = field(default=DEFAULT_N_ICL, metadata={"help": "weak-labelled examples in context for icl-refine"})
    max_new_tokens: int = field(default=128, metadata={"help": "longest generated answer, in tokens"})
    repetition_penalty: float = field(default=EXPERIMENT_REPETITION_PENALTY, metadata={"help": "penalty on tokens an answer already holds, for every row (1: off)"})
    batch_size: int = field(default=32, metadata={"help": "prompts per generation batch"})
    train_steps: int = field(default=EXPERIMENT_TRAIN["max_steps"], metadata={"help": "LoRA optimizer steps per trained row"})
    learning_rate: float = field(default=EXPERIMENT_LR, metadata={"help": "peak LoRA learning rate of every trained row (0: the train command's per-method default)"})
    seed: int = field(default=0, metadata={"help": "seed of example choice, annotator verdicts, training and bootstrap"})
    rows: str = field(default="", metadata={"help": "comma-separated trained rows to run (default: all of " + ", ".join(ROWS) + ")"})
    validation: bool = field(default=False, metadata={"help": "score on the prompt set's validation split instead of its eval split (for choosing rows, rates and steps); a set without one: the --n-eval train prompts after the first --n-train"})
    out: str = field(default="", metadata={"help": "results folder (default: results/<task>-<strong>)"})
    judge: str = field(default="", metadata={"help": "also score every row's eval answers with this LLM judge (model spec); report.md gets its columns"})
    judge_precision: str = field(default="auto", metadata={"help": "the judge's precision: auto (int8 on a CPU without native bf16), native or int8"})

    def resolved(self, settings, store: Store | None = None) -> "ExperimentConfig":
        """A copy with model specs and the results folder filled in; UserError on impossible values.

        With `store`, the prompt set is checked and a set equal to the task's own is cleared, so a
        run on the task's set keeps the config (and the results folder) of runs made before the option."""
        cfg = dataclasses.replace(self, weak=self.weak or settings.weak_model, strong=self.strong or settings.strong_model)
        if store is not None and cfg.prompt_set:
            from storage import tasks as task_store

            if cfg.prompt_set == task_store.get_task(store, cfg.task)["prompt_set"]:
                cfg.prompt_set = ""
            elif not task_store.count_prompts(store, cfg.prompt_set):
                raise UserError(f"unknown or empty --prompt-set {cfg.prompt_set!r}; known: {', '.join(task_store.prompt_sets(store)) or 'none'}")
        if not cfg.out:
            cfg.out = str(RESULTS / "-".join([cfg.task, *([cfg.prompt_set] if cfg.prompt_set else []), slug(cfg.strong)]))
        if not cfg.annotator:
            cfg.annotator = folder_annotator(Path(cfg.out))
        if cfg.annotator not in ANNOTATORS:
            raise UserError(f"--annotator must be one of {', '.join(ANNOTATORS)}, not {cfg.annotator!r}")
        cfg.annotator_model = (cfg.annotator_model or cfg.strong) if cfg.annotator == "judge" else ""
        if cfg.n_train < cfg.n_icl + 1 or cfg.n_eval < 1:
            raise UserError(f"need --n-train > --n-icl ({cfg.n_icl}) and --n-eval >= 1")
        if not 0.0 <= cfg.noise < 0.5:
            raise UserError("--noise must be in [0, 0.5): at 0.5 the annotator's verdicts carry no information")
        if not 0.0 <= cfg.content_noise <= 1.0:
            raise UserError("--content-noise must be in [0, 1]")
        if cfg.annotators < 1:
            raise UserError("--annotators must be at least 1")
        if cfg.train_steps < 1 or cfg.max_new_tokens < 1 or cfg.batch_size < 1:
            raise UserError("--train-steps, --max-new-tokens and --batch-size must be at least 1")
        if cfg.learning_rate < 0:
            raise UserError("--learning-rate must not be negative")
        if cfg.repetition_penalty < 1.0:
            raise UserError("--repetition-penalty must be at least 1 (1: off)")
        from judging.judge import PRECISIONS

        if cfg.judge_precision not in PRECISIONS:
            raise UserError(f"--judge-precision must be one of {', '.join(PRECISIONS)}, not {cfg.judge_precision!r}")
        unknown = [r for r in cfg.rows.split(",") if r and r not in ROWS] if cfg.rows else []
        if unknown:
            raise UserError(f"unknown --rows {', '.join(unknown)}; known: {', '.join(ROWS)}")
        return cfg

    def pinned(self) -> dict:
        """The settings every cached stage depends on: all but the output folder, the rows (which only
        choose the stages that run) and the judge (its scores are a stage keyed by the judge), so a run
        can be reported on some rows while others train, or judged after the fact. The prompt set is
        pinned only when it is not the task's own, and the annotator only when it is not the legacy scorer, so runs
        made before either option keep their config."""
        legacy = self.annotator == "scorer"
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k not in ("out", "rows", "judge", "judge_precision") and (k != "prompt_set" or v)
                and not (legacy and k in ("annotator", "annotator_model"))}


def folder_annotator(out: Path) -> str:
    """The annotator a run into `out` gets by default: the one its config.json pins, 'scorer' for a config.json that
    predates the option (so committed runs keep their verdicts), 'contrast' for a new folder."""
    import json

    path = out / "config.json"
    return json.loads(path.read_text()).get("annotator", "scorer") if path.is_file() else "contrast"


def run_experiment(cfg: ExperimentConfig, settings, store: Store, progress=None) -> dict:
    """Run (or resume) an experiment; returns {"rows": [...], "differences": [...], "out": folder}."""
    from feedback.tasks import sync_shipped

    sync_shipped(store)
    cfg = cfg.resolved(settings, store)
    check_config(Path(cfg.out), cfg.pinned())
    return Runner(cfg, settings, store, progress).run()


@handler("experiment")
def run_job(ctx: JobContext) -> dict:
    """Worker entry point: job params are ExperimentConfig fields."""
    cfg = ExperimentConfig(**ctx.params)
    result = run_experiment(cfg, ctx.settings, ctx.store, progress=lambda i, n, msg: ctx.progress(i, n, msg))
    return {"out": result["out"], "rows": [
        {k: r[k] for k in ("name", *AXES, "transferred", "kept")} for r in result["rows"]
    ]}


# --- command line -------------------------------------------------------------------------------


def cli(parser) -> None:
    """`experiment`: run the comparison here (with a progress bar), or rewrite the generated results blocks."""
    confargs.add_arguments(parser, ExperimentConfig, "exp_")
    parser.add_argument(
        "--update-readme", action="store_true",
        help="instead of running, rewrite results/README.md's results block and README.md's headline table "
        "from every results/*/report.md",
    )
    parser.set_defaults(func=_run)


def _run(args) -> int:
    if args.update_readme:
        changed = report.update_readme(RESULTS / "README.md", RESULTS)
        print("results/README.md results block " + ("updated" if changed else "already up to date"))
        changed = report.update_headline(ROOT / "README.md", RESULTS)
        print("README.md headline table " + ("updated" if changed else "already up to date"))
        return 0
    from tqdm import tqdm

    cfg = ExperimentConfig(**confargs.typed_flags(args, ExperimentConfig, "exp_"))
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
