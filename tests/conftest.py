"""Shared fixtures: a fresh data directory per test, sharing one converted-model cache."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from settings import Settings  # noqa: E402
from storage.db import Store  # noqa: E402

# Converting an embedded GGUF takes ~20 s; every test shares the cache `make run` uses.
os.environ.setdefault("REFINERY_MODEL_CACHE", str(Settings.load(env={k: v for k, v in os.environ.items() if k != "REFINERY_HOME"}).models_dir))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings whose data directory is a fresh temporary folder (also exported as REFINERY_HOME)."""
    home = tmp_path / "home"
    monkeypatch.setenv("REFINERY_HOME", str(home))
    return Settings.load()


@pytest.fixture
def store(settings):
    """A migrated database in the test's data directory."""
    s = Store(settings.db_path)
    yield s
    s.close()
