"""The Annotate tab: one blind pair at a time, a verdict, optional ratings and a better answer, then the reveal."""

from __future__ import annotations

import functools
import html
import inspect
import json
from pathlib import Path

import gradio as gr
import nh3
from markdown_it import MarkdownIt

from feedback import agreement, assignment, cut_answers
from storage import pairs, tasks as task_store, votes as vote_store
from storage.terms import AXES, BOTH_BAD, TIE, A, B
from ui import auth, lanes

RATING_CHOICES = ["1", "2", "3", "4", "5"]
MAX_ID = 2**63 - 1
ALL_TASKS = "(all tasks)"

# Raw HTML in model text is escaped by markdown-it (html=False), which also refuses javascript:
# links; nh3 then cleans the rendered HTML again, so a renderer bug cannot let markup through.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])



# The page's own scripts, put in the app's <head>: the keyboard (1-4, Enter, s) and the client that
# calls ui/annotate_api.py's routes and sets the components from their answers.
PAGE_HEAD = (Path(__file__).resolve().parent / "annotate_head.html").read_text(encoding="utf-8")


def safe_markdown(text: str) -> str:
    """Model or prompt text rendered as Markdown to HTML with any HTML in it shown as text, never run."""
    rendered = _markdown.render(text or "")
    return nh3.clean(rendered, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def _box(text: str) -> str:
    return f'<div class="refinery-text">{safe_markdown(text)}</div>'


def _task_id(store, task_name: str | None) -> int | None:
    if task_name is None or task_name in ("", ALL_TASKS):
        return None
    if not isinstance(task_name, str):
        raise auth.refuse("Pick a task from the list.")
    return task_store.get_task(store, task_name)["id"]


def _rating(value) -> int | None:
    # The value comes from the page as JSON, so it is checked here: "3" (the page's) or 3 (a script's).
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and str(value) in RATING_CHOICES:
        return value
    if isinstance(value, str) and value in RATING_CHOICES:
        return int(value)
    raise auth.refuse(f"A rating is one of {', '.join(RATING_CHOICES)}, not {json.dumps(value)[:20]}.")


def progress_text(store, user: dict, task_id: int | None) -> str:
    """Votes done, pairs left for the user as a bar, and their agreement with the majority so far (HTML;
    every value is a number or fixed text)."""
    done = vote_store.count_votes(store, user_id=user["id"], task_id=task_id)
    left = assignment.pairs_left(store, user["id"], task_id)
    score = agreement.agreement_with_majority(vote_store.shared_choices(store, user["id"], task_id)).get(user["id"])
    agree = "not yet (no pair shared with others)" if score is None else f"{score:.0%}"
    share = done / (done + left) if done + left else 1.0
    return (f'<div class="refinery-progress-head"><b>Progress</b> {done} of {done + left}</div>'
            f'<div class="refinery-bar" role="progressbar" aria-valuemin="0" aria-valuemax="{done + left}" '
            f'aria-valuenow="{done}"><div style="width:{share:.0%}"></div></div>'
            f"<ul><li>votes done: <b>{done}</b></li><li>pairs left for you: <b>{left}</b></li>"
            f"<li>your agreement with the majority: <b>{agree}</b></li></ul>")


def reveal_text(view: dict, choice: str, first_time: bool = True) -> str:
    """Which strategy and model wrote each side, and the vote in screen terms, shown after voting (Markdown);
    with first_time False it says the vote had been recorded before and this one changed nothing."""
    def side(s):
        names = (view[f"{s}_strategy"], view[f"{s}_model"])
        return "`{}` from `{}`".format(*(n.replace("`", "'") for n in names))  # a backtick would end the code span
    if choice in (A, B):
        on_left = (choice == A) != view["swapped"]
        picked = "A better" if on_left else "B better"
    else:
        picked = {TIE: "a tie", BOTH_BAD: "both bad"}[choice]
    voted = (f"You voted: **{picked}**." if first_time else
             f"**Already recorded:** you voted **{picked}** on this pair before; this submit changed nothing.")
    return f"### Revealed\n- **A** was {side('left')}\n- **B** was {side('right')}\n\n{voted} Press Enter for the next pair."


def prompt_html(view: dict, task_title: str | None = None) -> str:
    """The task the pair belongs to, the question under a heading of its own, and a prompt's reference
    answer (smaller, as a help) when it has one; all text sanitized."""
    head = f'<div class="refinery-task-name">Task: <b>{html.escape(task_title)}</b></div>' if task_title else ""
    out = (f'<div id="refinery-question">{head}<h2 class="refinery-question-head">Question</h2>'
           f'<div class="refinery-question">{_box(view["prompt_text"])}</div></div>')
    if view.get("reference"):
        out += '<div class="refinery-reference"><span class="refinery-small-head">Reference answer</span>' + _box(view["reference"]) + "</div>"
    return out


def answer_html(view: dict, side: str) -> str:
    """One side's answer, marked when it looks cut at its token limit (feedback/cut_answers.py)."""
    text, limit = view[f"{side}_text"], view.get(f"{side}_max_new_tokens")
    mark = f'<p class="refinery-cut">… cut at {limit} tokens</p>' if cut_answers.looks_cut(text, limit) else ""
    return f'<div class="refinery-text refinery-answer">{safe_markdown(text)}{mark}</div>'


def _no_pair(message: str, progress: str = "") -> dict:
    """The screen with no pair on it: a message where the prompt goes."""
    return {"pair_id": None, "prompt": _box(message), "left": "", "right": "", "progress": progress, "guidelines": ""}


def _screen(ctx, user: dict, task_id: int | None, view: dict | None) -> dict:
    """What the page shows for a served pair (or for none left): sanitized HTML boxes and Markdown."""
    progress = progress_text(ctx.store, user, task_id)
    if view is None:
        return _no_pair("**Nothing left to annotate here.** Thank you! Try another task or come back later.", progress)
    guide = task_store.get_task_by_id(ctx.store, view["task_id"])
    return {"pair_id": view["pair_id"], "prompt": prompt_html(view, guide["title"]),
            "left": answer_html(view, "left"), "right": answer_html(view, "right"),
            # cleandoc: what gr.Markdown's postprocess does, so indented guidelines stay text
            "progress": progress, "guidelines": inspect.cleandoc(f"### Guidelines: {guide['title']}\n\n{guide['guidelines']}")}


def _pair_id(body: dict) -> int:
    pair_id = body.get("pair_id")
    if pair_id is None:
        raise auth.refuse("There is no pair on screen; press Next pair.")
    if not isinstance(pair_id, int) or isinstance(pair_id, bool):
        raise auth.refuse("The pair id must be a whole number.")
    if not 1 <= pair_id <= MAX_ID:  # SQLite's integers end at MAX_ID; a larger one would not bind
        raise auth.refuse(f"There is no pair {str(pair_id)[:20]}; press Next pair.")
    return pair_id


def next_screen(ctx, name: str, body: dict) -> dict:
    """Serve the annotator their next pair of the chosen task (or of any task)."""
    user = auth.require_account(name, ctx, "annotator")
    with auth.user_errors():
        task_id = _task_id(ctx.store, body.get("task"))
        view = assignment.next_pair(ctx.store, user["id"], task_id, ctx.settings.assignment_timeout_s)
    return _screen(ctx, user, task_id, view)


def open_screen(ctx, name: str, body: dict) -> dict:
    """The tab as the page opens: an annotator gets their first pair; a researcher, who may have come
    for another tab, is not promised one until they press Next pair."""
    user = auth.account(name, ctx)
    if user is None or user["role"] != "annotator":
        return _no_pair("Press **Next pair** to start annotating.")
    return next_screen(ctx, name, body)


def vote(ctx, name: str, body: dict) -> dict:
    """Record the annotator's verdict (ratings and better answer optional) on the pair on screen; returns the reveal."""
    user = auth.require_account(name, ctx, "annotator")
    pair_id = _pair_id(body)
    verdict, correction, ratings = body.get("verdict"), body.get("correction"), body.get("ratings", {})
    if not verdict:
        raise auth.refuse("Pick a verdict first (keys 1-4).")
    if not isinstance(verdict, str) or not isinstance(correction, (str, type(None))):
        raise auth.refuse("The verdict and the better answer must be text.")
    ratings = {} if ratings is None else ratings
    if not isinstance(ratings, dict):
        raise auth.refuse("The ratings must be a JSON object.")
    with auth.user_errors():
        task_id = _task_id(ctx.store, body.get("task"))  # before the vote: a bad task name changes nothing
        side = {s: {axis: _rating(ratings.get(f"{s}_{axis}")) for axis in AXES} for s in ("left", "right")}
        stored, created = assignment.submit(ctx.store, user["id"], pair_id, verdict, left=side["left"], right=side["right"],
                                            correction=correction, max_chars=ctx.settings.max_text_chars)
        view = assignment.on_screen(pairs.get_pair(ctx.store, pair_id), bool(stored["swapped"]))
    return {"reveal": reveal_text(view, stored["choice"], first_time=created), "progress": progress_text(ctx.store, user, task_id)}


def skip(ctx, name: str, body: dict) -> dict:
    """Skip the pair on screen (if any) and serve the next one."""
    user = auth.require_account(name, ctx, "annotator")
    if body.get("pair_id") is not None:
        with auth.user_errors():
            assignment.skip(ctx.store, user["id"], _pair_id(body))
    return next_screen(ctx, name, body)


def routes(ctx) -> dict:
    """ui/annotate_api.py's routes: name -> (lane, handler(name, body)). Votes run in their own lane (ui/lanes.py)."""
    bound = lambda fn: functools.partial(fn, ctx)  # noqa: E731
    return {"open": (lanes.FETCHES, bound(open_screen)), "next": (lanes.FETCHES, bound(next_screen)),
            "skip": (lanes.FETCHES, bound(skip)), "vote": (lanes.VOTES, bound(vote))}


def build(ctx) -> None:
    """Lay out the Annotate tab; its buttons call ui/annotate_api.py's routes from the page (PAGE_HEAD's client)."""
    settings = ctx.settings
    with gr.Row():
        # What a vote needs comes first, so at 1366x768 the question, both answers' first lines (each box
        # scrolls on its own), the verdict and the buttons fit one screen; the optional ratings follow.
        with gr.Column(scale=3):
            prompt = gr.HTML(_box("Loading…"))
            with gr.Row(equal_height=False):
                with gr.Column():
                    gr.Markdown("#### A")
                    left = gr.HTML("")
                with gr.Column():
                    gr.Markdown("#### B")
                    right = gr.HTML("")
            verdict = gr.Radio(list(assignment.VERDICTS), label="Which is better? (keys 1-4)", elem_id="refinery-verdict")
            # Above the buttons (and scrolled into view after a vote) so a keyboard voter sees it.
            reveal = gr.Markdown("", elem_id="refinery-reveal")
            with gr.Row():
                submit = gr.Button("Submit (Enter)", variant="primary", elem_id="refinery-submit")
                skip_btn = gr.Button("Skip (s)", elem_id="refinery-skip")
                next_btn = gr.Button("Next pair (Enter after the reveal)", elem_id="refinery-next")
            with gr.Row(equal_height=False):
                with gr.Column():
                    left_concept = gr.Radio(RATING_CHOICES, label="A: concept adherence (1-5, optional)")
                    left_content = gr.Radio(RATING_CHOICES, label="A: content quality (1-5, optional)")
                with gr.Column():
                    right_concept = gr.Radio(RATING_CHOICES, label="B: concept adherence (1-5, optional)")
                    right_content = gr.Radio(RATING_CHOICES, label="B: content quality (1-5, optional)")
            with gr.Accordion("Write a better answer (optional)", open=False):
                correction = gr.Textbox(label="Better answer", lines=4, max_length=settings.max_text_chars)
        # Stays in view while the page scrolls (CSS in ui/app.py): the task, the progress bar, the guidelines.
        with gr.Column(scale=1, elem_id="refinery-side"):
            task = gr.Dropdown(label="Task", choices=[ALL_TASKS], value=ALL_TASKS, interactive=True, allow_custom_value=True)
            progress = gr.HTML("", elem_id="refinery-progress")
            guidelines = gr.Markdown("")

    # The order of the client's screen() (annotate_head.html): what a new pair (or none) sets.
    screen = [prompt, left, right, verdict, left_concept, left_content, right_concept, right_content,
              correction, reveal, progress, guidelines]
    ratings = [left_concept, left_content, right_concept, right_content]
    hidden = {"api_visibility": "private"}
    gr.on([next_btn.click, task.input], None, inputs=[task], outputs=screen, js="(task) => refinery.next(task)", **hidden)
    submit.click(None, inputs=[verdict, *ratings, correction, task], outputs=[reveal, progress],
                 js="(...values) => refinery.vote(...values)", **hidden)
    skip_btn.click(None, inputs=[task], outputs=screen, js="(task) => refinery.skip(task)", **hidden)
    # The root Blocks is the one being built: every page load opens the tab.
    gr.context.Context.root_block.load(None, inputs=[task], outputs=screen, js="(task) => refinery.open(task)", **hidden)

    def task_choices(request: gr.Request):
        auth.require(request, ctx, "annotator")
        names = [t["name"] for t in task_store.list_tasks(ctx.store)]
        return gr.Dropdown(choices=[ALL_TASKS, *names])

    task.focus(task_choices, inputs=None, outputs=[task], api_visibility="private")
