"""`python app.py serve`: sync the shipped tasks, make sure a researcher exists, start the worker, serve the app."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

from jobs.worker import stop_child
from feedback import accounts
from storage.db import Store

APP_PY = Path(__file__).resolve().parent.parent / "app.py"


def cli(parser) -> None:
    """Add serve's arguments (defaults from settings) and set its handler."""
    parser.add_argument("--host", help="address to bind (default: settings.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings.port, 7860)")
    parser.add_argument("--no-worker", action="store_true", help="do not start a background job worker")
    parser.set_defaults(func=run)


def prepare(store: Store) -> tuple[str, str] | None:
    """Load the shipped tasks and seed candidates, create the first researcher if none exists; returns its login once."""
    from feedback.seed import load_seed

    load_seed(store)  # also syncs the shipped tasks
    return accounts.ensure_first_researcher(store)


# A thread waiting for the GIL gets it after at most this long (CPython's default: 5 ms). A vote's
# handler gives up the GIL at each SQLite call and must win it back each time; while a crowd's
# requests keep other threads busy, every such wait costs a full interval (bench/votes.py).
GIL_SWITCH_INTERVAL_S = 0.0005

WORKER_NICENESS = 10  # training and generation yield the CPU to the web app, whose users wait on every click


# A job's progress goes to the jobs table (the Generate and Train tabs show it); the libraries' own
# progress bars only filled serve's log (some 260 lines a run). A variable set by the user wins.
QUIET_PROGRESS = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}


def worker_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: this process's, with progress bars off unless the user set those variables."""
    return {**QUIET_PROGRESS, **(os.environ if environ is None else environ)}


def start_worker(settings, config_path: str | None = None) -> subprocess.Popen:
    """Start `app.py worker` as a lower-priority child process with the same settings file and data directory."""
    config = ["--config", config_path] if config_path else []
    return subprocess.Popen([sys.executable, str(APP_PY), *config, "--home", str(settings.home), "worker"],
                            env=worker_env(), preexec_fn=lambda: os.nice(WORKER_NICENESS))


def login_banner(username: str, password: str) -> str:
    """The first researcher's login, framed so it stands out at the end of `make run`'s output."""
    lines = [f"First researcher account: {username}  password: {password}",
             "Shown once: keep it. A new password any time: python app.py users reset " + username]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


def _interrupt(signum, frame) -> None:
    # SIGTERM ends serve like Ctrl-C does, so Gradio closes and the `finally` stops the worker.
    raise KeyboardInterrupt





def run(args) -> int:
    """Serve the app until interrupted; the worker (unless --no-worker) stops with it."""
    from ui.app import UIContext, build_app, launch_options

    settings = args.settings
    host = args.host or settings.host
    port = args.port or settings.port
    store = Store(settings.db_path, background_checkpoint=True)  # no commit stalls a vote (storage/db.py)
    login = prepare(store)
    ctx = UIContext(store, settings)
    demo = build_app(ctx)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    # The app's startup objects never die: frozen, a full collection no longer walks them, which
    # cut its pauses (each stalls every request) from 140-180 ms to 20-70 ms at 500 annotators.
    gc.collect()
    gc.freeze()
    # Fewer young collections (each pauses the thread holding the write lock, and the votes queued on it):
    # bench/votes.py at 500 annotators gave p99 ratios 2.90 and 2.30 with these, 2.76 and 3.02 with the defaults.
    gc.set_threshold(20_000, 20, 20)
    worker = start_worker(settings, args.config) if settings.worker_in_serve and not args.no_worker else None
    print(f"Refinery at http://{host}:{port}  (data in {settings.home})", flush=True)
    try:
        demo.launch(server_name=host, server_port=port, quiet=True, prevent_thread_lock=True, **launch_options(ctx))
        if login:  # last, once the server answers, so no start-up output buries it
            print(login_banner(*login), flush=True)
        demo.block_thread()
    finally:
        stop_child(worker)
    return 0
