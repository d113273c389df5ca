"""Train jobs: `python app.py train ...` queues one, the worker runs it, a model version comes out.

A train job fixes its examples on its first attempt (workdir/examples.json), so a job resumed by
another worker trains on exactly the same data, from its last checkpoint. When it ends, the
adapter is registered as a model version with its base, method, config, data snapshot and metrics.

Several GPUs: run the same command under accelerate, which trains in every process without the
queue (rank 0 registers the adapter):
    accelerate launch app.py train --task pirate --method dpo --direct [TrainConfig flags]
"""

from __future__ import annotations

import json
import os
import time

from storage import jobs
from storage import models as model_store
from storage import tasks as task_store
from storage.db import Store
from training import config as train_config
from training import methods
from training.config import TrainConfig
from training.recipe_config import NO_RECIPE, recipe_method_and_config, recipe_record, recipe_text
from feedback.recipes import DEFAULT_RECIPE, RECIPES
from jobs import JobContext, handler


def version_name(task_name: str, method: str, job_id: int | None) -> str:
    """The model-version name of a train job's adapter, e.g. 'pirate-dpo-12'."""
    return f"{task_name}-{method}-{job_id}" if job_id is not None else f"{task_name}-{method}-{time.strftime('%Y%m%d-%H%M%S')}"


def job_params(task: str, method: str, config: TrainConfig, recipe: dict | None = None) -> dict:
    """The params of a train job (what `train` enqueues and the handler reads); `recipe`: recipe_config.recipe_record's."""
    methods.get(method)  # UserError naming the choices
    return {"task": task, "method": method, "config": config.validate().to_dict(), **({"recipe": recipe} if recipe else {})}


def enqueue(store: Store, task: str, method: str, config: TrainConfig, created_by: str | None = None,
            recipe: dict | None = None) -> int:
    """Check the task exists and queue a train job; returns its id."""
    task_store.get_task(store, task)
    return jobs.enqueue(store, "train", job_params(task, method, config, recipe), created_by=created_by)


def _fixed_examples(workdir, build) -> tuple[list[dict], dict]:
    """The examples of this job: read back if an earlier attempt chose them, else built and saved."""
    path = workdir / "examples.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        return saved["examples"], saved["snapshot"]
    examples, snap = build()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"examples": examples, "snapshot": snap}))
    tmp.replace(path)  # atomic: a killed worker leaves either no file or a whole one
    return examples, snap


def train_and_register(store: Store, settings, params: dict, workdir, job_id: int | None = None, on_step=None, on_log=None,
                       log=print, register: bool = True, name: str | None = None, on_status=None) -> dict:
    """Build the data, train, and register the adapter as a model version; returns the job result.

    The version is called `name`, by default version_name(task, method, job_id). `on_status(text)`
    hears what happens before the first step (loading, reference log-probs), which takes minutes
    for the 1.5B model on a CPU.
    """
    from training import peak_memory, trainers

    config = TrainConfig.from_dict(params["config"]).validate()
    task_name, method = params["task"], params["method"]
    task = task_store.get_task(store, task_name)
    spec = config.model or settings.strong_model
    examples, snap = _fixed_examples(workdir, lambda: methods.build(store, task_name, method, config))
    name = name or version_name(task_name, method, job_id)
    if model_store.get_model(store, name) is not None:
        return {"model": name, "note": "already registered by an earlier attempt"}
    last = trainers.last_checkpoint(workdir / "checkpoints")
    smoothing = trainers.label_smoothing_for(config, examples) if methods.get(method).preference else None
    log(
        f"{method} on task {task_name}: {snap['n']} examples (data hash {snap['hash'][:12]}), model {spec}"
        + (f", label smoothing {smoothing:.3f}" if smoothing is not None else "")
        + (f"; resuming from {last.name}" if last else "")
    )
    adapter_dir = settings.adapters_dir / name
    if on_status is not None:
        reference = methods.get(method).preference and config.precompute_ref_log_probs
        on_status(f"preparing {snap['n']} examples: loading {spec}" + (", reference log-probs" if reference else ""))
    peak_memory.reset()  # the worker's earlier jobs do not count
    result = trainers.train(
        spec, method, examples, config, workdir, settings=settings, adapter_dir=adapter_dir, on_step=on_step, on_log=on_log
    )
    metrics = {k: v for k, v in result.metrics.items() if k in trainers.REPORTED or k in ("train_loss", "train_runtime", "global_step", "n_examples")}
    if smoothing is not None:
        metrics["label_smoothing"] = smoothing
    peak = peak_memory.peak_gb()
    metrics["peak_rss_gb"] = round(peak["rss"], 2)
    log(f"trained {result.global_step} steps on {result.device} in {result.dtype}; peak memory {peak['rss']:.1f} GB RSS"
        + (f", {peak['cuda']:.1f} GB CUDA" if "cuda" in peak else ""))
    model_id = None
    if register:
        model_id = model_store.register_adapter(
            store, name, base_spec=spec, path=str(adapter_dir), method=method, config=config.to_dict(),
            data_snapshot=snap, metrics=metrics, job_id=job_id, task_id=task["id"], recipe=params.get("recipe"),
        )
        log(f"registered model version {name} ({adapter_dir})")
    return {
        "model": name, "model_id": model_id, "adapter_dir": str(adapter_dir), "recipe": params.get("recipe", {}), "global_step": result.global_step,
        "resumed_from_step": result.resumed_from_step, "device": result.device, "dtype": result.dtype, "metrics": metrics, "data": {k: snap[k] for k in ("n", "hash")},
    }


class StepClock:
    """Turns step reports into 'step 3/10 · about 2 min 10 s left', timing from the first step it hears
    (the minutes of loading before it say nothing about the pace of steps)."""

    def __init__(self, clock=time.monotonic):
        self.clock, self.first = clock, None

    def message(self, step: int, total: int) -> str:
        """The progress message for `step` of `total`, with an estimate once two steps were timed."""
        now = self.clock()
        if self.first is None or step < self.first[0]:
            self.first = (step, now)  # a resumed run restarts the clock
        text = f"step {step}/{total}"
        done = step - self.first[0]
        if done > 0 and total and step < total:
            left = (now - self.first[1]) / done * (total - step)
            text += f" · about {duration_text(max(left, 1))} left"
        return text


def duration_text(seconds: float) -> str:
    """A duration as '45 s', '3 min 05 s' or '1 h 02 min'."""
    seconds = max(int(round(seconds)), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@handler("train")
def run_job(ctx: JobContext) -> dict:
    """The worker's entry for train jobs: progress and metrics go to the job and metrics tables."""
    from models.loading import clear_cache

    # models cached by earlier generate jobs would sit beside the training copy (6 GB each for the
    # 1.5B in fp32, next to training's own 20 GB peak on a 24 GB machine)
    clear_cache()
    clock = StepClock()
    return train_and_register(
        ctx.store, ctx.settings, ctx.params, ctx.workdir, job_id=ctx.id,
        on_step=lambda step, total: ctx.progress(step, total, clock.message(step, total)),
        on_log=ctx.metric, log=ctx.log, on_status=ctx.status,
    )


# --- command line ---


def cli(parser) -> None:
    """`train --task T [--recipe R] [--method M] [flags] [--config FILE] [--wait]` (`jobs list|cancel` follows and stops it)."""
    parser.add_argument("--task", required=True, help="task whose feedback or outputs to train on")
    parser.add_argument("--recipe", choices=[*RECIPES, NO_RECIPE], default=DEFAULT_RECIPE,
                        help=f"the recipe's method and settings (default {DEFAULT_RECIPE}, the best measured on the validation "
                        f"split; see docs/guide.md); --config and flags change them and the version records what changed; "
                        f"{NO_RECIPE}: TrainConfig's defaults")
    parser.add_argument("--method", choices=methods.NAMES, help="training method (default: the recipe's; dpo without one)")
    parser.add_argument("--config", dest="train_config", metavar="FILE", help="TOML file of TrainConfig settings (flags override it)")
    parser.add_argument("--wait", action="store_true", help="run or await the job here, with a progress bar")
    parser.add_argument("--direct", action="store_true",
                        help="train in this process without the job queue (what `accelerate launch` needs)")
    train_config.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    """Queue a train job (or run it here with --wait, or in this process with --direct)."""
    store = Store(args.settings.db_path)
    try:
        own_method, own = recipe_method_and_config(args.recipe)
        config = train_config.from_args(args, args.train_config, base=own.to_dict())
        method = args.method or own_method
        recipe = recipe_record(args.recipe, method, config)
        if args.direct or int(os.environ.get("WORLD_SIZE", "1")) > 1:
            return _run_direct(store, args.settings, args.task, method, config, recipe)
        job_id = enqueue(store, args.task, method, config, created_by=os.environ.get("USER"), recipe=recipe)
        print(f"queued train job {job_id}: {method} on {args.task}" + (f", recipe {recipe_text(recipe)}" if recipe else ""))
        if args.wait:
            return _wait(store, args.settings, job_id)
        print("a running worker picks it up (python app.py worker, or serve); follow it with python app.py jobs list")
        return 0
    finally:
        store.close()


def _run_direct(store: Store, settings, task: str, method: str, config: TrainConfig, recipe: dict) -> int:
    """Train in this process (every rank under accelerate); only the main process registers."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    state = PartialState()
    params = job_params(task, method, config, recipe)
    # one name for all processes (the main one's clock), and a fresh working directory per run
    name = broadcast_object_list([version_name(task, method, None)])[0]
    workdir = settings.jobs_dir / f"direct-{name}"
    workdir.mkdir(parents=True, exist_ok=True)
    say = print if state.is_main_process else (lambda *_: None)
    result = train_and_register(store, settings, params, workdir, log=say, register=state.is_main_process, name=name,
                                on_step=lambda s, t: say(f"step {s}/{t}"))
    say(json.dumps(result, indent=2))
    return 0


def _wait(store: Store, settings, job_id: int) -> int:
    """Run the job here (jobs.wait, as generate and evaluate do) and print its result."""
    from jobs.wait import run_here

    result = run_here(store, settings, job_id)
    print(f"job {job_id}: done")
    print(json.dumps(result, indent=2))
    return 0
