"""Which of Gradio's routes an annotator, or someone not signed in, may use: only what the sign-in page
and the Annotate tab need; every other route is for researchers.

Gradio serves one app to every signed-in user, and its own routes check only that a user is signed
in: an annotator could upload files of up to the size limit again and again (/gradio_api/upload),
download any file the app served, an export of every raw vote included (/gradio_api/file=...), and
read the list of every researcher endpoint (/config, /gradio_api/info, /gradio_api/openapi.json);
FastAPI's own /openapi.json answered without sign-in. The page, the Annotate tab's JSON routes and
Gradio's queue (whose every handler checks the role itself, ui/auth.py) are all an annotator's browser
asks for (measured: sign-in, votes, skips and the reveal in Chromium), so this middleware lets
non-researchers reach those paths and answers the rest with 401 (not signed in) or 403 (annotator).

What this does not hide: the page itself (GET /) carries Gradio's config of the whole app, the
researcher tabs' event names included, for every signed-in user, as Gradio renders one Blocks for
all. Naming an event grants nothing: each handler checks the caller's role (tests/test_roles.py).
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers

from ui import auth
from ui.annotate_api import username

# What the sign-in page and the Annotate tab load or call; a trailing "/" or "=" marks a prefix.
OPEN_PATHS = (
    "/", "/login", "/login/", "/logout", "/logout/", "/favicon.ico", "/robots.txt", "/manifest.json", "/theme.css",
    "/assets/", "/static/", "/svelte/", "/pwa_icon", "/pwa_icon/",
    "/gradio_api/theme.css", "/gradio_api/queue/join", "/gradio_api/queue/data", "/gradio_api/heartbeat/",
    "/gradio_api/cancel", "/gradio_api/reset", "/gradio_api/reset/", "/gradio_api/startup-events",
    "/gradio_api/user", "/gradio_api/user/", "/gradio_api/login_check", "/gradio_api/login_check/",
    "/gradio_api/app_id", "/gradio_api/app_id/", "/refinery/annotate/",
)
# Closed for everyone. Gradio's direct-call routes: with the queue's api_open=False they only ever say
# "join the queue", and a body of the wrong shape made them answer 500. Uploads: no component of this
# app takes a file, so the route only ever stored what was sent (up to 20 MB a file, again and again).
CLOSED_PREFIXES = ("/gradio_api/run/", "/gradio_api/api/", "/gradio_api/upload")
_EXACT = frozenset(p for p in OPEN_PATHS if not p.endswith("/") or p == "/")
_PREFIXES = tuple(p for p in OPEN_PATHS if p.endswith("/") and p != "/")


def open_to_all(path: str) -> bool:
    """Whether any visitor may reach `path` (the route's own checks still apply)."""
    return path in _EXACT or path.startswith(_PREFIXES)


class ResearcherRoutes:
    """ASGI middleware: a request for a path outside OPEN_PATHS passes only for a signed-in, active researcher."""

    def __init__(self, app, ctx):
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or open_to_all(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(CLOSED_PREFIXES):
            await _answer(scope, send, 404, "This app takes no uploads, and its events are called through the queue "
                                            "(/gradio_api/queue/join or /gradio_api/call/NAME), not directly.")
            return
        user = auth.account(username(scope, Headers(scope=scope)), self.ctx)
        if user is not None and user["role"] == "researcher":
            await self.app(scope, receive, send)
            return
        await _answer(scope, send, *((401, "Please sign in.") if user is None else
                                     (403, f"This is for researchers; you are signed in as {user['role']} {user['username']!r}.")))


async def _answer(scope, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": message, "detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
