"""Sign-in for the web app and the role check every handler makes itself.

Gradio's own `launch(auth=...)` guards every page and API route with a session cookie; the
callable below checks the password against the users table, after the sign-in throttle
(feedback.sign_in_throttle) lets the account name and the client address try. Roles are checked per call by
`require`, from the signed-in name on the request, against the database (so disabling an account
takes effect on its next click, even in an open session).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

import anyio
import gradio as gr
from fastapi import HTTPException

from feedback import accounts, sign_in_throttle
from storage import users
from storage.errors import UserError

ROLES = ("annotator", "researcher")


# Gradio calls the auth callable with the name and password only; ClientAddress puts the address here.
_client_address: ContextVar[str] = ContextVar("client_address", default="unknown")


class ClientAddress:
    """ASGI middleware that makes each request's peer address known to the sign-in check.

    The direct peer, not X-Forwarded-For: a client can write any address into that header.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            client = scope.get("client")
            _client_address.set(client[0] if client else "unknown")
        await self.app(scope, receive, send)


def _throttled(kind: str, wait_s: float) -> HTTPException:
    # 400, the status Gradio's sign-in form reacts to; the detail says when to try again.
    return HTTPException(status_code=400, detail=sign_in_throttle.refusal(kind, wait_s),
                         headers={"Retry-After": str(int(wait_s) + 1)})


def login_checker(store):
    """The `auth=` callable for launch(): refuses a locked account name or address without checking
    the password, else runs the (deliberately slow) password check off the event loop and counts it."""

    async def check(username: str, password: str) -> bool:
        name, address = (username or "").strip(), _client_address.get()
        lock = await anyio.to_thread.run_sync(sign_in_throttle.locked, store, name, address)
        if lock:
            raise _throttled(*lock)
        ok = await anyio.to_thread.run_sync(accounts.authenticate, store, name, password)
        started = await anyio.to_thread.run_sync(sign_in_throttle.record, store, name, address, ok)
        if started:
            what = {"pair": f"account {name!r} from {address!r}", "account": f"account {name!r} (from every address)",
                    "address": f"address {address!r}"}[started[0]]
            print(f"sign-in: {what} locked for {started[1]:.0f} s after repeated failures", flush=True)
            raise _throttled(*started)
        return ok

    return check


def current_user(request: gr.Request | None, ctx) -> dict | None:
    """The signed-in, active account of this request (without its hash), or None."""
    return account(getattr(request, "username", None), ctx)


def account(name: str | None, ctx) -> dict | None:
    """The active account signed in as `name` (without its hash), or None."""
    if not name:
        return None
    user = users.get_user(ctx.store, name)
    if user is None or not user["active"]:
        return None
    return {k: v for k, v in user.items() if k != "password_hash"}


def allowed(user: dict | None, role: str) -> bool:
    """Whether an account may act in `role`: researchers may do everything, annotators only annotate."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return user is not None and (user["role"] == "researcher" or user["role"] == role)


def refuse(message: str) -> gr.Error:
    """The error a handler raises for a request it turns down: shown in the browser, and, being the
    user's mistake rather than a server fault, not logged with a traceback."""
    return gr.Error(message, print_exception=False)


def require(request: gr.Request | None, ctx, role: str) -> dict:
    """The signed-in account if it may act in `role`; otherwise raise gr.Error (nothing is done)."""
    return require_account(getattr(request, "username", None), ctx, role)


def require_account(name: str | None, ctx, role: str) -> dict:
    """The active account signed in as `name` if it may act in `role`; otherwise raise gr.Error."""
    user = account(name, ctx)
    if user is None:
        raise refuse("Please sign in again: your account is unknown or disabled.")
    if not allowed(user, role):
        raise refuse(f"This needs a {role} account; you are signed in as {user['role']} {user['username']!r}.")
    return user


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a UserError's message in the browser as a gr.Error instead of a generic failure."""
    try:
        yield
    except UserError as err:
        raise refuse(str(err)) from None
