"""The Annotate tab's calls (open, next pair, vote, skip) as small JSON routes in front of Gradio.

The tab's buttons run in the browser (ui/annotate_head.html's client) and post here instead of to
Gradio's event API. bench/votes.py found Gradio's per-call machinery (request models, session
state, event lookup, component config) to be about 3 of the 4 ms of server CPU a vote cost, so at
500 annotators the crowd's peak saturated the one GIL; here a call is the handler's own work.

    POST <app>/refinery/annotate/<name>   body: JSON object   answer: JSON object, or {"error": message}

Sign-in is Gradio's: the session cookie it sets at /login names the user (its token table); the role
is checked by each handler against the database, as in every other tab. Only JSON bodies are read,
no larger than the body limit, and parsed strictly (feedback.strict_json): a malformed, too deeply
nested or non-finite body is a 400, never a server error. A call from another site's page is
refused before it gets here (ui/origin_guard.py, in front of the whole app).
"""

from __future__ import annotations

import json
from typing import Any, Callable

import gradio as gr
from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from feedback import strict_json
from ui import lanes

PREFIX = "/refinery/annotate/"

# The largest body a call may send: a better answer at the text limit with every character written
# as a JSON escape pair ("\ud83d\ude00", 12 bytes for one character), plus the other fields. The
# handler measures the decoded text against the limit itself; this cap only bounds what is read.
BYTES_PER_CHAR = 12
EXTRA_BODY = 4096


class Refused(Exception):
    """A call the server turns down: the message is shown to the annotator, nothing was changed."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def username(scope: dict, headers: Headers) -> str | None:
    """The signed-in name of a request, from Gradio's session cookie and its token table (as Gradio's /user route reads it)."""
    app = scope.get("app")
    cookies = cookie_parser(headers.get("cookie", ""))
    cookie_id = getattr(app, "cookie_id", None)
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return getattr(app, "tokens", {}).get(token) if token else None


async def _read_body(receive, limit: int) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            raise Refused(f"The request is larger than {limit} bytes; shorten the better answer.", 413)
        if not message.get("more_body"):
            return body


async def _answer(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


class AnnotateRoutes:
    """ASGI middleware: answers PREFIX + name with routes[name](username, body) run in its lane's thread,
    passes every other request on to the app (Gradio)."""

    def __init__(self, app, routes: dict[str, tuple[lanes.Lane, Callable[[str | None, dict], dict]]], max_text_chars: int):
        self.app = app
        self.routes = routes
        self.limit = BYTES_PER_CHAR * max_text_chars + EXTRA_BODY

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            payload = await self._handle(scope, receive)
            await _answer(send, 200, payload)
        except Refused as refusal:
            await _answer(send, refusal.status, {"error": str(refusal)})

    async def _handle(self, scope, receive) -> dict[str, Any]:
        route = self.routes.get(scope["path"][len(PREFIX):])
        if route is None:
            raise Refused(f"There is no annotate call {scope['path']!r}.", 404)
        if scope["method"] != "POST":
            raise Refused("Annotate calls are POSTs.", 405)
        headers = Headers(scope=scope)
        if not headers.get("content-type", "").startswith("application/json"):
            raise Refused("Annotate calls send JSON (Content-Type: application/json).", 415)
        name = username(scope, headers)
        if name is None:
            raise Refused("Please sign in again: this session is not signed in.", 401)
        try:
            body = strict_json.loads(await _read_body(receive, self.limit) or b"{}")
        except strict_json.Invalid as err:
            raise Refused(f"The request is not valid JSON: {err.reason}.") from None
        if not isinstance(body, dict):
            raise Refused("The request must be a JSON object.")
        lane, handler = route
        try:
            return await lane.run(handler, name, body)
        except gr.Error as err:  # the handlers refuse as every tab's do (ui/auth.py)
            raise Refused(err.message) from None
