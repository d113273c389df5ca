"""The experiment's results folder: stage files keyed by the fingerprint of their inputs, and its pinned config.

Each stage (a generation, the annotator's verdicts, a trained adapter) is written atomically with
the hash of everything it was computed from; on resume a stage whose inputs hash the same is read
back instead of run, and one whose inputs changed (say, a strategy's wording) is stale and runs again.
A generation stage keeps its finished answers in <stage>.partial.json while it runs (committed with the
folder), so a run stopped mid-stage, here or on another machine, resumes after them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from storage.errors import UserError


def fingerprint(*parts) -> str:
    """A stable hash of a stage's inputs: a cached result counts only when its inputs hash the same."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:16]


class Stages:
    """The results folder's stages/*.json and adapters/<row>/, written atomically and read back on resume."""

    def __init__(self, out: Path):
        self.out = out
        (out / "stages").mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        """Where stage `name` is stored."""
        return self.out / "stages" / f"{name}.json"

    def get(self, name: str, key: str) -> dict | None:
        """The stage's stored value if its inputs had fingerprint `key`, else None."""
        return _read(self.path(name), key)

    def put(self, name: str, key: str, value: dict) -> dict:
        """Store the stage's value with its inputs' fingerprint (and drop its partial file)."""
        value = {"key": key, **value}
        _write(self.path(name), value)
        self.partial_path(name).unlink(missing_ok=True)
        return value

    def partial_path(self, name: str) -> Path:
        """Where the finished part of a generation stage is kept while it runs."""
        return self.out / "stages" / f"{name}.partial.json"

    def partial(self, name: str, key: str) -> tuple[dict[int, str], float]:
        """({index: text}, seconds spent on them) a killed run of stage `name` finished with inputs `key`
        (({}, 0.0) for other inputs)."""
        value = _read(self.partial_path(name), key)
        return ({int(i): t for i, t in value["texts"].items()}, value.get("seconds", 0.0)) if value else ({}, 0.0)

    def put_partial(self, name: str, key: str, texts: dict[int, str], seconds: float) -> None:
        """Keep the texts stage `name` has finished so far and the seconds they took, so a killed run (or a
        session's end) resumes after them and the stage's time counts every run of it."""
        _write(self.partial_path(name), {"key": key, "seconds": seconds,
                                         "texts": {str(i): t for i, t in sorted(texts.items())}})

    def adapter_dir(self, row: str) -> Path:
        """Checkpoints and adapter of trained row `row` (not committed: the row's eval stage is)."""
        return self.out / "adapters" / row


def _read(path: Path, key: str) -> dict | None:
    value = json.loads(path.read_text()) if path.is_file() else None
    return value if value is not None and value.get("key") == key else None


def _write(path: Path, value: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1, ensure_ascii=False))
    os.replace(tmp, path)  # a kill mid-write never leaves a half file behind


def check_config(out: Path, pinned: dict) -> None:
    """Write config.json into a new results folder, or refuse one made with other settings."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "config.json"
    if path.is_file():
        old = json.loads(path.read_text())
        changed = sorted(k for k in pinned if old.get(k) != pinned[k])  # keys no longer pinned are ignored
        if changed:
            raise UserError(
                f"{out} holds a run with other settings ({', '.join(changed)}); pass another --out or delete the folder"
            )
    else:
        path.write_text(json.dumps(pinned, indent=1))


def free_memory() -> None:
    """Give a model's memory back before the next stage loads another copy."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def reusable_scores(old: dict, name: str, evals: dict[str, list[str]], ids: list, row_keys: dict[str, str]) -> dict:
    """The rows of a stored llm-judge stage (`old`, {} if none) that judge `name` scored on the same
    answers: by each row's key, or, in a stage written before row keys were kept, all its rows when
    its one key matches."""
    scores = old.get("scores", {})
    if "row_keys" in old:
        return {row: v for row, v in scores.items() if row in row_keys and old["row_keys"].get(row) == row_keys[row]}
    if old and old.get("judge") == name and all(row in evals for row in scores) \
            and old.get("key") == fingerprint(name, {row: evals[row] for row in scores}, ids):
        return dict(scores)
    return {}
