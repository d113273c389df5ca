"""Start the real app (ui.app.build_app + launch_options) on a free port for handler and browser tests."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from typing import Iterator

from feedback import accounts
from settings import Settings
from storage.db import Store
from tests.fixtures_annotation import make_pairs, make_task

PASSWORDS = {"res": "res-password-1", "ann": "ann-password-1", "ann2": "ann-password-2"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(home, n_pairs: int = 4, texts=None, prompt_texts=None) -> Iterator[tuple[str, Store]]:
    """The app on a fresh data directory with users res (researcher), ann and ann2 and a toy task; yields (url, store)."""
    from ui.app import UIContext, build_app, launch_options

    settings = Settings.load(env={"REFINERY_HOME": str(home)})
    store = Store(settings.db_path)
    for name, password in PASSWORDS.items():
        accounts.create_user(store, name, "researcher" if name == "res" else "annotator", password)
    task = make_task(store)
    make_pairs(store, task, n_pairs, texts=texts, prompt_texts=prompt_texts)
    ctx = UIContext(store, settings)
    demo = build_app(ctx)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options(ctx))
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        demo.close()


def signed_in(url: str, name: str, password: str | None = None):
    """A gradio_client Client calling as `name` (a fixture user unless a password is given).

    The client reads the endpoint list (/config, /gradio_api/info) when it starts, and those routes are
    for researchers (ui/route_policy.py); so it starts as the fixture researcher and then signs in as
    `name`, whose calls then go to the same endpoints an annotator's page could name."""
    from gradio_client import Client

    client = Client(url, auth=("res", PASSWORDS["res"]), verbose=False, analytics_enabled=False)
    if name != "res":
        client._login((name, password or PASSWORDS[name]))
    return client


class Refused(Exception):
    """An annotate call the server turned down; the message is the one the page would show."""


class AnnotatePage:
    """A signed-in page's calls to the Annotate tab's routes (ui/annotate_api.py) over real HTTP,
    keeping the pair on screen as the page does."""

    def __init__(self, url: str, name: str, password: str | None = None):
        import httpx

        self.http = httpx.Client(base_url=url, timeout=60)
        self.http.post("/login", data={"username": name, "password": password or PASSWORDS[name]}).raise_for_status()
        self.pair_id = None

    def post(self, name: str, body) -> "httpx.Response":  # noqa: F821
        """The raw answer to a JSON POST of `body` to the route `name`."""
        return self.http.post(f"/refinery/annotate/{name}", json=body)

    def call(self, name: str, **body) -> dict:
        """Call a route with the pair on screen and `body`; returns its answer or raises Refused with its message."""
        response = self.post(name, {"pair_id": self.pair_id, **body})
        payload = response.json()
        if response.status_code != 200 or "error" in payload:
            raise Refused(payload.get("error", payload))
        self.pair_id = payload.get("pair_id", self.pair_id)
        return payload
