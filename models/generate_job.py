"""Generate jobs: run named strategies on a task's prompts and store every output.

`python app.py generate --task pirate --strategies weak,icl-refine --n 40` queues a job (a worker
runs it; `--wait` runs it here with a progress bar). The job

1. takes the first `n` prompts of the task's prompt set (of one split if given);
2. makes sure every weak label the strategies need exists: the prompts' own (`weak`,
   `ask-to-improve`) and those of the ICL examples (`icl-refine`, `infer-and-respond`), reusing
   stored ones and generating the rest with the weak model first;
3. runs each strategy's conversations through its model, loaded once, in length-sorted chunks
   of CHUNK_BATCHES batches: progress and cancellation are checked as answers finish, outputs
   stored after every chunk, so a cancelled or crashed job loses at most one chunk.

Outputs already stored for the same (prompt, model, strategy, params, seed) are skipped, so a
re-run, or a worker taking over a dead job, only does what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import confargs
from storage import jobs, outputs
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from storage.models import require_adapter
from models.gen_params import GenParams
from jobs import JobContext, handler
from models.specs import resolve
from models.strategies import STRATEGIES, Context, get_strategy, select_examples, shared_opening

DEFAULT_N_ICL = 3  # weak examples in context: enough to show the style, short enough for a CPU prefill
DEFAULT_ICL_POOL = 16  # ICL examples come from the first 16 train prompts, so few extra weak labels are needed
CHUNK_BATCHES = 1  # batches per generate call: outputs are stored after every call, so a stopped job loses at most one batch


@dataclass
class Job:
    """The validated parameters of a generate job (what goes in the jobs table)."""

    task: str
    strategies: list[str]
    n: int
    weak: str
    strong: str
    split: str | None = None
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    n_icl: int = DEFAULT_N_ICL
    icl_pool: int = DEFAULT_ICL_POOL
    batch_size: int = 32

    def gen_params(self):
        """The GenParams of every generation step of this job."""
        from models.generation import GenParams

        return GenParams(
            max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
            seed=self.seed, batch_size=self.batch_size,
        )


def make_job(store: Store, settings, task: str, strategies: list[str] | str, n: int, split: str | None = None,
             weak: str | None = None, strong: str | None = None, **gen) -> Job:
    """Validate generate parameters against the database; UserError says what is wrong, before anything is queued."""
    if isinstance(strategies, str):
        strategies = [s.strip() for s in strategies.split(",") if s.strip()]
    if not strategies:
        raise UserError("name at least one strategy, e.g. --strategies weak,icl-refine")
    job = Job(task=task, strategies=list(dict.fromkeys(strategies)), n=int(n), split=split or None,
              weak=weak or settings.weak_model, strong=strong or settings.strong_model,
              **{k: v for k, v in gen.items() if v is not None})
    task_row = task_store.get_task(store, job.task)
    for name in job.strategies:
        spec, version = get_strategy(name)
        if version is not None:
            require_adapter(store, version)
        if spec.role == "weak" or spec.needs_weak_label or spec.needs_examples or spec.needs_opening:
            resolve(job.weak)
        if spec.role == "strong":
            resolve(job.strong)
    if job.n < 1:
        raise UserError("--n must be at least 1")
    if job.split not in (None, "train", "eval"):
        raise UserError(f"split must be 'train' or 'eval', not {job.split!r}")
    job.gen_params()  # GenParams refuses bad sampling values with a UserError
    if not task_store.count_prompts(store, task_row["prompt_set"], job.split):
        raise UserError(f"task {job.task!r} has no {job.split or ''} prompts in set {task_row['prompt_set']!r}")
    if any(get_strategy(s)[0].needs_examples for s in job.strategies):
        if not 1 <= job.n_icl < job.icl_pool:
            raise UserError("--n-icl must be at least 1 and below --icl-pool (one pool prompt may be the prompt itself)")
        if task_store.count_prompts(store, task_row["prompt_set"], "train") <= job.n_icl:
            raise UserError(f"icl-refine, icl-restyle and infer-and-respond need more than {job.n_icl} train prompts in set "
                            f"{task_row['prompt_set']!r}; lower --n-icl or import train prompts")
    if any(get_strategy(s)[0].needs_opening for s in job.strategies):
        if job.icl_pool < 1 or not task_store.count_prompts(store, task_row["prompt_set"], "train"):
            raise UserError(f"weak-opening takes its opening from the weak labels of train prompts; set {task_row['prompt_set']!r} "
                            "has none (or --icl-pool is below 1); import train prompts")
    return job


def enqueue(store: Store, job: Job, created_by: str | None = None) -> int:
    """Queue a validated generate job; returns its id."""
    return jobs.enqueue(store, "generate", job.__dict__, created_by=created_by)


def output_params(job: Job, strategy: str) -> dict:
    """The params stored with (and identifying) an output of `strategy` in this job.

    Sampling controls always; the weak model and the ICL settings too where the strategy's text
    depends on them, so changing those is a new output rather than a skipped one.
    """
    params = {k: v for k, v in job.gen_params().to_dict().items() if k not in ("seed", "batch_size")}
    spec, _ = get_strategy(strategy)
    if spec.needs_weak_label or spec.needs_examples or spec.needs_opening:
        params["weak"] = job.weak
    if spec.needs_examples:
        params.update(n_icl=job.n_icl, icl_pool=job.icl_pool)
    if spec.needs_opening:
        params["icl_pool"] = job.icl_pool
    return params


class _Runner:
    """One job's run: models loaded once each, progress counted over every text generated."""

    def __init__(self, ctx: JobContext, job: Job):
        self.ctx, self.job, self.store = ctx, job, ctx.store
        self.task = task_store.get_task(self.store, job.task)
        self.gen = job.gen_params()
        self.done = self.total = 0

    def generate(self, key: str, spec: str, conversations: list, on_chunk, adapter_path: str | None = None) -> None:
        """Generate `conversations` (a list of (item, messages)) in length-sorted chunks; on_chunk(items, texts) stores them."""
        if not conversations:
            return
        from models.generation import generate
        from models.loading import load

        self.ctx.log(f"loading {key}")
        model, tokenizer = load(spec, self.ctx.settings, device=self.ctx.settings.device, adapter_path=adapter_path)
        ordered = sorted(conversations, key=lambda c: sum(len(m["content"]) for m in c[1]))
        size = self.gen.batch_size * CHUNK_BATCHES
        for start in range(0, len(ordered), size):
            self.ctx.check_cancel()
            chunk = ordered[start:start + size]
            texts = generate(model, tokenizer, [messages for _, messages in chunk], self.gen,
                             lambda n, _: self.ctx.progress(self.done + n, self.total, f"{key}: {self.done + n}/{self.total} texts"))
            on_chunk([item for item, _ in chunk], texts)
            self.done += len(chunk)

    def store_output(self, prompt: dict, model: str, strategy: str, text: str, extra: dict | None = None) -> int:
        return outputs.add_output(
            self.store, self.task["id"], prompt["id"], model, strategy, output_params(self.job, strategy),
            self.job.seed, text, extra=extra, job_id=self.ctx.id,
        )

    def copy_from_other_task(self, prompt: dict, model: str, strategy: str) -> bool:
        """Store another task's output of this prompt with the same identity as this task's; False if none."""
        params = output_params(self.job, strategy)
        for other in task_store.list_tasks(self.store):
            if other["id"] != self.task["id"] and other["prompt_set"] == self.task["prompt_set"]:
                found = outputs.find_output(self.store, other["id"], prompt["id"], model, strategy, params, self.job.seed)
                if found is not None:
                    self.store_output(prompt, model, strategy, found["text"], {**found["extra"], "copied_from": found["id"]})
                    return True
        return False

    def find(self, prompt: dict, model: str, strategy: str) -> dict | None:
        return outputs.find_output(
            self.store, self.task["id"], prompt["id"], model, strategy, output_params(self.job, strategy), self.job.seed
        )


def _model_of(job: Job, strategy: str) -> str:
    spec, version = get_strategy(strategy)
    return {"weak": job.weak, "strong": job.strong, "adapter": version, "human": "human"}[spec.role]


@handler("generate")
def run_job(ctx: JobContext) -> dict:
    """Run a generate job described by ctx.params; returns counts and the ids of the outputs it covers."""
    return produce(ctx, Job(**ctx.params)).summary()


def produce(ctx: JobContext, job: Job) -> "_Run":
    """Generate what `job` is missing as part of the job `ctx` (its progress, log and cancellation).

    The generate handler runs its own params; an evaluate job runs the generate step it needs this way.
    Returns the finished run: its `targets` prompts, `outputs_of(strategy)` and `summary()`.
    """
    run = _Run(ctx, job)
    run.plan()
    run.weak_labels_first()
    run.base_answers_first()
    for name, spec in run.specs.items():
        if spec.role not in ("weak", "human") and run.todo[name]:
            run.strategy(name, spec)
    return run


class _Run(_Runner):
    """The steps of one generate job: plan what is missing, weak labels first, then each strategy."""

    def __init__(self, ctx: JobContext, job: Job):
        super().__init__(ctx, job)
        prompt_set = self.task["prompt_set"]
        self.targets = task_store.list_prompts(ctx.store, prompt_set, job.split, limit=job.n)
        self.specs = {name: get_strategy(name)[0] for name in job.strategies}
        self.examples: dict[int, list[dict]] = {}
        self.pool: list[dict] = []  # the train prompts ICL examples and the shared opening come from
        if any(s.needs_examples or s.needs_opening for s in self.specs.values()):
            self.pool = task_store.list_prompts(ctx.store, prompt_set, "train", limit=job.icl_pool)
        if any(s.needs_examples for s in self.specs.values()):
            self.examples = {p["id"]: select_examples(self.pool, p, job.n_icl, job.seed) for p in self.targets}
        self.todo: dict[str, list[dict]] = {}
        self.weak_labels: dict[int, str] = {}
        self.opening: str | None = None  # the pool's weak labels' shared opening (weak-opening), once they are known
        self.weak_todo: list[dict] = []
        self.base_answers: dict[int, str] = {}
        self.base_todo: list[dict] = []
        self.shared = self.skipped = 0

    def plan(self) -> None:
        """What is still missing, per strategy, before any model is loaded; outputs shared across tasks are copied."""
        job, specs = self.job, self.specs
        self.todo = {
            name: [p for p in self.targets if self.find(p, _model_of(job, name), name) is None]
            for name, spec in specs.items() if spec.role != "human"
        }
        for name, ps in self.todo.items():
            if not specs[name].uses_task:  # same messages in every task: take another task's output of this prompt
                copied = [p for p in ps if self.copy_from_other_task(p, _model_of(job, name), name)]
                self.todo[name] = [p for p in ps if p not in copied]
                self.shared += len(copied)
        need_weak = {p["id"]: p for name, ps in self.todo.items() if name == "weak" or specs[name].needs_weak_label for p in ps}
        need_weak.update({e["id"]: e for name, ps in self.todo.items() if specs[name].needs_examples
                          for p in ps for e in self.examples[p["id"]]})
        if any(ps and specs[name].needs_opening for name, ps in self.todo.items()):
            need_weak.update({p["id"]: p for p in self.pool})
        self.weak_labels = {pid: found["text"] for pid, p in need_weak.items() if (found := self.find(p, job.weak, "weak"))}
        self.weak_todo = [p for pid, p in need_weak.items() if pid not in self.weak_labels]
        need_base = {p["id"]: p for name, ps in self.todo.items() if specs[name].needs_base_answer for p in ps}
        for pid, p in need_base.items():
            found = self.find(p, job.strong, "strong-base")
            if found is None and self.copy_from_other_task(p, job.strong, "strong-base"):
                found = self.find(p, job.strong, "strong-base")
                self.shared += 1
            if found is not None:
                self.base_answers[pid] = found["text"]
        self.base_todo = [p for pid, p in need_base.items() if pid not in self.base_answers]
        if "strong-base" in self.todo:  # generated once, as the answers icl-restyle rewrites
            self.todo["strong-base"] = [p for p in self.todo["strong-base"] if p not in self.base_todo]
        self.total = len(self.weak_todo) + len(self.base_todo) + sum(len(ps) * (2 if specs[n].describe else 1) for n, ps in self.todo.items() if n != "weak")
        self.skipped = sum(len(self.targets) - len(ps) for ps in self.todo.values()) - self.shared
        self.ctx.progress(0, self.total, f"{self.total} texts to generate, {self.skipped} outputs already stored, "
                                         f"{self.shared} shared from other tasks")

    def weak_labels_first(self) -> None:
        """Generate the weak labels the job's strategies need (its own weak outputs among them)."""
        job = self.job

        def store_weak(items, texts):
            for p, text in zip(items, texts):
                self.store_output(p, job.weak, "weak", text)
                self.weak_labels[p["id"]] = text

        self.generate("weak model " + job.weak, job.weak,
                      [(p, STRATEGIES["weak"].build(self.task, p["text"], Context())) for p in self.weak_todo], store_weak)
        pool_labels = [self.weak_labels.get(p["id"]) for p in self.pool]
        if pool_labels and None not in pool_labels:  # every pool label is known once a weak-opening strategy has work
            self.opening = shared_opening(pool_labels)

    def base_answers_first(self) -> None:
        """Generate (and store as strong-base outputs) the plain answers icl-restyle rewrites."""
        job = self.job

        def store_base(items, texts):
            for p, text in zip(items, texts):
                self.store_output(p, job.strong, "strong-base", text)
                self.base_answers[p["id"]] = text

        self.generate(f"strong model {job.strong}", job.strong,
                      [(p, STRATEGIES["strong-base"].build(self.task, p["text"], Context())) for p in self.base_todo], store_base)

    def context(self, p: dict, description: str | None = None) -> Context:
        """What a strategy's messages for prompt `p` may use: its weak label, its ICL examples, its
        strong-base answer, a description."""
        shots = tuple((e["text"], self.weak_labels[e["id"]]) for e in self.examples.get(p["id"], ()))
        return Context(weak_label=self.weak_labels.get(p["id"]), examples=shots, description=description,
                       base_answer=self.base_answers.get(p["id"]), opening=self.opening)

    def strategy(self, name: str, spec) -> None:
        """Generate strategy `name`'s missing outputs (its descriptions first, for Infer-and-Respond)."""
        job, todo = self.job, self.todo[name]
        model, version = _model_of(job, name), get_strategy(name)[1]
        key, spec_str, adapter_path = (f"strong model {job.strong}", job.strong, None)
        if version is not None:
            row = require_adapter(self.store, version)
            key, spec_str, adapter_path = f"model version {version}", row["base_spec"], row["path"]
        descriptions: dict[int, str] = {}
        if spec.describe:
            def store_descriptions(items, texts):
                descriptions.update({p["id"]: text for p, text in zip(items, texts)})

            self.generate(key, spec_str, [(p, spec.describe(self.task, self.context(p))) for p in todo], store_descriptions, adapter_path)

        def store_answers(items, texts):
            for p, text in zip(items, texts):
                extra = {}
                if spec.needs_examples:
                    extra["examples"] = [e["ext_id"] for e in self.examples[p["id"]]]
                if spec.describe:
                    extra["description"] = descriptions[p["id"]]
                if spec.needs_opening:
                    extra["opening"] = self.opening
                self.store_output(p, model, name, text, extra)

        self.generate(key, spec_str, [(p, spec.build(self.task, p["text"], self.context(p, descriptions.get(p["id"])))) for p in todo],
                      store_answers, adapter_path)

    def outputs_of(self, strategy: str) -> list[dict | None]:
        """The stored output of `strategy` for each target prompt, in order (None where there is none)."""
        return [self.find(p, _model_of(self.job, strategy), strategy) for p in self.targets]

    def summary(self) -> dict:
        """The job's result: counts, and the ids of every output (and correction) its prompts now have."""
        covered = [found["id"] for name, spec in self.specs.items() if spec.role != "human"
                   for p in self.targets if (found := self.find(p, _model_of(self.job, name), name))]
        corrections = (outputs.list_outputs(self.store, self.task["id"], strategy="correction", prompt_ids=[p["id"] for p in self.targets])
                       if "correction" in self.specs else [])
        self.ctx.log(f"generated {self.done} texts; {self.skipped} outputs were already stored, {self.shared} shared from other tasks; "
                     f"{len(corrections)} corrections listed")
        return {"generated": self.done, "skipped": self.skipped, "shared": self.shared, "outputs": covered,
                "corrections": [o["id"] for o in corrections]}


def export_outputs(store: Store, output_ids: list[int], path: str | Path) -> int:
    """Write outputs as JSON lines (task, prompt ext_id and text, model, strategy, params, seed, text, extra).

    The format `feedback.seed.load_seed` reads; returns the number of lines written.
    """
    lines = []
    for output_id in output_ids:
        o = outputs.get_output(store, output_id)
        prompt = task_store.get_prompt(store, o["prompt_id"])
        task = task_store.get_task_by_id(store, o["task_id"])
        lines.append(json.dumps({
            "task": task["name"], "prompt_set": prompt["prompt_set"], "prompt_ext_id": prompt["ext_id"],
            "prompt": prompt["text"], "split": prompt["split"], "model": o["model"], "strategy": o["strategy"],
            "params": o["params"], "seed": o["seed"], "text": o["text"], "extra": o["extra"],
        }, ensure_ascii=False, sort_keys=True))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def cli(parser) -> None:
    """`generate --task T --strategies a,b --n 40 [...] [--wait [--export FILE]]`."""
    names = ", ".join(n for n in STRATEGIES if n != "model") + ", model:<version>"
    parser.add_argument("--task", required=True, help="task name (see `python app.py tasks list`)")
    parser.add_argument("--strategies", required=True, help=f"comma-separated strategies: {names}")
    parser.add_argument("--n", type=int, default=40, help="how many prompts (the first n of the set or split)")
    parser.add_argument("--split", choices=("train", "eval"), help="only prompts of this split (default: both)")
    parser.add_argument("--weak", help="weak model spec (default: settings weak_model)")
    parser.add_argument("--strong", help="strong model spec (default: settings strong_model)")
    confargs.add_arguments(parser, GenParams, "gen_", only=("max_new_tokens", "temperature", "top_p", "seed"))
    parser.add_argument("--n-icl", type=int, default=DEFAULT_N_ICL, help="weak-labelled examples in context")
    parser.add_argument("--icl-pool", type=int, default=DEFAULT_ICL_POOL,
                        help="examples are drawn from this many first train prompts")
    confargs.add_arguments(parser, GenParams, "gen_", only=("batch_size",))
    parser.add_argument("--wait", action="store_true", help="run the job here with a progress bar instead of leaving it to a worker")
    parser.add_argument("--export", metavar="FILE", help="with --wait: also write the outputs to FILE as JSON lines (seed format)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Validate, queue the job, and with --wait run it here."""
    from feedback.tasks import sync_shipped

    if args.export and not args.wait:
        raise UserError("--export needs --wait (the outputs exist only once the job has run)")
    store = Store(args.settings.db_path)
    sync_shipped(store)
    job = make_job(
        store, args.settings, args.task, args.strategies, args.n, args.split, args.weak, args.strong,
        n_icl=args.n_icl, icl_pool=args.icl_pool, **confargs.typed_flags(args, GenParams, "gen_"),
    )
    job_id = enqueue(store, job, created_by="cli")
    if not args.wait:
        print(f"queued generate job {job_id}; a worker (`python app.py worker`, or `serve`) will run it")
        return 0
    from jobs.wait import run_here

    result = run_here(store, args.settings, job_id, unit="text")
    print(f"job {job_id}: generated {result['generated']} texts, {result['skipped']} outputs already stored, "
          f"{result['shared']} shared from other tasks, {len(result['outputs'])} outputs in all")
    if args.export:
        print(f"wrote {export_outputs(store, result['outputs'], args.export)} outputs to {args.export}")
    return 0
