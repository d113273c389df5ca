"""The Train tab (researchers): start a DPO/SFT/KTO job, watch its progress and curves live, cancel
it, and compare the trained model versions. The worker process does the training; handlers only
check the role, validate, queue and read."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from storage import jobs, metrics
from storage import tasks as task_store
from training import train_job
from training import data_check, methods
from training.config import TrainConfig
from training.recipe_config import NO_RECIPE, recipe_method_and_config, recipe_record, recipe_text
from feedback.recipes import DEFAULT_RECIPE, RECIPES
from models.strategies import NAMED_OUTPUTS
from study.recipe_figures import figures_text
from ui.auth import allowed, current_user, refuse, require, user_errors
from ui.figures import line_plot
from ui.job_view import progress_html

POLL_S = 2.0  # how often the watched job's progress and plots refresh
PLOTS = (("loss", "Loss"), ("rewards/margins", "Reward margin (chosen - rejected)"), ("rewards/accuracies", "Reward accuracy"))
VERSION_COLUMNS = ["name", "task", "recipe", "method", "base", "examples", "steps", "loss", "reward acc.", "reward margin", "created"]
RECIPE_CHOICES = [DEFAULT_RECIPE, *(n for n in RECIPES if n != DEFAULT_RECIPE), NO_RECIPE]
# the form's fields by TrainConfig key; "empty" shows where a config value means "the default"
FORM_KEYS = ["model", "min_agreement", "exclude_failed_gold", "split", "refined_strategy", "weak_strategy", "max_examples",
             "learning_rate", "num_train_epochs", "max_steps", "batch_size", "lora_r", "loss_type", "loss_weights", "beta",
             "label_smoothing", "save_steps", "max_length", "gradient_checkpointing"]
EMPTY = {"learning_rate": 0.0, "max_steps": -1, "label_smoothing": -1.0}
STRATEGY_NAMES = list(NAMED_OUTPUTS)  # the stored outputs' strategy names


def job_choices(store) -> list[tuple[str, int]]:
    """(label, id) of the recent train jobs, newest first."""
    return [
        (f"#{j['id']} {j['params'].get('task', '?')}/{j['params'].get('method', '?')} · {j['status']}", j["id"])
        for j in jobs.list_jobs(store, kind="train", limit=30)
    ]


def metric_frame(store, job_id: int, name: str) -> pd.DataFrame:
    """One metric of a job as a (step, value) frame; a step logged twice (after a resume) keeps its last value."""
    points = dict(metrics.series(store, job_id).get(name, []))
    return pd.DataFrame({"step": list(points), "value": list(points.values())})


def empty_plot_text(job: dict, title: str) -> str:
    """What an empty metric plot of this job says: not logged yet, or never (a finished job, or a method without it)."""
    if job["status"] in jobs.FINISHED:
        return f"Nothing to draw: job {job['id']} ended ({job['status']}) without logging {title.lower()}."
    return f"Nothing yet: {title.lower()} appears from the first logged step."


def version_rows(store) -> list[list]:
    """A row per trained model version, newest first, with its headline metrics."""
    from storage import models as model_store

    def num(value):
        return round(value, 4) if isinstance(value, (int, float)) else ""

    names = {t["id"]: t["name"] for t in task_store.list_tasks(store)}
    rows = []
    for m in model_store.list_models(store, kind="adapter"):
        met, snap = m["metrics"], m["data_snapshot"]
        rows.append([
            m["name"], names.get(m["task_id"], ""), recipe_text(m.get("recipe") or {}), m["method"] or "", m["base_spec"],
            snap.get("n", ""), met.get("global_step", ""), num(met.get("train_loss", met.get("loss"))),
            num(met.get("rewards/accuracies")), num(met.get("rewards/margins")), m["created_at"],
        ])
    if not rows:  # an empty table says why it is empty
        return [["(no trained versions yet: start training above)"] + [""] * (len(VERSION_COLUMNS) - 1)]
    return list(reversed(rows))


def recipe_form(name: str) -> tuple[str, TrainConfig, str]:
    """(method, config, what the recipe is and sets, in Markdown) of a recipe choice (NO_RECIPE: dpo, the defaults)."""
    method, config = recipe_method_and_config(name)
    if name == NO_RECIPE:
        return method, config, "No recipe: TrainConfig's defaults (the robust DPO loss at rank 8, the method's rate)."
    recipe = RECIPES[name]
    settings = ", ".join(f"{k} {v}" for k, v in recipe.settings().items())
    return method, config, html.escape(f"{recipe.describe()}. Settings: {settings}. {figures_text(name)}. Change any field "
                                       "below: the version records the change.")


def form_value(key: str, config: TrainConfig):
    """What the form shows for a config value: empty where the value means the default."""
    value = getattr(config, key)
    return None if EMPTY.get(key) == value else value


def config_from_form(values: dict) -> TrainConfig:
    """A validated TrainConfig from the form's values (blank numbers fall back to the defaults)."""
    clean = {k: v for k, v in values.items() if v not in (None, "")}
    return TrainConfig.from_dict(clean).validate()


def build(ctx) -> None:
    """Lay out the Train tab inside the current gr.Tab and wire its handlers."""
    store = ctx.store
    tasks = [t["name"] for t in task_store.list_tasks(store)]
    gr.Markdown("### Train the strong model\nDPO on annotators' preferences, or the paper's SFT baselines; "
                "runs in the background worker, resumes if the worker restarts.")
    first_method, first, first_note = recipe_form(DEFAULT_RECIPE)
    with gr.Row():
        task = gr.Dropdown(tasks, value=tasks[0] if tasks else None, label="Task", allow_custom_value=True)
        recipe = gr.Dropdown(RECIPE_CHOICES, value=DEFAULT_RECIPE, label="Recipe")
        method = gr.Radio(list(methods.NAMES), value=first_method, label="Method")
        model = gr.Textbox(ctx.settings.strong_model, label="Model spec to train")
    recipe_note = gr.Markdown(first_note, elem_id="refinery-train-recipe")
    with gr.Accordion("Data filters", open=False):
        with gr.Row():
            min_agreement = gr.Slider(0, 1, value=first.min_agreement, step=0.05, label="Minimum annotator agreement (dpo)")
            exclude_gold = gr.Checkbox(first.exclude_failed_gold, label="Exclude annotators failing gold checks")
            split = gr.Radio(list(task_store.SPLITS), value=first.split, label="Prompt split")
        with gr.Row():
            refined = gr.Dropdown(STRATEGY_NAMES, value=first.refined_strategy, allow_custom_value=True,
                                  label="Refined strategy (sft-refined, dpo-refined)")
            weak = gr.Dropdown(STRATEGY_NAMES, value=first.weak_strategy, allow_custom_value=True,
                               label="Weak strategy (sft-weak, dpo-refined)")
            max_examples = gr.Number(first.max_examples, label="Max examples (0 = all)", precision=0)
    with gr.Accordion("Hyperparameters", open=False):
        with gr.Row():
            # empty means the default (config_from_form leaves it out), not a magic number
            lr = gr.Number(form_value("learning_rate", first), label=f"Learning rate (empty: the method's, {methods.PREFERENCE_LR:g} DPO/KTO, {methods.SFT_LR:g} SFT)")
            epochs = gr.Number(first.num_train_epochs, label="Epochs")
            max_steps = gr.Number(form_value("max_steps", first), label="Max steps (empty: the epochs decide)", precision=0)
            batch = gr.Number(first.batch_size, label="Batch size", precision=0)
        with gr.Row():
            lora_r = gr.Number(first.lora_r, label="LoRA rank", precision=0)
            loss_type = gr.Dropdown(["robust", "sigmoid", "ipo", "hinge"], value=first.loss_type, label="DPO loss", allow_custom_value=True)
            loss_weights = gr.Textbox(first.loss_weights, label="Loss weights (comma-separated; empty: all 1)")
            beta = gr.Number(first.beta, label="DPO beta")
            smoothing = gr.Number(form_value("label_smoothing", first), label="Label smoothing (empty: the annotators' measured disagreement)")
        with gr.Row():
            save_steps = gr.Number(first.save_steps, label="Checkpoint every N steps", precision=0)
            max_length = gr.Number(first.max_length, label="Max tokens per example", precision=0)
            # on here, as in the committed experiment runs: a CPU without bf16 trains in fp32, whose
            # activations are what a 16 GB laptop runs out of; it costs about 30% more time
            checkpointing = gr.Checkbox(first.gradient_checkpointing, label="Gradient checkpointing (less memory, ~30% slower)")
    data_note = gr.Markdown("", elem_id="refinery-train-data")  # how many examples the form's choices give (training/data_check.py)
    start = gr.Button("Start training", variant="primary")
    with gr.Row():
        watched = gr.Dropdown([], value=None, label="Watching job", scale=3)
        refresh = gr.Button("Refresh", scale=1)
        cancel = gr.Button("Cancel job", variant="stop", scale=1)
    status = gr.HTML()
    with gr.Row():
        plots = {name: gr.LinePlot(x="step", y="value", title=title) for name, title in PLOTS}  # no fixed height: it cuts the caption off
    timer = gr.Timer(POLL_S, active=False)
    gr.Markdown("### Model versions")
    versions = gr.Dataframe(headers=VERSION_COLUMNS, interactive=False, label="Trained adapters (pick one in the Demo tab to try it)")

    form = [model, min_agreement, exclude_gold, split, refined, weak, max_examples, lr, epochs, max_steps, batch, lora_r,
            loss_type, loss_weights, beta, smoothing, save_steps, max_length, checkpointing]
    keys = FORM_KEYS
    views = [status, timer, *plots.values()]

    def show(job_id, note: str = "") -> dict:
        if not job_id:
            nothing = pd.DataFrame({"step": [], "value": []})
            return {status: "", timer: gr.Timer(active=False),
                    **{p: line_plot(nothing, "Nothing yet: start a training job or pick one above.") for p in plots.values()}}
        with user_errors():
            job = jobs.get(store, int(job_id))
        return {
            status: (f"<p><b>{html.escape(note)}</b></p>" if note else "") + progress_html(job),
            timer: gr.Timer(active=job["status"] not in jobs.FINISHED),
            **{plot: line_plot(metric_frame(store, job["id"], name), empty_plot_text(job, title))
               for (name, title), plot in zip(PLOTS, plots.values())},
        }

    def on_form(data: dict, request: gr.Request):
        require(request, ctx, "researcher")
        try:
            config = config_from_form({key: data[component] for component, key in zip(form, keys)})
        except Exception as err:  # a half-typed form: say what is wrong, nothing else
            return f"**Check the form:** {err}"
        return data_check.summary(store, data[task], data[method], config)

    def on_start(data: dict, request: gr.Request):
        # inputs given as a set: `data` maps each component to its value
        user = require(request, ctx, "researcher")
        # A mistake in the form is said above the watched job's status and in a toast; raising it would
        # mark every output with a red "Error" and clear the watched job.
        try:
            return queue_job(user, data)
        except gr.Error as err:
            gr.Warning(err.message)
            return {status: f"<p><b>Not started:</b> {html.escape(err.message)}</p>"
                            + (show(data[watched])[status] if data[watched] else "")}

    def queue_job(user, data: dict):
        if not data[task]:
            raise refuse("Pick a task first.")
        with user_errors():
            config = config_from_form({key: data[component] for component, key in zip(form, keys)})
            # refused here, at once, rather than failing in the worker after whatever is queued before it
            warnings = data_check.check(store, data[task], data[method], config)["warnings"]
            job_id = train_job.enqueue(store, data[task], data[method], config, created_by=user["username"],
                                       recipe=recipe_record(data[recipe] or NO_RECIPE, data[method], config))
        note = f"Queued, with warnings: {'; '.join(warnings)}." if warnings else ""
        return {watched: gr.Dropdown(choices=job_choices(store), value=job_id), **show(job_id, note)}

    def on_recipe(name, request: gr.Request):
        # the form takes the recipe's method and settings; the model to train stays as typed
        require(request, ctx, "researcher")
        with user_errors():
            chosen_method, config, note = recipe_form(name or NO_RECIPE)
        return [note, chosen_method, *(gr.skip() if key == "model" else form_value(key, config) for key in keys)]

    def on_tick(job_id, request: gr.Request):
        # the job list's labels carry each job's status, and a job that ends adds a model version
        require(request, ctx, "researcher")
        return {watched: gr.Dropdown(choices=job_choices(store)), versions: version_rows(store), **show(job_id)}

    def on_refresh(job_id, request: gr.Request):
        require(request, ctx, "researcher")
        choices = job_choices(store)
        if not job_id and choices:
            job_id = choices[0][1]
        return {
            watched: gr.Dropdown(choices=choices, value=job_id),
            versions: version_rows(store),
            task: gr.Dropdown(choices=[t["name"] for t in task_store.list_tasks(store)]),
            **show(job_id),
        }

    def on_cancel(job_id, request: gr.Request):
        require(request, ctx, "researcher")
        if not job_id:
            raise refuse("No job selected: start one or pick it from the list.")
        with user_errors():
            job = jobs.get(store, int(job_id))
            if job["status"] in jobs.FINISHED:
                return show(job_id, f"Job {job['id']} already ended ({job['status']}); there is nothing to cancel.")
            jobs.request_cancel(store, int(job_id))
        return {watched: gr.Dropdown(choices=job_choices(store)), **show(job_id)}

    def on_open(job_id, request: gr.Request):
        # every page load runs this; for annotators the tab is hidden and nothing is shown (no error toast)
        if not allowed(current_user(request, ctx), "researcher"):
            return {watched: gr.skip()}  # an empty dict would be read as one value for all the outputs
        return on_refresh(job_id, request)

    def on_open_form(data: dict, request: gr.Request):
        if not allowed(current_user(request, ctx), "researcher"):
            return gr.skip()
        return on_form(data, request)

    gr.context.Context.root_block.load(on_open_form, {task, method, *form}, data_note, api_visibility="private")
    gr.context.Context.root_block.load(on_open, watched, [watched, versions, task, *views], api_visibility="private")
    gr.on([task.change, method.change, *(c.change for c in form[1:7])], on_form, {task, method, *form}, data_note,
          api_visibility="private")
    recipe.input(on_recipe, recipe, [recipe_note, method, *form], api_name="train_recipe")
    start.click(on_start, {task, recipe, method, watched, *form}, [watched, *views], api_name="train_start")
    watched.input(on_tick, watched, [watched, versions, *views], api_visibility="private")
    timer.tick(on_tick, watched, [watched, versions, *views], api_visibility="private")
    refresh.click(on_refresh, watched, [watched, versions, task, *views], api_name="train_refresh")
    cancel.click(on_cancel, watched, [watched, *views], api_name="train_cancel")
