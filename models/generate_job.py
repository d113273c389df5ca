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


from storage import outputs
from storage import tasks as task_store
from storage.models import require_adapter
from storage.terms import HUMAN
from jobs import JobContext, handler
from models.strategies import STRATEGIES, STRONG_BASE, WEAK, Context, context_of, get_strategy, select_examples, shared_opening

from models.generate_spec import Job, output_params

CHUNK_BATCHES = 1  # batches per generate call: outputs are stored after every call, so a stopped job loses at most one batch


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
        model, tokenizer = load(spec, self.ctx.settings, device=self.ctx.settings.device, adapter_path=adapter_path, int8=self.job.int8)
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
    return {"weak": job.weak, "strong": job.strong, "adapter": version, "human": HUMAN}[spec.role]


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
        need_weak = {p["id"]: p for name, ps in self.todo.items() if specs[name].role == "weak" or specs[name].needs_weak_label for p in ps}
        need_weak.update({e["id"]: e for name, ps in self.todo.items() if specs[name].needs_examples
                          for p in ps for e in self.examples[p["id"]]})
        if any(ps and specs[name].needs_opening for name, ps in self.todo.items()):
            need_weak.update({p["id"]: p for p in self.pool})
        self.weak_labels = {pid: found["text"] for pid, p in need_weak.items() if (found := self.find(p, job.weak, WEAK))}
        self.weak_todo = [p for pid, p in need_weak.items() if pid not in self.weak_labels]
        need_base = {p["id"]: p for name, ps in self.todo.items() if specs[name].needs_base_answer for p in ps}
        for pid, p in need_base.items():
            found = self.find(p, job.strong, STRONG_BASE)
            if found is None and self.copy_from_other_task(p, job.strong, STRONG_BASE):
                found = self.find(p, job.strong, STRONG_BASE)
                self.shared += 1
            if found is not None:
                self.base_answers[pid] = found["text"]
        self.base_todo = [p for pid, p in need_base.items() if pid not in self.base_answers]
        if STRONG_BASE in self.todo:  # generated once, as the answers icl-restyle rewrites
            self.todo[STRONG_BASE] = [p for p in self.todo[STRONG_BASE] if p not in self.base_todo]
        self.total = len(self.weak_todo) + len(self.base_todo) + sum(
            len(ps) * (2 if specs[n].describe else 1) for n, ps in self.todo.items() if specs[n].role != "weak")
        self.skipped = sum(len(self.targets) - len(ps) for ps in self.todo.values()) - self.shared
        self.ctx.progress(0, self.total, f"{self.total} texts to generate, {self.skipped} outputs already stored, "
                                         f"{self.shared} shared from other tasks")

    def weak_labels_first(self) -> None:
        """Generate the weak labels the job's strategies need (its own weak outputs among them)."""
        job = self.job

        def store_weak(items, texts):
            for p, text in zip(items, texts):
                self.store_output(p, job.weak, WEAK, text)
                self.weak_labels[p["id"]] = text

        self.generate("weak model " + job.weak, job.weak,
                      [(p, STRATEGIES[WEAK].build(self.task, p["text"], Context())) for p in self.weak_todo], store_weak)
        pool_labels = [self.weak_labels.get(p["id"]) for p in self.pool]
        if pool_labels and None not in pool_labels:  # every pool label is known once a weak-opening strategy has work
            self.opening = shared_opening(pool_labels)

    def base_answers_first(self) -> None:
        """Generate (and store as strong-base outputs) the plain answers icl-restyle rewrites."""
        job = self.job

        def store_base(items, texts):
            for p, text in zip(items, texts):
                self.store_output(p, job.strong, STRONG_BASE, text)
                self.base_answers[p["id"]] = text

        self.generate(f"strong model {job.strong}", job.strong,
                      [(p, STRATEGIES[STRONG_BASE].build(self.task, p["text"], Context())) for p in self.base_todo], store_base)

    def context(self, p: dict, description: str | None = None) -> Context:
        """What a strategy's messages for prompt `p` may use (strategies.context_of)."""
        return context_of(p, self.weak_labels, self.examples.get(p["id"], ()), self.base_answers, self.opening, description)

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
        corrections = [o for name, spec in self.specs.items() if spec.role == "human"  # written at vote time, never generated
                       for o in outputs.list_outputs(self.store, self.task["id"], strategy=name, prompt_ids=[p["id"] for p in self.targets])]
        self.ctx.log(f"generated {self.done} texts; {self.skipped} outputs were already stored, {self.shared} shared from other tasks; "
                     f"{len(corrections)} corrections listed")
        return {"generated": self.done, "skipped": self.skipped, "shared": self.shared, "outputs": covered,
                "corrections": [o["id"] for o in corrections]}
