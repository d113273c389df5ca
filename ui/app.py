"""The web app's shell: one Blocks with a tab per room, sign-in, and role-based tab visibility."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

import gradio as gr
from gradio.routes import App, ORJSONResponse
from starlette.middleware import Middleware

from feedback import sign_in_throttle
from settings import Settings
from registry import Registry
from storage.db import Store
from storage.errors import UserError
from ui import auth, origin_guard, session_configs

@dataclass(frozen=True)
class Tab:
    """A tab: its label, the module whose build(ctx) lays it out inside gr.Tab, and the role that may use it."""

    label: str
    module: str
    role: str


TABS: Registry[Tab] = Registry("tab", (
    Tab("Annotate", "ui.annotate", "annotator"),
    Tab("Research", "ui.research", "researcher"),
    Tab("Generate", "ui.generate_tab", "researcher"),
    Tab("Train", "ui.train_tab", "researcher"),
    Tab("Results", "ui.results", "researcher"),
    Tab("Demo", "ui.demo", "researcher"),
), name_of=lambda t: t.label)

# Gradio's sign-in form shows only its own "Incorrect credentials" on a refusal, so the rule is said here.
SIGN_IN_MESSAGE = (
    "Sign in with the account a researcher gave you. "
    f"After {sign_in_throttle.PAIR_LIMIT} failed sign-ins in a row from one address an account must wait "
    f"{sign_in_throttle.FIRST_LOCK_S // 60} minute before it is tried from there again (longer after more "
    "failures); until then even the right password is refused."
)

CACHE_SWEEP = (600, 3600)  # (every, older than) seconds: Gradio's copies of served files are deleted
QUEUE_CONCURRENCY = 16  # at most this many calls of one event at once; writes still go one at a time

CSS = """
.refinery-text { overflow-wrap: anywhere; }
.refinery-text pre { white-space: pre-wrap; }
/* Annotate: the question stands out; each answer scrolls in its own box, so the verdict stays on screen */
.refinery-question-head { font-size: 1.25rem; font-weight: 700; margin: 0 0 .25rem 0; }
.refinery-question .refinery-text { font-size: 1.05rem; font-weight: 500; }
.refinery-task-name { font-size: .85rem; opacity: .8; }
.refinery-small-head { font-size: .8rem; font-weight: 600; opacity: .75; }
.refinery-reference .refinery-text { font-size: .9rem; max-height: 5.5em; overflow-y: auto; }
.refinery-answer { max-height: min(34vh, 22em); overflow-y: auto; }
.refinery-cut { font-style: italic; opacity: .7; }
#refinery-side { position: sticky; top: 0; align-self: flex-start; }
.refinery-bar { height: .6rem; border-radius: .3rem; background: #e5e7eb; overflow: hidden; margin: .25rem 0; }
.refinery-bar > div { height: 100%; background: #f97316; }
"""


@dataclass
class UIContext:
    """What every tab's handlers share: the store and the settings (no per-user state here)."""

    store: Store
    settings: Settings


def build_app(ctx: UIContext) -> gr.Blocks:
    """Build the app: a header with the signed-in user, then the tabs this user's role may use."""
    session_configs.install()  # a new session's first call no longer builds every component's config
    # delete_cache: the files Gradio serves (exports) are copies in its cache; drop them after an hour.
    with gr.Blocks(title="Refinery", analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        header = gr.Markdown("# Refinery")
        tabs = []
        for spec in TABS.values():
            module = importlib.import_module(spec.module)
            # Hidden until the page load shows it to a role that may use it; the handlers check again.
            with gr.Tab(spec.label, visible=False) as tab:
                module.build(ctx)
            tabs.append((tab, spec.role))

        def on_load(request: gr.Request):
            user = auth.current_user(request, ctx)
            who = f"signed in as **{user['username']}** ({user['role']}) · [sign out](/logout)" if user else "not signed in"
            return [gr.Markdown(f"# Refinery\n{who}")] + [gr.Tab(visible=auth.allowed(user, role)) for _, role in tabs]

        demo.load(on_load, inputs=None, outputs=[header] + [tab for tab, _ in tabs], api_visibility="private")
    # Gradio rebuilds a pandas summary of its last 10,000 events after every event, for a monitoring
    # page this app turns off; at 50 annotators that was a large share of the CPU. Rebuild it rarely.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    # Short handlers (votes, listings) run side by side; a tab with heavy work sets its own limit per
    # event. api_open=False: every call goes through the queue and its limits, none around it.
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, api_open=False)
    return demo


class GuardedApp(App):
    """Gradio's server app with ui/origin_guard.py's OriginGuard in front of everything, Gradio's own CORS
    middleware included (middleware passed to launch() would sit behind that, which grants preflights)."""

    def __init__(self, allowed_origins: set[str], middleware: list[Middleware]):
        # openapi_url=None: FastAPI's own schema of every route answered without sign-in.
        super().__init__(middleware=middleware, default_response_class=ORJSONResponse, openapi_url=None)
        self.allowed_origins = allowed_origins

    def build_middleware_stack(self):
        """Starlette's stack (built on the first request), wrapped in the guard."""
        return origin_guard.OriginGuard(super().build_middleware_stack(), self.allowed_origins)


def launch_options(ctx: UIContext) -> dict:
    """Keyword arguments for Blocks.launch(): sign-in (throttled), no API page, no run history, the data directory blocked."""
    from ui import annotate, annotate_api, json_guard, route_policy

    try:
        allowed = origin_guard.allowed_origins(ctx.settings.allowed_origins)
    except ValueError as err:
        raise UserError(str(err)) from None
    middleware = [
        Middleware(auth.ClientAddress),
        Middleware(route_policy.ResearcherRoutes, ctx=ctx),
        Middleware(json_guard.StrictJsonBodies),
        Middleware(annotate_api.AnnotateRoutes, routes=annotate.routes(ctx), max_text_chars=ctx.settings.max_text_chars),
    ]
    return {
        "auth": auth.login_checker(ctx.store),
        "auth_message": SIGN_IN_MESSAGE,
        # Gradio's private launch(_app=...): the one way to put a middleware in front of its CORS.
        "_app": GuardedApp(allowed, middleware),
        "footer_links": [],
        "run_history": False,
        "enable_monitoring": False,
        "mcp_server": False,
        "ssr_mode": False,
        "blocked_paths": [str(ctx.settings.home.resolve())],
        "max_file_size": "20mb",
        "css": CSS,
        "head": annotate.PAGE_HEAD,
    }
