"""The Annotate tab: one blind pair at a time, a verdict, optional ratings and a better answer, then the reveal."""

from __future__ import annotations

import inspect

import gradio as gr
import nh3
from markdown_it import MarkdownIt

from feedback import agreement, assignment
from storage import tasks as task_store
from storage import votes as vote_store
from ui import auth, lanes

RATING_CHOICES = ["1", "2", "3", "4", "5"]
ALL_TASKS = "(all tasks)"

# Raw HTML in model text is escaped by markdown-it (html=False), which also refuses javascript:
# links; nh3 then cleans the rendered HTML again, so a renderer bug cannot let markup through.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

# Keys 1-4 pick the verdict, Enter submits (or moves on after the reveal), s skips. Keys typed
# into a text field are left alone, and nothing happens unless the Annotate tab is on screen.
KEYBOARD_JS = """
<script>
document.addEventListener("keydown", (event) => {
  const t = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (t && (t.tagName === "TEXTAREA" || t.isContentEditable ||
            (t.tagName === "INPUT" && !["radio", "checkbox", "button"].includes(t.type)))) return;
  const shown = (id) => { const el = document.getElementById(id); return el && el.offsetParent !== null ? el : null; };
  const verdict = shown("refinery-verdict");
  if (!verdict) return;
  if (["1", "2", "3", "4"].includes(event.key)) {
    const options = verdict.querySelectorAll("input[type=radio]");
    const pick = options[Number(event.key) - 1];
    if (pick) { pick.click(); event.preventDefault(); }
  } else if (event.key === "Enter") {
    const revealed = (shown("refinery-reveal") || {innerText: ""}).innerText.includes("Revealed");
    const button = shown(revealed ? "refinery-next" : "refinery-submit");
    if (button) { button.click(); event.preventDefault(); }
  } else if (event.key === "s" || event.key === "S") {
    const button = shown("refinery-skip");
    if (button) { button.click(); event.preventDefault(); }
  }
});
</script>
"""


# After a recorded vote: Submit is disabled until the next pair is on screen, and the reveal
# scrolled into view. Done in the page, not by a button update from the handler: a component update
# in every vote's reply costs the server a rebuild of the button per call.
AFTER_VOTE_JS = """() => {
  const submit = document.getElementById("refinery-submit");
  if (submit) submit.disabled = true;
  const el = document.getElementById("refinery-reveal");
  if (el) el.scrollIntoView({block: "nearest"});
}"""

NEW_PAIR_JS = """() => {
  const submit = document.getElementById("refinery-submit");
  if (submit) submit.disabled = false;
}"""


def safe_markdown(text: str) -> str:
    """Model or prompt text rendered as Markdown to HTML with any HTML in it shown as text, never run."""
    rendered = _markdown.render(text or "")
    return nh3.clean(rendered, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def _box(text: str) -> str:
    return f'<div class="refinery-text">{safe_markdown(text)}</div>'


def _task_id(store, task_name: str | None) -> int | None:
    if not task_name or task_name == ALL_TASKS:
        return None
    if not isinstance(task_name, str):
        raise auth.refuse("Pick a task from the list.")
    return task_store.get_task(store, task_name)["id"]


def _rating(value) -> int | None:
    # The events skip Gradio's preprocessing (see build), so the raw value is checked here.
    if value in (None, ""):
        return None
    if value not in RATING_CHOICES:
        raise auth.refuse(f"A rating is one of {', '.join(RATING_CHOICES)}, not {str(value)[:20]!r}.")
    return int(value)


def progress_text(store, user: dict, task_id: int | None) -> str:
    """Votes done, pairs left for the user, and their agreement with the majority so far (Markdown)."""
    done = vote_store.count_votes(store, user_id=user["id"], task_id=task_id)
    left = assignment.pairs_left(store, user["id"], task_id)
    score = agreement.agreement_with_majority(vote_store.shared_choices(store, user["id"], task_id)).get(user["id"])
    agree = "not yet (no pair shared with others)" if score is None else f"{score:.0%}"
    return f"### Progress\n- votes done: **{done}**\n- pairs left for you: **{left}**\n- your agreement with the majority: **{agree}**"


def reveal_text(view: dict, choice: str, first_time: bool = True) -> str:
    """Which strategy and model wrote each side, and the vote in screen terms, shown after voting (Markdown);
    with first_time False it says the vote had been recorded before and this one changed nothing."""
    def side(s):
        names = (view[f"{s}_strategy"], view[f"{s}_model"])
        return "`{}` from `{}`".format(*(n.replace("`", "'") for n in names))  # a backtick would end the code span
    if choice in ("a", "b"):
        on_left = (choice == "a") != view["swapped"]
        picked = "A better" if on_left else "B better"
    else:
        picked = {"tie": "a tie", "both_bad": "both bad"}[choice]
    voted = (f"You voted: **{picked}**." if first_time else
             f"**Already recorded:** you voted **{picked}** on this pair before; this submit changed nothing.")
    return f"### Revealed\n- **A** was {side('left')}\n- **B** was {side('right')}\n\n{voted} Press Enter for the next pair."


def prompt_html(view: dict) -> str:
    """The question, and under it the prompt's reference answer when it has one (both as sanitized text)."""
    html = _box(view["prompt_text"])
    if view.get("reference"):
        html += '<div class="refinery-reference"><b>Reference answer</b>' + _box(view["reference"]) + "</div>"
    return html


def build(ctx) -> None:
    """Lay out the Annotate tab and wire its handlers (each checks the annotator role itself)."""
    settings = ctx.settings
    with gr.Row():
        with gr.Column(scale=3):
            task = gr.Dropdown(label="Task", choices=[ALL_TASKS], value=ALL_TASKS, interactive=True, allow_custom_value=True)
            gr.Markdown("#### Prompt")
            prompt = gr.HTML(_box("Loading…"))
            with gr.Row(equal_height=False):
                with gr.Column():
                    gr.Markdown("#### A")
                    left = gr.HTML("")
                    left_concept = gr.Radio(RATING_CHOICES, label="A: concept adherence (1-5, optional)")
                    left_content = gr.Radio(RATING_CHOICES, label="A: content quality (1-5, optional)")
                with gr.Column():
                    gr.Markdown("#### B")
                    right = gr.HTML("")
                    right_concept = gr.Radio(RATING_CHOICES, label="B: concept adherence (1-5, optional)")
                    right_content = gr.Radio(RATING_CHOICES, label="B: content quality (1-5, optional)")
            verdict = gr.Radio(list(assignment.VERDICTS), label="Which is better? (keys 1-4)", elem_id="refinery-verdict")
            # Above the buttons (and scrolled into view after a vote) so a keyboard voter sees it.
            reveal = gr.Markdown("", elem_id="refinery-reveal")
            with gr.Accordion("Write a better answer (optional)", open=False):
                correction = gr.Textbox(label="Better answer", lines=4, max_length=settings.max_text_chars)
            with gr.Row():
                submit = gr.Button("Submit (Enter)", variant="primary", elem_id="refinery-submit")
                skip = gr.Button("Skip (s)", elem_id="refinery-skip")
                next_btn = gr.Button("Next pair (Enter after the reveal)", elem_id="refinery-next")
        with gr.Column(scale=1):
            progress = gr.Markdown("", elem_id="refinery-progress")
            guidelines = gr.Markdown("")
    current = gr.State(None)  # the pair on screen, kept server-side per session

    # Buttons stay put (no visibility updates: each one costs Gradio a component rebuild per call).
    screen = [current, prompt, left, right, verdict, left_concept, left_content, right_concept, right_content,
              correction, reveal, progress, guidelines]

    def show_next(task_name: str, request: gr.Request) -> dict:
        user = auth.require(request, ctx, "annotator")
        with auth.user_errors():
            task_id = _task_id(ctx.store, task_name)
            view = assignment.next_pair(ctx.store, user["id"], task_id, settings.assignment_timeout_s)
        cleared = {c: None for c in (verdict, left_concept, left_content, right_concept, right_content)}
        out = {**cleared, correction: "", reveal: "",
               progress: progress_text(ctx.store, user, task_id)}
        if view is None:
            return {**out, current: None, prompt: _box("**Nothing left to annotate here.** Thank you! Try another task or come back later."),
                    left: "", right: "", guidelines: ""}
        guide = task_store.get_task_by_id(ctx.store, view["task_id"])
        return {**out, current: view, prompt: prompt_html(view),
                left: _box(view["left_text"]), right: _box(view["right_text"]),
                # cleandoc: what Markdown's postprocess did (the events skip it), so indented guidelines stay text
                guidelines: inspect.cleandoc(f"### Guidelines: {guide['title']}\n\n{guide['guidelines']}")}

    def vote(view, verdict_value, lc, lct, rc, rct, correction_text, task_name, request: gr.Request) -> dict:
        user = auth.require(request, ctx, "annotator")
        if not view:
            raise auth.refuse("There is no pair on screen; press Next pair.")
        if not verdict_value:
            raise auth.refuse("Pick a verdict first (keys 1-4).")
        if not isinstance(verdict_value, str) or not isinstance(correction_text, (str, type(None))):
            raise auth.refuse("The verdict and the better answer must be text.")
        with auth.user_errors():
            task_id = _task_id(ctx.store, task_name)  # before the vote: a bad task name changes nothing
            stored, created = assignment.submit(
                ctx.store, user["id"], view["pair_id"], verdict_value,
                left={"concept": _rating(lc), "content": _rating(lct)}, right={"concept": _rating(rc), "content": _rating(rct)},
                correction=correction_text, max_chars=settings.max_text_chars,
            )
        return {reveal: reveal_text(view, stored["choice"], first_time=created),
                progress: progress_text(ctx.store, user, task_id)}

    def skip_pair(view, task_name: str, request: gr.Request) -> dict:
        user = auth.require(request, ctx, "annotator")
        if view:
            with auth.user_errors():
                assignment.skip(ctx.store, user["id"], view["pair_id"])
        return show_next(task_name, request)

    def task_choices(request: gr.Request):
        auth.require(request, ctx, "annotator")
        names = [t["name"] for t in task_store.list_tasks(ctx.store)]
        return gr.Dropdown(choices=[ALL_TASKS, *names])

    # The handlers run in lanes (ui/lanes.py): votes in their own threads, fetches in a narrow lane.
    next_call, vote_call, skip_call = lanes.FETCHES.handler(show_next), lanes.VOTES.handler(vote), lanes.FETCHES.handler(skip_pair)

    # Off the queue: one POST answers each call (the queue's POST, then event stream, doubles the
    # work per vote), and these short handlers need neither progress bars nor a concurrency limit.
    # No pre/postprocessing: the values are plain strings and None already, and Gradio runs each
    # component's pre/postprocess in a thread hop of its own (13 outputs per new pair); the
    # handlers check their raw inputs themselves (_task_id, _rating, vote).
    raw = {"queue": False, "preprocess": False, "postprocess": False}
    gr.on([next_btn.click, task.input], next_call, inputs=[task], outputs=screen, api_name="annotate_next", **raw).then(
        None, js=NEW_PAIR_JS, api_visibility="private")
    # .success: a refused submit (no verdict picked) leaves Submit enabled
    submit.click(vote_call, inputs=[current, verdict, left_concept, left_content, right_concept, right_content, correction, task],
                 outputs=[reveal, progress], api_name="annotate_submit", **raw).success(
        None, js=AFTER_VOTE_JS, api_visibility="private")
    skip.click(skip_call, inputs=[current, task], outputs=screen, api_name="annotate_skip", **raw).then(
        None, js=NEW_PAIR_JS, api_visibility="private")
    task.focus(task_choices, inputs=None, outputs=[task], api_visibility="private")

    def on_open(task_name: str, request: gr.Request) -> dict:
        # Annotators get their first pair as the page opens; a researcher opening the app for
        # another tab should not hold a pair, so they press Next pair to start.
        user = auth.current_user(request, ctx)
        if user is None or user["role"] != "annotator":
            return {prompt: _box("Press **Next pair** to start annotating.")}
        return show_next(task_name, request)

    # The root Blocks is the one being built: run on_open on every page load.
    gr.context.Context.root_block.load(lanes.FETCHES.handler(on_open), inputs=[task], outputs=screen, api_visibility="private")
