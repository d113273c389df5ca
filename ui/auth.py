"""Sign-in for the web app and the role check every handler makes itself.

Gradio's own `launch(auth=...)` guards every page and API route with a session cookie; the
callable below checks the password against the users table. Roles are checked per call by
`require`, from the signed-in name on the request, against the database (so disabling an account
takes effect on its next click, even in an open session).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import anyio
import gradio as gr

from feedback import accounts
from storage import users
from storage.errors import UserError

ROLES = ("annotator", "researcher")


def login_checker(store):
    """The `auth=` callable for launch(): runs the (deliberately slow) password check off the event loop."""

    async def check(username: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(accounts.authenticate, store, username, password)

    return check


def current_user(request: gr.Request | None, ctx) -> dict | None:
    """The signed-in, active account of this request (without its hash), or None."""
    name = getattr(request, "username", None)
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
    user = current_user(request, ctx)
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
