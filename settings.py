"""Refinery's one settings object: defaults, then an optional TOML file, then REFINERY_* env vars."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import confargs


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "refinery"


@dataclass
class Settings:
    """Where Refinery keeps its data and which models and port it uses."""

    home: Path = field(default_factory=_default_home, metadata={"help": "data directory: database, model cache, adapters"})
    host: str = field(default="127.0.0.1", metadata={"help": "address the web app binds to"})
    port: int = field(default=7860, metadata={"help": "port of the web app"})
    weak_model: str = field(default="smollm2-135m", metadata={"help": "model spec of the weak teacher"})
    strong_model: str = field(default="qwen2.5-coder-1.5b", metadata={"help": "model spec of the strong student"})
    device: str = field(default="auto", metadata={"help": "auto, cpu or cuda"})
    assignment_timeout_s: int = field(default=600, metadata={"help": "seconds before a served, unanswered pair returns to the pool"})
    max_text_chars: int = field(default=20_000, metadata={"help": "longest prompt, output or correction accepted"})
    model_cache: str = field(default="", metadata={"help": "converted model cache (default: HOME/models); tests share it across data dirs"})
    allowed_origins: str = field(default="", metadata={"help": (
        "other sites (origins such as https://lab.example.org, comma-separated) whose pages may call the app "
        "with the signed-in user's cookie; empty: only the app's own pages may (ui/origin_guard.py)")})
    worker_in_serve: bool = field(default=True, metadata={"help": "serve also starts a background worker process"})

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.home / "refinery.db"

    @property
    def models_dir(self) -> Path:
        """Converted safetensors caches of embedded and hub models."""
        return Path(self.model_cache).expanduser() if self.model_cache else self.home / "models"

    @property
    def adapters_dir(self) -> Path:
        """Trained LoRA adapters, one directory per model version."""
        return self.home / "adapters"

    @property
    def jobs_dir(self) -> Path:
        """Per-job checkpoints and scratch files."""
        return self.home / "jobs"

    @classmethod
    def load(cls, toml_path: str | Path | None = None, env: dict[str, str] | None = None) -> "Settings":
        """Build settings from defaults, the TOML file (REFINERY_CONFIG or toml_path) and REFINERY_* variables.

        UserError names the file, key or variable that is wrong.
        """
        env = dict(os.environ if env is None else env)
        toml_path = toml_path or env.get("REFINERY_CONFIG")
        values: dict[str, object] = dict(confargs.read_toml(toml_path, "settings file")) if toml_path else {}
        where = f"{toml_path}: " if toml_path else ""
        settings = confargs.from_dict(cls, values, "settings" + (f" in {toml_path}" if toml_path else ""),
                                      hint="see `python app.py --help` for the known ones", where=where)
        overrides = {}
        for f in dataclasses.fields(cls):
            key = "REFINERY_" + f.name.upper()
            if key in env:
                overrides[f.name] = confargs.coerce(f, env[key], name=key)
        return dataclasses.replace(settings, **overrides)


def help_epilog() -> str:
    """The settings, their REFINERY_* variables and help text (for `python app.py --help`)."""
    lines = ["settings (in a TOML file given by --config or REFINERY_CONFIG, or as REFINERY_<NAME> variables):"]
    for f in dataclasses.fields(Settings):
        lines.append(f"  {f.name} / REFINERY_{f.name.upper()}: {f.metadata['help']}")
    return "\n".join(lines)
