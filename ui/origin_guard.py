"""The app's one door for requests from other sites: only its own origin (and the origins listed in the
`allowed_origins` setting) may make credentialed or state-changing requests.

Why here and not in Gradio's CORS. Gradio answers a preflight from any localhost origin on any port
(any origin at all behind a non-localhost Host) with Access-Control-Allow-Credentials: true, and a
browser sends the sign-in cookie to every port of the same host (cookies ignore ports, and SameSite
counts other ports as the same site). A page served on another port could therefore call Gradio's
events and Refinery's JSON routes as the signed-in researcher and read the answers. OriginGuard sits
in front of the whole app (ui/app.py's GuardedApp puts it outside Gradio's own middleware), so it:

- refuses, with a 403 saying why, any request whose Origin is foreign, whatever the method (browsers
  send Origin on every cross-origin fetch and on every POST), and any state-changing request
  (POST, PUT, PATCH, DELETE, and GET /logout) whose Referer is foreign when Origin is absent;
- answers preflights itself: granted (with credentials) to the own and listed origins, 403 without any
  Access-Control-* header to the rest, so no foreign page is ever told it may send credentials;
- closes a websocket whose Origin is foreign;
- rewrites Gradio's sign-in cookies (`access-token-*`, set SameSite=None) to SameSite=Lax, so no other
  site's page, link or form carries the session in a cross-site request.

A request with neither Origin nor Referer (a script, gradio_client, curl) is not a browser acting for
someone else and passes; it still needs the sign-in cookie it got itself. The own origin is the
scheme of the connection (as uvicorn saw it, X-Forwarded-Proto included from a trusted proxy) and
the Host header.
"""

from __future__ import annotations

import functools
import json
from typing import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
STATE_CHANGING_GETS = {"/logout", "/logout/"}  # Gradio signs out on a GET
SESSION_COOKIE = "access-token"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=1024)  # a server sees a handful of origins; parsing each every time cost most of the guard
def normalize(origin: str | None) -> str | None:
    """`scheme://host[:port]` in lower case with a default port left out; None for what is not an
    http(s) origin or URL (the string "null" included)."""
    if not origin:
        return None
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 address goes back into brackets
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def own_origin(scope: dict, headers: Headers) -> str | None:
    """The origin this request was addressed to: the connection's scheme and the Host header."""
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    host = headers.get("host")
    if not host and scope.get("server"):
        host = "{}:{}".format(*scope["server"])
    return normalize(f"{scheme}://{host}") if host else None


def allowed_origins(listed: str | Iterable[str]) -> set[str]:
    """The origins of the `allowed_origins` setting (comma- or space-separated), normalized; ValueError
    names an entry that is not an http(s) origin."""
    entries = listed.replace(",", " ").split() if isinstance(listed, str) else list(listed)
    origins = set()
    for entry in entries:
        origin = normalize(entry)
        if origin is None or urlsplit(entry).path not in ("", "/"):
            raise ValueError(f"allowed_origins: {entry!r} is not an origin like https://lab.example.org:8443")
        origins.add(origin)
    return origins


class OriginGuard:
    """ASGI middleware: refuses requests and preflights from foreign origins, lets the rest through
    with the session cookies made SameSite=Lax (see the module docstring)."""

    def __init__(self, app, allowed: Iterable[str] = ()):
        self.app = app
        self.allowed = set(allowed)

    def verdict(self, scope: dict, headers: Headers) -> str | None:
        """Why this request is refused (the source it came from), or None when it may pass."""
        origin = headers.get("origin")
        if origin is not None:
            return None if self._trusted(normalize(origin), scope, headers) else origin
        if scope.get("method", "GET") in STATE_CHANGING or scope["path"] in STATE_CHANGING_GETS:
            referer = headers.get("referer")
            if referer is not None:
                source = normalize(referer)
                return None if self._trusted(source, scope, headers) else (source or "an unknown page")
        return None

    def _trusted(self, source: str | None, scope: dict, headers: Headers) -> bool:
        return source is not None and (source in self.allowed or source == own_origin(scope, headers))

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refused = self.verdict(scope, headers)
        if scope["type"] == "websocket":
            if refused is not None:
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if refused is not None:
            await _refuse(send, refused, preflight)
        elif preflight:
            await _grant_preflight(send, headers)
        else:
            listed = bool(self.allowed) and normalize(headers.get("origin")) in self.allowed
            await self.app(scope, receive, _answer_headers(send, headers["origin"] if listed else None))


async def _refuse(send, source: str, preflight: bool) -> None:
    what = "cross-origin request" if preflight else "request"
    body = json.dumps({"error": f"Refused: this {what} comes from another site ({source[:100]}), not from Refinery's "
                                "own pages. Open Refinery itself, or ask a researcher to list that origin in the "
                                "allowed_origins setting."}).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), (b"vary", b"Origin")]})
    await send({"type": "http.response.body", "body": body})


async def _grant_preflight(send, headers: Headers) -> None:
    granted = [(b"access-control-allow-origin", headers["origin"].encode("latin-1")),
               (b"access-control-allow-credentials", b"true"),
               (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
               (b"access-control-max-age", b"600"), (b"vary", b"Origin"), (b"content-length", b"0")]
    if "access-control-request-headers" in headers:
        granted.append((b"access-control-allow-headers", headers["access-control-request-headers"].encode("latin-1")))
    await send({"type": "http.response.start", "status": 204, "headers": granted})
    await send({"type": "http.response.body", "body": b""})


def lax_cookie(value: str) -> str:
    """A Set-Cookie value with its SameSite attribute made Lax (added if absent)."""
    attributes = [a.strip() for a in value.split(";")]
    kept = [a for a in attributes[1:] if a and not a.lower().startswith("samesite")]
    return "; ".join([attributes[0], *kept, "SameSite=Lax"])


def _answer_headers(send, listed_origin: str | None):
    """`send` with the session cookies made SameSite=Lax and, for a listed origin, the CORS headers that
    let its page read the answer (Gradio's own CORS grants only localhost origins on a localhost Host)."""
    async def wrapped(message):
        if message["type"] == "http.response.start" and (listed_origin is not None or any(
                name.lower() == b"set-cookie" for name, _ in message.get("headers", ()))):
            message["headers"] = list(message.get("headers", []))
            headers = MutableHeaders(scope=message)
            cookies = headers.getlist("set-cookie")
            if any(c.lstrip().startswith(SESSION_COOKIE) for c in cookies):
                del headers["set-cookie"]
                for cookie in cookies:
                    headers.append("set-cookie", lax_cookie(cookie) if cookie.lstrip().startswith(SESSION_COOKIE) else cookie)
            if listed_origin is not None:
                headers["access-control-allow-origin"] = listed_origin
                headers["access-control-allow-credentials"] = "true"
                headers.add_vary_header("Origin")
        await send(message)

    return wrapped
