"""Where the Research tab writes an export before Gradio serves it, and how those files go away.

Gradio copies a file a handler returns into its own cache and serves that copy (to researchers only,
ui/route_policy.py; the copies are swept by the Blocks' delete_cache, ui/app.py). The directory the
export was written to is no longer needed once copied: each is removed KEEP_S after it was made, by a
timer, and any left behind by a stopped server is removed by the next export's sweep.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "refinery-export-"
KEEP_S = 300  # far longer than Gradio takes to copy the file once the handler returns


def new_dir() -> Path:
    """A fresh private directory for one export, removed by itself after KEEP_S seconds."""
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    timer = threading.Timer(KEEP_S, shutil.rmtree, args=(path,), kwargs={"ignore_errors": True})
    timer.daemon = True
    timer.start()
    return path


def sweep(now: float | None = None, root: str | Path | None = None) -> int:
    """Remove export directories older than KEEP_S under `root` (the system temp directory); returns how many."""
    now = time.time() if now is None else now
    removed = 0
    for path in Path(root or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            old = path.is_dir() and not path.is_symlink() and now - path.stat().st_mtime > KEEP_S
        except OSError:
            continue
        if old:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
