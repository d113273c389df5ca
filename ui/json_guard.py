"""Gradio's JSON routes (the queue, cancel, reset, call and run) see only JSON that Python and orjson can
handle; anything else is a 400 here instead of a 500 or a dropped connection there.

Gradio validates a request body with pydantic and, on a validation error, echoes the input back
through orjson: NaN or Infinity then failed with a 500, and an integer beyond 64 bits (an fn_index of
2**70) reset the connection. StrictJsonBodies reads each JSON body once, checks it with
feedback.strict_json (no NaN or Infinity, no integer beyond 64 bits, no nesting too deep to parse),
and hands the same bytes on. A queue join naming an event the app does not have (Gradio looked
it up unchecked: a 500) is refused too. The Annotate tab's routes parse their bodies with the same checks
themselves (ui/annotate_api.py), so they are not read twice.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers

from feedback import strict_json
from ui.annotate_api import PREFIX

MAX_INT = 2**63 - 1  # SQLite's and orjson's largest integer
MAX_BODY = 64 * 1024 * 1024  # no form of this app sends more JSON than this
QUEUE_JOIN = "/gradio_api/queue/join"


def _known_event(scope: dict, body: object) -> bool:
    """Whether a queue join's fn_index (when it gives one) names one of the app's events."""
    fn_index = body.get("fn_index") if isinstance(body, dict) else None
    if fn_index is None or not isinstance(fn_index, int) or isinstance(fn_index, bool):
        return True  # Gradio's own validation answers these with a 4xx
    app = scope.get("app")
    blocks = app.get_blocks() if app is not None and hasattr(app, "get_blocks") else None
    return blocks is None or fn_index in blocks.fns


class StrictJsonBodies:
    """ASGI middleware: a POST/PUT/PATCH with a JSON content type whose body strict_json refuses is
    answered 400 (413 past MAX_BODY); any other request passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH") or scope["path"].startswith(PREFIX)
                or "json" not in Headers(scope=scope).get("content-type", "")):
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY:
                await _refuse(send, 413, f"The request is larger than {MAX_BODY} bytes.")
                return
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                value = strict_json.loads(body, max_int=MAX_INT)
            except strict_json.Invalid as err:
                await _refuse(send, 400, f"The request is not JSON this app accepts: {err.reason}.")
                return
            if scope["path"].endswith(QUEUE_JOIN) and not _known_event(scope, value):
                await _refuse(send, 400, "There is no such event in this app.")
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"detail": message, "error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
