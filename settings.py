"""Refinery's one settings object: defaults, then an optional TOML file, then REFINERY_* env vars."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


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
        """Build settings from defaults, the TOML file (REFINERY_CONFIG or toml_path) and REFINERY_* variables."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        toml_path = toml_path or env.get("REFINERY_CONFIG")
        if toml_path:
            with open(toml_path, "rb") as fh:
                values.update(tomllib.load(fh))
        for f in dataclasses.fields(cls):
            key = "REFINERY_" + f.name.upper()
            if key in env:
                values[f.name] = env[key]
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**{f.name: _coerce(f, values[f.name]) for f in dataclasses.fields(cls) if f.name in values})


def _coerce(f: dataclasses.Field, value: object) -> object:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    if kind == "Path":
        return Path(str(value)).expanduser()
    if kind == "int":
        return int(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
    return value
