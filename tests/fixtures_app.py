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
    """A gradio_client Client signed in as `name` (a fixture user unless a password is given)."""
    from gradio_client import Client

    return Client(url, auth=(name, password or PASSWORDS[name]), verbose=False, analytics_enabled=False)
