"""The Results tab (researchers): evaluations per task as a before/after table and a concept-vs-content
scatter, blind before/after win rates, a Bradley-Terry ranking of everything annotators compared, and
forms to queue an evaluate job or before/after pairs.

Handlers check the researcher role themselves, then call storage, feedback and training; the
worker process does the generating.
"""

from __future__ import annotations

import gradio as gr

from feedback import ranking
from feedback.before_after import queue_before_after
from storage import evaluations as eval_store, models as model_store, tasks as task_store
from storage.terms import AXES
from study import evaluate_job, report
from models.gen_params import DEFAULT_MAX_NEW_TOKENS
from models.strategies import MODEL_PREFIX, REFERENCES, STRONG_BASE
from training.recipe_config import recipe_text
from storage import jobs
from ui import fields, job_view
from ui.figures import empty_figure
from ui.auth import refuse, require, user_errors

EVAL_COLUMNS = ["model", "recipe", "strategy", "n", "concept [95% CI]", "content [95% CI]", "when", "source", "LLM judge concept / content"]
WIN_COLUMNS = ["base", "version", "version wins [95% CI]", "votes", "wins / ties / losses"]
RANK_COLUMNS = ["rank", "strategy [model]", "strength [95% CI]", "comparisons"]
N_BOOT = 1000


def _interval(mean, lo, hi) -> str:
    return "n/a" if mean is None else f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"


def _judged(details: dict) -> str:
    """The LLM judge's concept / content means, when the evaluation was run with --judge ('' otherwise)."""
    stats = [details.get(f"judge_{axis}") for axis in AXES]
    if not details.get("judge") or not any(stats):
        return ""
    return " / ".join("n/a" if s is None else _interval(s["mean"], s["lo"], s["hi"]) for s in stats) + f" ({details['judge']})"


def evaluation_rows(evaluations: list[dict], recipes: dict[str, str] | None = None) -> list[list]:
    """Table rows of the latest evaluation per (model, strategy), strong-base first within a model; `recipes`: a
    trained version's recipe by its name (training.recipe_config.recipe_text)."""
    ordered = sorted(evaluations, key=lambda e: (e["model"], e["strategy"] != STRONG_BASE, e["strategy"]))
    return [
        [
            e["model"], (recipes or {}).get(e["model"], ""), e["strategy"], e["n"],
            _interval(e["concept_mean"], e["concept_lo"], e["concept_hi"]),
            _interval(e["content_mean"], e["content_lo"], e["content_hi"]),
            e["created_at"], "experiment" if e["details"].get("experiment") else f"job {e['job_id']}",
            _judged(e["details"]),
        ]
        for e in ordered
    ]


def _stat(e: dict, axis: str) -> dict | None:
    mean = e[f"{axis}_mean"]
    return None if mean is None else {"mean": mean, "lo": e[f"{axis}_lo"], "hi": e[f"{axis}_hi"]}


def scatter_rows(evaluations: list[dict]) -> list[dict]:
    """One point per evaluation in study.report's row format, named by the model (and its prompting,
    unless that is the plain prompt)."""
    def name(e: dict) -> str:
        plain = e["strategy"] == STRONG_BASE or e["strategy"].startswith(MODEL_PREFIX)
        return e["model"] if plain else f"{e['model']} ({e['strategy']})"

    return [{"name": name(e), **{axis: _stat(e, axis) for axis in AXES}} for e in evaluations]


def before_after_rows(votes: list[dict]) -> list[list]:
    """Win rate of each trained version against the base model it was voted against, from blind votes."""
    matchups = sorted({
        (v[f"model_{base}"], v[f"model_{after}"])
        for v in votes for base, after in (("a", "b"), ("b", "a"))
        if v[f"strategy_{after}"].startswith(MODEL_PREFIX) and not v[f"strategy_{base}"].startswith(MODEL_PREFIX)
    })
    out = []
    for base, version in matchups:
        w = ranking.versus(votes, base, version, n_boot=N_BOOT)
        out.append([base, version, _interval(w["rate"], w["lo"], w["hi"]), w["n"], f"{w['wins']} / {w['ties']} / {w['losses']}"])
    return out


def ranking_rows(rows: list[dict]) -> list[list]:
    """Table rows of a Bradley-Terry ranking."""
    return [[i, r["item"], _interval(r["theta"], r["lo"], r["hi"]), r["n"]] for i, r in enumerate(rows, start=1)]


def ranking_figure(rows: list[dict], title: str):
    """Horizontal error bars: Bradley-Terry log-strength with its 95% bootstrap interval, best on top."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 0.6 + 0.4 * max(len(rows), 1)), dpi=110)
    ax = fig.subplots()
    for y, r in enumerate(reversed(rows)):
        # with few votes the fitted strength can lie outside its bootstrap interval; matplotlib refuses
        # a negative error bar, so that side is drawn empty
        low, high = max(r["theta"] - r["lo"], 0.0), max(r["hi"] - r["theta"], 0.0)
        ax.errorbar(r["theta"], y, xerr=[[low], [high]], fmt="o", capsize=3)
    ax.set_yticks(range(len(rows)), [r["item"] for r in reversed(rows)], fontsize=8)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("Bradley-Terry log-strength (0 = average)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def notes_html(store, task: dict, evaluations: list[dict]) -> str:
    """Above the table: each queued or running evaluate job of the task with its progress, and a warning
    when the models were scored on different numbers of prompts (their means are not paired)."""
    parts = [job_view.progress_html(j, unit="prompts") for j in jobs.list_jobs(store, kind="evaluate", limit=20)
             if j["status"] not in jobs.FINISHED and j["params"].get("task") == task["name"]]
    sizes = sorted({e["n"] for e in evaluations})
    if len(sizes) > 1:
        parts.append(f"<p><b>Warning:</b> these models were scored on different numbers of eval prompts "
                     f"({', '.join(map(str, sizes))}); a mean over fewer prompts is noisier and covers other prompts, "
                     "so compare them only after evaluating each on the same prompts (empty 'Eval prompts': all).</p>")
    return "".join(parts)


def task_view(ctx, task_name: str) -> dict:
    """Everything the tab shows for one task."""
    task = task_store.get_task(ctx.store, task_name)
    # the tab shows the eval split; validation scores only choose rows, rates and steps
    evaluations = [e for e in eval_store.list_evaluations(ctx.store, task["id"]) if e["split"] == "eval"]
    votes = eval_store.vote_outcomes(ctx.store, task["id"])
    ranked = ranking.bradley_terry(ranking.comparisons_from_votes(votes), n_boot=N_BOOT)
    return {
        "notes": notes_html(ctx.store, task, evaluations),
        "evaluations": evaluation_rows(evaluations, {m["name"]: recipe_text(m["recipe"]) for m in model_store.list_models(ctx.store, kind="adapter")}),
        "scatter": (report.scatter_figure(scatter_rows(evaluations), f"{task_name}: concept vs content (eval split)") if evaluations
                    else empty_figure("Nothing yet: no model is evaluated on this task. Queue one under 'Evaluate a model'.")),
        "before_after": before_after_rows(votes),
        "ranking": ranking_rows(ranked),
        "ranking_plot": (ranking_figure(ranked, f"{task_name}: ranking from {len(votes)} blind votes") if ranked
                         else empty_figure("Nothing yet: no blind votes between strategies or model versions.")),
    }


def _model_choices(ctx) -> tuple[list[str], list[str]]:
    """(every model name, trained version names) known to the database, plus the configured base models."""
    from storage.models import list_models

    found = list_models(ctx.store)
    names = list(dict.fromkeys([ctx.settings.strong_model, ctx.settings.weak_model] + [m["name"] for m in found]))
    return names, [m["name"] for m in found if m["kind"] == "adapter"]


def build(ctx) -> None:
    """Lay out the Results tab inside the current gr.Tab."""
    with gr.Row():
        # any name is accepted here and checked by the handlers; the list is refreshed when the tab opens
        task = gr.Dropdown([], label="Task", interactive=True, allow_custom_value=True)
        refresh = gr.Button("Refresh", size="sm")
    gr.Markdown("### Evaluations (eval split)\nLatest score of each model and prompting strategy; "
                "means with 95% bootstrap intervals.")
    notes = gr.HTML("")  # running evaluate jobs, and a warning when models were scored on different prompts
    evaluations = gr.Dataframe(headers=EVAL_COLUMNS, interactive=False, wrap=True)
    with gr.Row():
        # show_label off: each figure has its own title, which Gradio's label box covered
        scatter = gr.Plot(label="Concept vs content: one point per model or method", show_label=False)
        ranking_plot = gr.Plot(label="Bradley-Terry ranking from blind votes", show_label=False)
    gr.Markdown("### Blind before/after votes\nShare of votes the trained version won against its base "
                "(a tie or 'both bad' counts half).")
    before_after = gr.Dataframe(headers=WIN_COLUMNS, interactive=False)
    gr.Markdown("### Ranking of every strategy and model version annotators compared")
    ranked = gr.Dataframe(headers=RANK_COLUMNS, interactive=False)

    with gr.Accordion("Evaluate a model", open=False):
        with gr.Row():
            eval_model = gr.Dropdown([], label="Model spec or trained version", allow_custom_value=True)
            eval_strategy = gr.Dropdown(list(REFERENCES), value=STRONG_BASE, label="Prompting (base models)")
            eval_n = gr.Textbox("", label="Eval prompts (empty: all)")
            eval_tokens = gr.Number(DEFAULT_MAX_NEW_TOKENS, label="Max new tokens", precision=0)
        eval_go = gr.Button("Queue evaluate job", variant="primary")
        eval_msg = gr.Markdown()
    with gr.Accordion("Queue blind before/after pairs", open=False):
        with gr.Row():
            ba_version = gr.Dropdown([], label="Trained version", allow_custom_value=True)
            ba_base = gr.Textbox("", label="Base model (empty: the version's base)")
            ba_n = gr.Number(20, label="Eval prompts", precision=0)
            ba_votes = gr.Textbox("", label="Votes per pair (empty: the task's)")
        ba_go = gr.Button("Queue pairs", variant="primary")
        ba_msg = gr.Markdown()

    view_outputs = [notes, evaluations, scatter, before_after, ranked, ranking_plot]

    def on_load(task_name, request: gr.Request):
        require(request, ctx, "researcher")
        names = [t["name"] for t in task_store.list_tasks(ctx.store)]
        task_name = task_name if task_name in names else (names[0] if names else None)
        models, versions = _model_choices(ctx)
        newest = versions[-1] if versions else None  # the version just trained is the one to evaluate, not the base
        return (gr.Dropdown(choices=names, value=task_name), gr.Dropdown(choices=models, value=newest or (models[0] if models else None)),
                gr.Dropdown(choices=versions, value=newest))

    def on_task(task_name, request: gr.Request):
        require(request, ctx, "researcher")
        if not task_name:
            nothing = empty_figure("Nothing yet: pick a task.")
            return "", [], nothing, [], [], nothing
        with user_errors():
            v = task_view(ctx, task_name)
        return v["notes"], v["evaluations"], v["scatter"], v["before_after"], v["ranking"], v["ranking_plot"]

    def on_evaluate(task_name, model, strategy, n, tokens, request: gr.Request):
        user = require(request, ctx, "researcher")
        if not task_name or not model:
            raise refuse("Pick a task and a model first.")
        with user_errors():
            params = evaluate_job.EvalJob(task=task_name, model=model.strip(), strategy=strategy,
                                          n=fields.whole(n, "Eval prompts", 1, optional=True),
                                          max_new_tokens=fields.whole(tokens, "Max new tokens", 1))
            job_id = evaluate_job.enqueue(ctx.store, ctx.settings, params, created_by=user["username"])
        return f"Queued evaluate job **{job_id}**; its scores appear here when the worker has run it (press Refresh)."

    def on_before_after(task_name, version, base, n, votes, request: gr.Request):
        user = require(request, ctx, "researcher")
        if not task_name or not version:
            raise refuse("Pick a task and a trained version first.")
        with user_errors():
            result = queue_before_after(
                ctx.store, task_name, version.strip(), fields.whole(n, "Eval prompts", 1), ctx.settings.weak_model,
                base=(base or "").strip() or None, votes_wanted=fields.whole(votes, "Votes per pair", 1, optional=True),
                created_by=user["username"],
            )
        text = f"Created **{len(result['pairs'])}** new pairs; {result['ready']} prompts have both answers."
        if result["jobs"]:
            text += (f" Missing answers (before: {result['missing']['before']}, after: {result['missing']['after']}) are being "
                     f"generated by job(s) {', '.join(map(str, result['jobs']))}; queue again when they are done.")
        return text

    # Refresh and opening the tab redraw the view even when the task stays the same (a .change would not fire)
    refresh.click(on_load, [task], [task, eval_model, ba_version], api_name="results_refresh").then(
        on_task, [task], view_outputs, api_visibility="private")
    task.input(on_task, [task], view_outputs, api_name="results_view")
    eval_go.click(on_evaluate, [task, eval_model, eval_strategy, eval_n, eval_tokens], [eval_msg], api_name="results_evaluate")
    ba_go.click(on_before_after, [task, ba_version, ba_base, ba_n, ba_votes], [ba_msg], api_name="results_before_after")
    # Filled when a researcher opens the tab: a page-load event would also fire for annotators.
    on_open(on_load, [task], [task, eval_model, ba_version]).then(on_task, [task], view_outputs, api_visibility="private")


def on_open(fn, inputs, outputs):
    """Run `fn` when the enclosing tab is selected (or on page load outside a tab); returns the event, to chain on."""
    block = gr.context.Context.block
    if isinstance(block, gr.Tab):
        return block.select(fn, inputs, outputs, api_visibility="private")
    return gr.context.Context.root_block.load(fn, inputs, outputs, api_visibility="private")
