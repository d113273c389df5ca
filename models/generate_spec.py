"""What a generate job is: its validated parameters (`Job`), how they are checked and queued, and the
params that identify each of its outputs. The job's run is models.generate_job; its command, models.generate_cli.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import jobs
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError
from storage.models import require_adapter
from models.gen_params import DEFAULT_MAX_NEW_TOKENS, DEFAULT_REPETITION_PENALTY
from models.specs import resolve
from models.strategies import get_strategy

# The experiment's ICL settings (4 weak examples from its 64 train prompts): with them the 1.5B's icl-refine candidates
# on the measured loop's 40 pirate train prompts carried a pirate voice in 22 (int8), against 14 with 3 examples from
# the first 16; the pool costs weak labels of up to 64 train prompts (the 135M's, a few seconds each)
DEFAULT_N_ICL = 4
DEFAULT_ICL_POOL = 64


@dataclass
class Job:
    """The validated parameters of a generate job (what goes in the jobs table)."""

    task: str
    strategies: list[str]
    n: int
    weak: str
    strong: str
    split: str | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    n_icl: int = DEFAULT_N_ICL
    icl_pool: int = DEFAULT_ICL_POOL
    batch_size: int = 32
    repetition_penalty: float = DEFAULT_REPETITION_PENALTY
    # int8 linear layers where they pay (models.loading.int8_pays): candidates for votes come about 1.6x faster.
    # Like bf16 against fp32 it changes how the texts are computed, not what identifies them; an evaluate
    # job turns it off, so that scores are measured on the weights as trained.
    int8: bool = True

    def gen_params(self):
        """The GenParams of every generation step of this job."""
        from models.generation import GenParams

        return GenParams(
            max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
            seed=self.seed, batch_size=self.batch_size, repetition_penalty=self.repetition_penalty,
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
        if spec.role == "weak" or spec.takes_weak_labels:
            resolve(job.weak)
        if spec.role == "strong":
            resolve(job.strong)
    if job.n < 1:
        raise UserError("--n must be at least 1")
    if job.split is not None and job.split not in task_store.SPLITS:
        raise UserError(f"split must be one of {task_store.SPLIT_NAMES}, not {job.split!r}")
    job.gen_params()  # GenParams refuses bad sampling values with a UserError
    if not task_store.count_prompts(store, task_row["prompt_set"], job.split):
        raise UserError(f"task {job.task!r} has no {job.split or ''} prompts in set {task_row['prompt_set']!r}")
    if with_examples := [s for s in job.strategies if get_strategy(s)[0].needs_examples]:
        if not 1 <= job.n_icl < job.icl_pool:
            raise UserError("--n-icl must be at least 1 and below --icl-pool (one pool prompt may be the prompt itself)")
        if task_store.count_prompts(store, task_row["prompt_set"], "train") <= job.n_icl:
            raise UserError(f"{', '.join(with_examples)} need more than {job.n_icl} train prompts in set "
                            f"{task_row['prompt_set']!r}; lower --n-icl or import train prompts")
    if with_opening := [s for s in job.strategies if get_strategy(s)[0].needs_opening]:
        if job.icl_pool < 1 or not task_store.count_prompts(store, task_row["prompt_set"], "train"):
            raise UserError(f"{', '.join(with_opening)} takes its opening from the weak labels of train prompts; set "
                            f"{task_row['prompt_set']!r} has none (or --icl-pool is below 1); import train prompts")
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
    if spec.takes_weak_labels:
        params["weak"] = job.weak
    if spec.needs_examples:
        params.update(n_icl=job.n_icl, icl_pool=job.icl_pool)
    if spec.needs_opening:
        params["icl_pool"] = job.icl_pool
    return params
