"""The Demo tab (researchers): one prompt, the base model and a trained version (optionally the weak
teacher) streaming their answers side by side. Base and version come from one loaded copy of the
base weights with the adapter attached (models.adapter_host), not from two full copies.

Researchers only, checked in every handler: the demo shows which model wrote which answer, and
annotators who saw that could recognise the sides of the blind before/after pairs they vote on;
it is also the heaviest thing a click can start. Model text is shown as sanitized Markdown
(ui.annotate.safe_markdown), never as raw HTML.
"""

from __future__ import annotations

import html
from typing import Iterator

import gradio as gr

from models.gen_params import DEFAULT_MAX_NEW_TOKENS
from storage import tasks as task_store
from ui.annotate import safe_markdown
from ui.auth import refuse, require, user_errors

N_EXAMPLES = 8  # example prompts offered per task
NO_VERSION = "(none: base model only)"


def example_prompts(store, task_name: str | None, n: int = N_EXAMPLES) -> list[str]:
    """The first `n` eval prompts of the task's prompt set, as example inputs."""
    if not task_name:
        return []
    task = task_store.get_task(store, task_name)
    return [p["text"] for p in task_store.list_prompts(store, task["prompt_set"], "eval", limit=n)]


def box(title: str, text: str, done: bool) -> str:
    """One column's HTML: a heading and the answer so far as sanitized Markdown."""
    cursor = "" if done else " ▌"
    return f'<div class="refinery-text"><h4>{html.escape(title)}</h4>{safe_markdown(text + cursor)}</div>'


def interleave(streams: dict[str, Iterator[str]]) -> Iterator[dict[str, tuple[str, bool]]]:
    """Advance every stream of growing texts in turn; yields {name: (text so far, finished)} after each step."""
    state = {name: ("", False) for name in streams}
    active = dict(streams)
    while active:
        for name in list(active):
            try:
                state[name] = (next(active[name]), False)
            except StopIteration:
                state[name] = (state[name][0], True)
                del active[name]
            yield dict(state)


def build(ctx) -> None:
    """Lay out the Demo tab inside the current gr.Tab."""
    from ui.results import on_open

    with gr.Row():
        # names are checked by the handlers; the lists are refreshed when the tab opens
        task = gr.Dropdown([], label="Task (for example prompts and the weak model's instruction)", allow_custom_value=True)
        examples = gr.Dropdown([], label="Example prompts", allow_custom_value=True)
    prompt = gr.Textbox(label="Prompt", lines=3, max_length=ctx.settings.max_text_chars)
    with gr.Row():
        base = gr.Textbox(ctx.settings.strong_model, label="Base model spec")
        version = gr.Dropdown([NO_VERSION], value=NO_VERSION, label="Trained version", allow_custom_value=True)
        show_weak = gr.Checkbox(False, label=f"Also the weak model ({ctx.settings.weak_model}, with the task's instruction)")
    with gr.Accordion("Generation settings", open=False):
        with gr.Row():
            max_new_tokens = gr.Slider(16, 1024, value=DEFAULT_MAX_NEW_TOKENS, step=16, label="Max new tokens")
            temperature = gr.Slider(0.0, 2.0, value=0.0, step=0.05, label="Temperature (0 = greedy)")
            top_p = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label="Top-p")
            seed = gr.Number(0, label="Seed", precision=0)
    go = gr.Button("Generate", variant="primary")
    with gr.Row(equal_height=False):
        out_base = gr.HTML("", elem_id="refinery-demo-base")
        out_version = gr.HTML("", elem_id="refinery-demo-version")
        out_weak = gr.HTML("", visible=False, elem_id="refinery-demo-weak")  # a third column only when the weak model is asked for

    def on_load(task_name, request: gr.Request):
        require(request, ctx, "researcher")
        from storage.models import list_models

        names = [t["name"] for t in task_store.list_tasks(ctx.store)]
        versions = [m["name"] for m in list_models(ctx.store, kind="adapter")]
        task_name = task_name if task_name in names else (names[0] if names else None)
        return gr.Dropdown(choices=names, value=task_name), gr.Dropdown(choices=[NO_VERSION] + versions)

    def on_task(task_name, request: gr.Request):
        require(request, ctx, "researcher")
        with user_errors():
            found = example_prompts(ctx.store, task_name)
        return gr.Dropdown(choices=found, value=None)

    def on_example(text, request: gr.Request):
        require(request, ctx, "researcher")
        return text or gr.skip()

    def on_generate(task_name, text, base_spec, version_name, weak_too, max_new, temp, top, seed_value, request: gr.Request):
        require(request, ctx, "researcher")
        text = (text or "").strip()
        if not text:
            raise refuse("Type a prompt or pick an example first.")
        if len(text) > ctx.settings.max_text_chars:
            raise refuse(f"The prompt is longer than {ctx.settings.max_text_chars} characters; shorten it.")
        with user_errors():
            streams, titles = open_streams(ctx, task_name, text, (base_spec or "").strip() or ctx.settings.strong_model,
                                           None if version_name in (None, "", NO_VERSION) else version_name, bool(weak_too),
                                           int(max_new), float(temp), float(top), int(seed_value or 0))
        outputs = {"base": "", "version": "", "weak": ""}
        for state in interleave(streams):
            for key, (answer, done) in state.items():
                outputs[key] = box(titles[key], answer, done)
            yield outputs["base"], outputs["version"], outputs["weak"]

    def on_weak(on, request: gr.Request):
        require(request, ctx, "researcher")
        return gr.HTML(visible=bool(on))

    show_weak.change(on_weak, [show_weak], [out_weak], api_visibility="private")
    on_open(on_load, [task], [task, version])
    task.change(on_task, [task], [examples], api_name="demo_examples")
    examples.change(on_example, [examples], [prompt], api_visibility="private")
    # one demo generation at a time: each holds up to three models busy on a shared CPU
    go.click(on_generate, [task, prompt, base, version, show_weak, max_new_tokens, temperature, top_p, seed],
             [out_base, out_version, out_weak], api_name="demo_generate", concurrency_limit=1, concurrency_id="demo")


def open_streams(ctx, task_name, text, base_spec, version_name, weak_too, max_new, temp, top, seed):
    """({"base"|"version"|"weak": iterator of growing text}, {key: column title}) for one demo request."""
    from storage.errors import UserError
    from storage.models import require_adapter
    from models.generation import GenParams, Generator
    from models.loading import load, load_host
    from models.strategies import STRATEGIES, WEAK, Context

    params = GenParams(max_new_tokens=max_new, temperature=temp, top_p=top, seed=seed, batch_size=1)
    plain = [{"role": "user", "content": text}]
    device = ctx.settings.device

    def hosted(spec, adapter_path=None):
        # base and version from one copy of the base weights (the adapter attached, not merged)
        host = load_host(spec, ctx.settings, device=device)
        return Generator(host.view(adapter_path), host.tokenizer, backend="transformers").stream(plain, params)

    streams, titles = {"base": hosted(base_spec)}, {"base": f"base: {base_spec}"}
    if version_name:
        row = require_adapter(ctx.store, version_name)
        streams["version"], titles["version"] = hosted(row["base_spec"], row["path"]), f"trained: {version_name}"
    if weak_too:
        if not task_name:
            raise UserError("pick a task: the weak model answers with the task's concept instruction")
        messages = STRATEGIES[WEAK].build(task_store.get_task(ctx.store, task_name), text, Context())
        model, tokenizer = load(ctx.settings.weak_model, ctx.settings, device=device)
        streams["weak"], titles["weak"] = (Generator(model, tokenizer, backend="transformers").stream(messages, params),
                                           f"weak: {ctx.settings.weak_model}")
    return streams, titles
