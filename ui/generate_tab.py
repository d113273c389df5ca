"""The Generate tab (researchers): queue a generate job and watch or cancel it; schedule pairs for annotation.

Handlers are thin: they check the role, then call models.generate_job (validation and the
queue) and feedback.scheduling; the worker process does the generating.
"""

from __future__ import annotations

import html

import gradio as gr

from feedback.pair_plan import PLANS
from feedback.recipes import DEFAULT_RECIPE, RECIPES, voting_recipes
from feedback.scheduling import schedule_pairs, schedule_plan, summary_line
from storage import jobs, outputs
from storage import tasks as task_store
from models.gen_params import DEFAULT_MAX_NEW_TOKENS
from models.generate_spec import DEFAULT_ICL_POOL, DEFAULT_N_ICL, enqueue, make_job
from models.strategies import ICL_REFINE, MODEL_PREFIX, NAMED_OUTPUTS, STRATEGIES, WEAK
from ui import fields
from ui.auth import refuse, require, user_errors
from ui.job_view import progress_html

POLL_S = 2.0  # how often a watched job's progress is refreshed
GENERATED = [n for n, s in STRATEGIES.items() if s.role in ("weak", "strong")]
SIDES = list(NAMED_OUTPUTS)  # model:<version> is typed, not picked
CUSTOM_SIDES = "the two sides below"
# Generate's default strategies are the weak teacher's (icl-refine's examples, the weak side of naive pairs) and
# the sides of the default recipe's pair plan, so "Create pairs" right after a default generate run has both
# sides of every pair (and reuses the shipped seeds: same strategies, limit).
PLAN_STRATEGIES = [n for n in GENERATED if STRATEGIES[n].role == "weak" or any(n in pair for pair in PLANS[RECIPES[DEFAULT_RECIPE].plan].pairs)]
# "Create pairs" schedules a recipe's pair plan, the default recipe first, or two sides given below
PAIR_CHOICES = [f"{name}: " + ", ".join(f"{a} vs {b}" for a, b in PLANS[RECIPES[name].plan].pairs) for name in voting_recipes()] + [CUSTOM_SIDES]

def _task_names(ctx) -> list[str]:
    return [t["name"] for t in task_store.list_tasks(ctx.store)]


def output_counts(ctx, task_name: str | None) -> str:
    """Markdown list of how many outputs each strategy has for a task."""
    if not task_name:
        return ""
    counts = outputs.count_by_strategy(ctx.store, task_store.get_task(ctx.store, task_name)["id"])
    if not counts:
        return f"No outputs stored for **{task_name}** yet."
    return f"Outputs stored for **{task_name}**: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def build(ctx) -> None:
    """Lay out the Generate tab inside the current gr.Tab."""
    tasks = _task_names(ctx)
    gr.Markdown("### Generate candidates\nRuns in the background worker; weak labels needed by the "
                "refinement strategies are generated first.")
    with gr.Row():
        task = gr.Dropdown(tasks, value=tasks[0] if tasks else None, label="Task")
        refresh = gr.Button("Refresh tasks", size="sm")
    counts = gr.Markdown()
    strategies = gr.CheckboxGroup(GENERATED, value=PLAN_STRATEGIES, label="Strategies")
    versions = gr.Textbox(label="Trained model versions to run too (comma-separated, optional)", placeholder="pirate-dpo-1")
    with gr.Row():
        n = gr.Number(40, label="Prompts", precision=0)
        split = gr.Radio([task_store.ALL_SPLITS, *task_store.SPLITS], value=task_store.DEFAULT_SPLIT, label="Split")
        n_icl = gr.Number(DEFAULT_N_ICL, label="ICL examples", precision=0)
    with gr.Row():
        max_new_tokens = gr.Number(DEFAULT_MAX_NEW_TOKENS, label="Max new tokens", precision=0)
        temperature = gr.Number(0.0, label="Temperature (0 = greedy)")
        top_p = gr.Number(1.0, label="Top-p")
        seed = gr.Number(0, label="Seed", precision=0)
    with gr.Row():
        weak = gr.Textbox(ctx.settings.weak_model, label="Weak model spec")
        strong = gr.Textbox(ctx.settings.strong_model, label="Strong model spec")
    with gr.Row():
        start = gr.Button("Queue generate job", variant="primary")
        cancel = gr.Button("Cancel job", variant="stop")
    job_id = gr.Number(None, label="Watching job", precision=0)
    status = gr.HTML()
    timer = gr.Timer(POLL_S, active=False)

    gr.Markdown(
        "### Schedule pairs for annotation\nThe pairs a recipe trains on (the Train tab's recipe; the default first). "
        "Only prompts where both sides have an output; identical texts are skipped."
    )
    with gr.Row():
        pair_task = gr.Dropdown(tasks, value=tasks[0] if tasks else None, label="Task")
        pair_plan = gr.Dropdown(PAIR_CHOICES, value=PAIR_CHOICES[0], label="Recipe's pairs")
        side_a = gr.Dropdown(SIDES, value=ICL_REFINE, allow_custom_value=True, label="A (strategy or model:<version>; with the two sides below)")
        side_b = gr.Dropdown(SIDES, value=WEAK, allow_custom_value=True, label="B")
    with gr.Row():
        pair_n = gr.Number(40, label="Pairs", precision=0)
        pair_split = gr.Radio([task_store.ALL_SPLITS, *task_store.SPLITS], value=task_store.DEFAULT_SPLIT, label="Split")
        votes = gr.Textbox("", label="Votes per pair (empty: the task's)")
    schedule = gr.Button("Create pairs", variant="primary")
    pair_result = gr.Markdown()

    def on_refresh(request: gr.Request):
        require(request, ctx, "researcher")
        names = _task_names(ctx)
        return gr.Dropdown(choices=names), gr.Dropdown(choices=names)

    def on_task(task_name, request: gr.Request):
        require(request, ctx, "researcher")
        with user_errors():
            return output_counts(ctx, task_name)

    def on_start(task_name, chosen, extra_versions, n_value, split_value, n_icl_value, max_new, temp, top, seed_value,
                 weak_spec, strong_spec, request: gr.Request):
        user = require(request, ctx, "researcher")
        values = (task_name, chosen, extra_versions, n_value, split_value, n_icl_value, max_new, temp, top, seed_value,
                  weak_spec, strong_spec)
        # A mistake in the form is said in the status and a toast; raising it would mark every output
        # (the watched job's number among them) with a red "Error" and clear the watched job.
        try:
            return queue_job(user, *values)
        except gr.Error as err:
            gr.Warning(err.message)
            return gr.skip(), f"<p><b>Not queued:</b> {html.escape(err.message)}</p>", gr.skip()

    def queue_job(user, task_name, chosen, extra_versions, n_value, split_value, n_icl_value, max_new, temp, top, seed_value,
                  weak_spec, strong_spec):
        names = list(chosen or []) + [MODEL_PREFIX + v.strip() for v in (extra_versions or "").split(",") if v.strip()]
        with user_errors():
            job = make_job(
                ctx.store, ctx.settings, task_name, names, fields.whole(n_value, "Prompts", 1),
                task_store.split_choice(split_value), weak_spec.strip() or None, strong_spec.strip() or None,
                max_new_tokens=fields.whole(max_new, "Max new tokens", 1),
                temperature=fields.decimal(temp, "Temperature", 0), top_p=fields.decimal(top, "Top-p", 0, 1),
                seed=fields.whole(seed_value, "Seed"), n_icl=fields.whole(n_icl_value, "ICL examples", 1),
                icl_pool=max(DEFAULT_ICL_POOL, fields.whole(n_icl_value, "ICL examples", 1) + 1),
            )
            new_id = enqueue(ctx.store, job, created_by=user["username"])
        return new_id, progress_html(jobs.get(ctx.store, new_id), unit="texts"), gr.Timer(active=True)

    def on_tick(watched, request: gr.Request):
        require(request, ctx, "researcher")
        if not watched:
            return "", gr.Timer(active=False)
        with user_errors():
            job = jobs.get(ctx.store, int(watched))
        return progress_html(job, unit="texts"), gr.Timer(active=job["status"] not in jobs.FINISHED)

    def on_cancel(watched, request: gr.Request):
        require(request, ctx, "researcher")
        if not watched:
            raise refuse("No job to cancel: queue one first or enter its id.")
        with user_errors():
            job = jobs.request_cancel(ctx.store, int(watched))
        return progress_html(job, unit="texts")

    def on_schedule(task_name, plan, a, b, n_value, split_value, votes_value, request: gr.Request):
        require(request, ctx, "researcher")
        split_value = task_store.split_choice(split_value)
        with user_errors():
            votes_value = fields.whole(votes_value, "Votes per pair", 1, optional=True)
            n_value = fields.whole(n_value, "Pairs", 1)
            if plan == CUSTOM_SIDES:
                results = [{"a": a, "b": b, **schedule_pairs(ctx.store, task_name, a, b, n_value, split_value, votes_value)}]
            else:
                recipe = RECIPES.get(plan.split(":")[0], hint="pick one from the list")
                results = schedule_plan(ctx.store, task_name, recipe.plan, n_value, split_value, votes_value)
        total = sum(len(r["created"]) for r in results)
        return f"Created **{total}** pairs.\n\n" + "\n".join(f"- {summary_line(r)}" for r in results)

    refresh.click(on_refresh, None, [task, pair_task], api_name="generate_refresh")
    task.change(on_task, task, counts, api_name="generate_counts")
    start.click(on_start, [task, strategies, versions, n, split, n_icl, max_new_tokens, temperature, top_p, seed, weak, strong],
                [job_id, status, timer], api_name="generate_start")
    job_id.submit(on_tick, job_id, [status, timer], api_name="generate_status")
    timer.tick(on_tick, job_id, [status, timer], api_visibility="private")
    cancel.click(on_cancel, job_id, status, api_name="generate_cancel")
    schedule.click(on_schedule, [pair_task, pair_plan, side_a, side_b, pair_n, pair_split, votes], pair_result, api_name="generate_pairs")
