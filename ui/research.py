"""The Research tab: coverage and agreement per task, annotator quality, strategy win rates,
user management, gold marking and the export download. Every handler requires a researcher."""

from __future__ import annotations

import gradio as gr
from matplotlib.figure import Figure

from feedback import accounts, agreement, export
from feedback.assignment import VERDICT_CHOICES
from storage import pairs as pair_store
from storage import tasks as task_store
from storage import users as user_store
from storage import votes as vote_store
from ui import auth, export_files, fields
from ui.figures import empty_figure

# (label, stored value): A and B are the pair table's text A and text B, as the verdicts name them
GOLD_CHOICES = [*VERDICT_CHOICES.items(), ("(clear)", "(clear)")]
OVERVIEW_COLUMNS = ["task", "pairs", "votes", "votes_wanted", "coverage", "gold_pairs", "alpha"]
ANNOTATOR_COLUMNS = ["username", "simulated", "votes", "median_seconds", "agreement", "gold_accuracy", "gold_votes"]
USER_COLUMNS = ["username", "role", "active", "simulated", "created_at"]
PAIR_COLUMNS = ["id", "prompt", "text_a", "strategy_a", "text_b", "strategy_b", "n_votes", "votes_wanted", "gold"]
HEADERS = {  # column keys as people read them
    "task": "Task", "pairs": "Pairs", "votes": "Votes", "votes_wanted": "Votes wanted", "coverage": "Coverage",
    "gold_pairs": "Gold pairs", "alpha": "Krippendorff's alpha", "username": "User", "median_seconds": "Median seconds per vote",
    "agreement": "Agreement with majority", "gold_accuracy": "Gold accuracy", "gold_votes": "Gold votes", "role": "Role",
    "active": "Active", "simulated": "Simulated (pilot)", "created_at": "Created", "id": "Pair id", "prompt": "Prompt",
    "text_a": "Text A", "strategy_a": "Strategy A", "text_b": "Text B", "strategy_b": "Strategy B", "n_votes": "Votes so far",
    "gold": "Gold answer",
}
GOLD_LABELS = {value: label for label, value in GOLD_CHOICES}


SHOW_USER_MSG = "() => { const el = document.getElementById('refinery-user-msg'); if (el) el.scrollIntoView({block: 'center'}); }"


def headers(columns: list[str]) -> list[str]:
    """Readable headers for table columns."""
    return [HEADERS.get(c, c) for c in columns]


PERCENT_COLUMNS = {"coverage"}  # shares shown as 4%, not 0.041
YES_NO_COLUMNS = {"active", "simulated"}  # flags shown as yes/no, not 1/0


def _table(rows: list[dict], columns: list[str], empty: str = "") -> list[list]:
    """Table cells in the columns' order: shares as percentages, flags as yes/no, floats rounded; with no
    rows, one row whose first cell says why the table is empty."""
    def cell(column, value):
        if value is None:
            return ""
        if column in PERCENT_COLUMNS and isinstance(value, (int, float)):
            return f"{value:.0%}"
        if column in YES_NO_COLUMNS:
            return "yes" if value else "no"
        return round(value, 3) if isinstance(value, float) else value
    if not rows and empty:
        return [[empty] + [""] * (len(columns) - 1)]
    return [[cell(c, r.get(c)) for c in columns] for r in rows]


def win_rate_figure(rows: list[dict]):
    """Horizontal bars: each strategy's win rate against each opponent with its 95% bootstrap interval."""
    # each matchup once (the other direction is 1 minus this one)
    rows = [r for r in rows if r["strategy"] < r["opponent"]]
    if not rows:
        return empty_figure("Nothing yet: no votes between two different strategies in this task.")
    fig = Figure(figsize=(7, 0.5 + 0.45 * len(rows)))
    ax = fig.subplots()
    labels = [f"{r['strategy']} vs {r['opponent']} (n={r['n']})" for r in rows]
    rates = [r["rate"] for r in rows]
    err = [[max(r["rate"] - r["lo"], 0.0) for r in rows], [max(r["hi"] - r["rate"], 0.0) for r in rows]]
    ax.barh(range(len(rows)), rates, xerr=err, capsize=3, color="#4c72b0")
    ax.plot(rates, range(len(rows)), "o", color="#4c72b0")  # a 0 rate has no bar: the dot still shows it
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("win rate (tie and both-bad count half), 95% bootstrap interval")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def build(ctx) -> None:
    """Lay out the Research tab and wire its handlers."""
    store = ctx.store
    with gr.Row():
        task = gr.Dropdown(label="Task", choices=[], interactive=True, allow_custom_value=True, scale=3)
        refresh = gr.Button("Refresh", scale=1)
    overview = gr.Dataframe(headers=headers(OVERVIEW_COLUMNS), label="Tasks: pairs, votes, coverage, Krippendorff's alpha", interactive=False)
    annotators = gr.Dataframe(headers=headers(ANNOTATOR_COLUMNS), label="Annotators in this task", interactive=False)
    plot = gr.Plot(label="Strategy win rates")
    with gr.Accordion("Gold checks", open=False):
        pair_table = gr.Dataframe(headers=headers(PAIR_COLUMNS), wrap=True, label="Pairs of this task", interactive=False)
        with gr.Row():
            gold_pair = gr.Textbox("", label="Pair id")
            gold_value = gr.Dropdown(GOLD_CHOICES, label="Known answer (A and B as in the table)", value=GOLD_CHOICES[0][1])
            gold_btn = gr.Button("Mark gold")
        gold_msg = gr.Markdown()
    with gr.Accordion("Export preferences", open=False):
        with gr.Row():
            min_agreement = gr.Slider(0, 1, value=0, step=0.05, label="Minimum agreement")
            exclude_gold = gr.Checkbox(label="Exclude annotators below the task's gold threshold")
            raw = gr.Checkbox(label="Raw votes (one row per vote)")
        export_btn = gr.Button("Prepare JSONL export")
        export_file = gr.File(label="Download", interactive=False)
        export_msg = gr.Markdown()
    with gr.Accordion("Users", open=False):
        users_table = gr.Dataframe(headers=headers(USER_COLUMNS), label="Accounts", interactive=False)
        with gr.Row():
            username = gr.Textbox(label="Username")
            role = gr.Radio(["annotator", "researcher"], value="annotator", label="Role (for new accounts)")
        with gr.Row():
            add_btn = gr.Button("Add")
            disable_btn = gr.Button("Disable")
            enable_btn = gr.Button("Enable")
            reset_btn = gr.Button("Reset password")
        user_msg = gr.Markdown(elem_id="refinery-user-msg")

    def load(task_name: str | None, request: gr.Request) -> dict:
        auth.require(request, ctx, "researcher")
        names = [t["name"] for t in task_store.list_tasks(store)]
        overview_rows = agreement.task_overview(store)
        if task_name not in names:
            with_votes = [r["task"] for r in overview_rows if r["votes"]] or names
            task_name = with_votes[0] if with_votes else None
        if task_name is None:
            votes, pairs = [], []
        else:
            task_id = task_store.get_task(store, task_name)["id"]
            votes, pairs = vote_store.list_votes(store, task_id), pair_store.list_pairs(store, task_id)
        pair_rows = [{**p, "prompt": p["prompt_text"][:80], "text_a": p["text_a"][:120], "text_b": p["text_b"][:120],
                      "gold": GOLD_LABELS.get(p["gold"], "")} for p in pairs]
        return {
            task: gr.Dropdown(choices=names, value=task_name),
            overview: _table(overview_rows, OVERVIEW_COLUMNS, "(no tasks yet: python app.py tasks load)"),
            annotators: _table(agreement.annotator_table(votes), ANNOTATOR_COLUMNS, "(nobody has voted on this task yet)"),
            plot: win_rate_figure(agreement.strategy_win_rates(votes)),
            pair_table: _table(pair_rows, PAIR_COLUMNS, "(no pairs yet: Create pairs in the Generate tab)"),
            users_table: _table(user_store.list_users(store), USER_COLUMNS),
        }

    def mark_gold(pair_id, value, request: gr.Request) -> str:
        auth.require(request, ctx, "researcher")
        with auth.user_errors():
            pair_id = fields.whole(pair_id, "Pair id (from the table)", 1)
            pair_store.set_gold(store, pair_id, None if value == "(clear)" else value)
        return f"Pair {pair_id}: gold answer {'cleared' if value == '(clear)' else GOLD_LABELS.get(value, value)}."

    def make_export(task_name, min_agree, exclude, raw_votes, request: gr.Request) -> tuple[str, str]:
        auth.require(request, ctx, "researcher")
        if not task_name:
            raise auth.refuse("Pick a task first.")
        export_files.sweep()
        out = export_files.new_dir() / f"{task_name}-{'votes' if raw_votes else 'preferences'}.jsonl"
        with auth.user_errors():
            path, n = export.export(store, task_name, "jsonl", out, float(min_agree or 0), bool(exclude), bool(raw_votes))
        what = "votes" if raw_votes else "preference pairs"
        return str(path), " ".join(filter(None, [f"{n} {what}.", export.shortfall_note(export.vote_shortfall(store, task_name))]))

    def add_user(name, new_role, request: gr.Request) -> str:
        auth.require(request, ctx, "researcher")
        with auth.user_errors():
            password = accounts.create_user(store, name or "", new_role)
        return f"Created {new_role} **{name.strip()}** with password `{password}` — shown once, pass it on now."

    def set_active(active: bool):
        def handler(name, request: gr.Request) -> str:
            me = auth.require(request, ctx, "researcher")
            if not active and (name or "").strip() == me["username"]:
                raise auth.refuse("You cannot disable your own account.")
            with auth.user_errors():
                user_store.set_active(store, (name or "").strip(), active)
            return f"**{name.strip()}** is now {'enabled' if active else 'disabled'}."
        return handler

    def reset(name, request: gr.Request) -> str:
        auth.require(request, ctx, "researcher")
        with auth.user_errors():
            password = accounts.reset_password(store, (name or "").strip())
        return f"New password for **{name.strip()}**: `{password}` — shown once, pass it on now."

    views = [task, overview, annotators, plot, pair_table, users_table]
    gr.on([refresh.click, task.input], load, inputs=[task], outputs=views, api_name="research_refresh")
    gold_btn.click(mark_gold, [gold_pair, gold_value], gold_msg, api_name="research_mark_gold").then(load, [task], views, api_visibility="private")
    export_btn.click(make_export, [task, min_agreement, exclude_gold, raw], [export_file, export_msg], api_name="research_export")
    for button, fn, name in ((add_btn, add_user, "research_add_user"), (disable_btn, set_active(False), "research_disable_user"),
                             (enable_btn, set_active(True), "research_enable_user"), (reset_btn, reset, "research_reset_password")):
        inputs = [username, role] if fn is add_user else [username]
        # the message (a new or reset one-time password) is brought into view once the tables are redrawn
        button.click(fn, inputs, user_msg, api_name=name).then(load, [task], views, api_visibility="private").then(
            None, None, None, js=SHOW_USER_MSG, api_visibility="private")

    def on_open(task_name, request: gr.Request) -> dict:
        # Every page load runs this; annotators get nothing (and no error toast), the tab is hidden for them.
        if not auth.allowed(auth.current_user(request, ctx), "researcher"):
            return {task: gr.skip()}  # an empty dict would be read as one value for all the outputs
        return load(task_name, request)

    gr.context.Context.root_block.load(on_open, inputs=[task], outputs=views, api_visibility="private")
