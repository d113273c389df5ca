"""The Annotate tab's page as a Python client, and the web app as a child process to point it at.

`AnnotatePage` signs in at Gradio's /login (a session cookie) and makes the calls ui/annotate_head.html's
client makes to ui/annotate_api.py's routes, with the same bodies: open and next send the task, skip the
task and the pair on screen, vote the task, the verdict, the better answer ("" when none is written), the
pair on screen and the four ratings (null when not picked). A dropped connection is sent again once, as
the page does; the server stores a vote once. `start_app` runs `app.py serve` on a data directory and
returns once it answers. Used by the pilot (study/pilot.py) and the votes benchmark (bench/votes.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from jobs.worker import stop_child
from storage.errors import UserError
from storage.terms import AXES

APP_PY = Path(__file__).resolve().parent.parent / "app.py"
START_TIMEOUT_S = 180


class Refused(RuntimeError):
    """A call or sign-in the app turned down; the message is the one the page would show."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(home: Path, port: int, log: Path, config: str | None = None) -> subprocess.Popen:
    """`app.py serve --no-worker` on data directory `home` (and settings file `config`), bound to 127.0.0.1:port and
    logging to `log`; returns once it answers. UserError with the log's end if it exits or does not answer in time."""
    settings = ["--config", config] if config else []
    with open(log, "w") as out:  # a file, not a pipe: a full pipe nobody reads would stall the server
        proc = subprocess.Popen(
            [sys.executable, str(APP_PY), *settings, "--home", str(home), "serve", "--host", "127.0.0.1",
             "--port", str(port), "--no-worker"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    deadline = time.time() + START_TIMEOUT_S
    while time.time() < deadline:
        if proc.poll() is not None:
            raise UserError(f"the app exited as it started:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/gradio_api/login_check", timeout=2).status_code in (200, 401):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_child(proc)
    raise UserError(f"the app did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


class AnnotatePage:
    """One signed-in browser page on the Annotate tab: its cookie, the pair on screen, and its calls."""

    def __init__(self, url: str, username: str, password: str, timeout_s: float = 120):
        self.http = httpx.Client(base_url=url, timeout=timeout_s)
        self.pair_id = None
        self.calls = 0
        self.retries = 0
        signed = self.http.post("/login", data={"username": username, "password": password})
        if signed.status_code != 200:
            self.http.close()
            raise Refused(f"sign-in as {username!r} refused ({signed.status_code}): {_message(signed)}")

    def open(self, task: str) -> dict:
        """The tab as the page opens (an annotator's first pair): pair_id (None: nothing left), prompt, left, right
        (HTML), progress, guidelines."""
        return self._screen("open", {"task": task})

    def next(self, task: str) -> dict:
        """Next pair (the screen, as open)."""
        return self._screen("next", {"task": task})

    def skip(self, task: str) -> dict:
        """Skip the pair on screen and get the next (the screen, as open)."""
        return self._screen("skip", {"task": task, "pair_id": self.pair_id})

    def vote(self, task: str, verdict: str, ratings: dict | None = None, correction: str = "") -> dict:
        """Vote on the pair on screen: `verdict` one of the tab's (e.g. "A is better"), `ratings` as
        {left_concept, left_content, right_concept, right_content} (each "1"-"5" or None). Returns reveal and progress."""
        ratings = {f"{side}_{axis}": (ratings or {}).get(f"{side}_{axis}") for side in ("left", "right") for axis in AXES}
        return self.call("vote", {"task": task, "verdict": verdict, "correction": correction,
                                  "pair_id": self.pair_id, "ratings": ratings})

    def call(self, name: str, body: dict) -> dict:
        """POST `body` to the route `name` and return its answer; Refused with the app's message if it refuses.
        A dropped connection is retried once."""
        try:
            return self._post(name, body)
        except httpx.TransportError:
            self.retries += 1
            return self._post(name, body)

    def close(self) -> None:
        """Close the connection."""
        self.http.close()

    def _screen(self, name: str, body: dict) -> dict:
        self.pair_id = None  # as the page: a refused call leaves no pair on screen
        shown = self.call(name, body)
        self.pair_id = shown["pair_id"]
        return shown

    def _post(self, name: str, body: dict) -> dict:
        self.calls += 1
        posted = self.http.post(f"/refinery/annotate/{name}", json=body)
        payload = _json(posted)
        if posted.status_code != 200 or "error" in payload:
            raise Refused(payload.get("error") or f"the app answered {posted.status_code}")
        return payload


def _json(response: httpx.Response) -> dict:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _message(response: httpx.Response) -> str:
    return str(_json(response).get("detail") or response.text[:200])
