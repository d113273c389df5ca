"""Load a model spec (optionally with a LoRA adapter) into (model, tokenizer), ready for generation.

Loaded models are kept in a small per-process LRU so the worker and the demo tab do not reload
weights for every request. The dtype is bf16 on CUDA and on CPUs with native bf16 (AVX512-BF16
or AMX), where it is 2-3x faster than fp32; fp32 elsewhere, where bf16 would be emulated. There,
`load(..., int8=True)` makes a large model generate about 1.6x faster with int8 weights in most linear layers
(bench/loop_generate.py measures it and how the texts read).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import torch

import jobs
from settings import Settings
from storage.errors import UserError
from models import embedded
from models.specs import ModelSpec, resolve

CACHE_SIZE = 3  # weak + strong + one merged adapter version: what a generate job holds at once (the demo: a host and the weak)
_BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def pick_device(device: str = "auto") -> str:
    """'cuda' or 'cpu' for 'auto'; otherwise the device asked for (UserError if CUDA is missing)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {device} asked for, but no CUDA GPU is available; use --device cpu or auto")
    return device


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bf16 natively (x86 flags avx512_bf16 or amx_bf16 in /proc/cpuinfo)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_CPU_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def cpu_in_words() -> str:
    """This machine's CPU as a figure's caption needs it: model, cores, native bf16 or not."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "unknown CPU")
    return f"{model}, {os.cpu_count()} cores, {'native bf16' if cpu_has_native_bf16(cpuinfo) else 'no native bf16'}"


def pick_dtype(device: str) -> torch.dtype:
    """bf16 on CUDA and on CPUs with native bf16, else fp32."""
    if device.startswith("cuda") or cpu_has_native_bf16():
        return torch.bfloat16
    return torch.float32


def weights_source(spec: ModelSpec, settings: Settings) -> tuple[str, str | None]:
    """(directory or hub id, GGUF file name or None) to hand to from_pretrained; installs embedded models."""
    if spec.kind == "embedded":
        return str(embedded.install(spec.embedded, settings, progress=False)), None
    return spec.path, spec.gguf_file


def load_uncached(
    spec: str | ModelSpec, settings: Settings, device: str = "auto", adapter_path: str | Path | None = None, dtype: torch.dtype | None = None
):
    """Load a fresh (model, tokenizer): eval mode, left padding, pad and EOS ids set; adapter merged in."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    spec = resolve(spec) if isinstance(spec, str) else spec
    device = pick_device(device)
    dtype = dtype or pick_dtype(device)
    source, gguf_file = weights_source(spec, settings)
    extra = {"gguf_file": gguf_file, "quantization_config": GgufConfig(dequantize=True)} if gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(source, **({"gguf_file": gguf_file} if gguf_file else {}))
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **extra)
    if gguf_file:  # plain tensors now; detach the quantizer so PEFT and save_pretrained treat it as dense
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    if adapter_path is not None:
        model = _merge_adapter(model, Path(adapter_path))
    elif not gguf_file:
        model.refinery_weights_dir = source  # lets an optional vLLM backend load the same weights itself
    tokenizer.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _set_stop_tokens(model, tokenizer)
    return model.to(device).eval(), tokenizer


def _merge_adapter(model, path: Path):
    from peft import PeftModel

    if not (path / "adapter_config.json").is_file():
        raise UserError(f"{path} is not a LoRA adapter directory (no adapter_config.json)")
    # merged weights generate as fast as the base model; the adapter files stay untouched
    return PeftModel.from_pretrained(model, str(path)).merge_and_unload()


def _set_stop_tokens(model, tokenizer) -> None:
    """Stop on the tokenizer's EOS (the chat turn end) as well as the model's own EOS ids."""
    config = model.generation_config
    eos = config.eos_token_id
    eos = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos:
        eos.append(tokenizer.eos_token_id)
    config.eos_token_id = eos
    config.pad_token_id = tokenizer.pad_token_id


class _LRU:
    """At most `size` loaded models, least recently used dropped first.

    Loads run one at a time (they are CPU- and memory-bound), but a hit never waits for a load.
    """

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[tuple, tuple] = OrderedDict()
        self.lock = threading.Lock()
        self.load_lock = threading.Lock()

    def peek(self, key: tuple):
        """The cached value of `key` (now the most recently used), or None; never loads."""
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            return None

    def add(self, key: tuple, value) -> None:
        """Cache `value` under `key` too (a second key for a model already loaded)."""
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def get(self, key: tuple, make):
        value = self.peek(key)
        if value is not None:
            return value
        with self.load_lock:
            value = self.peek(key)  # loaded by another thread while we waited
            if value is None:
                value = make()
                self.add(key, value)
            return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_loaded = _LRU(CACHE_SIZE)


# The 135M weak model answers nothing useful in int8 ("The answer to this question is:") and is cheap in fp32;
# the 1.5B keeps its answers and runs about 1.8x faster.
INT8_MIN_PARAMS = 1_000_000_000


def int8_pays(device: str) -> bool:
    """Whether int8 weights speed up a large model on `device`: on a CPU without native bf16, where the
    weights are otherwise fp32 (the loop's generate phase ran 1.6x faster there, bench/README.md)."""
    return pick_device(device) == "cpu" and not cpu_has_native_bf16()


def to_int8(model):
    """`model` with its transformer blocks' Linear layers swapped in place for dynamic int8 ones (inference only:
    they have no gradients): int8 weights per output channel, activations quantized per batch.

    Two layers stay in full precision: every block's MLP down projection, whose inputs carry the few huge
    activations of Qwen-style models (per-tensor activation scales crush the rest; with it quantized the 1.5B's
    rubric scores lost most of their correlation with fp32's, and its answers lost facts), and the output
    projection, which picks every token.
    """
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    blocks = getattr(model, "model", model)
    spec = {name: per_channel_dynamic_qconfig for name, module in blocks.named_modules()
            if isinstance(module, torch.nn.Linear) and not name.endswith("down_proj")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao quantization warns that it is deprecated (torchao replaces it; torch is pinned)
        quantize_dynamic(blocks, spec, dtype=torch.qint8, inplace=True)
    return model


def load(spec_or_name: str, settings: Settings, device: str = "auto", adapter_path: str | Path | None = None,
         dtype: torch.dtype | None = None, int8: bool = False):
    """(model, tokenizer) for a spec and optional adapter, from this process's cache when loaded before.

    int8: linear layers in int8 (`to_int8`), only where `int8_pays` and for models of INT8_MIN_PARAMS or more;
    elsewhere the flag changes nothing.
    The returned objects are shared: callers must not modify the weights (train on `load_uncached`).
    """
    spec = resolve(spec_or_name)
    device = pick_device(device)
    dtype = dtype or pick_dtype(device)
    int8 = int8 and int8_pays(device) and dtype == torch.float32
    adapter = str(Path(adapter_path).resolve()) if adapter_path is not None else None
    key = (spec.kind, spec.path, spec.gguf_file, adapter, device, str(dtype), int8)

    def make():
        model, tokenizer = load_uncached(spec, settings, device, adapter, dtype)
        if not int8:
            return model, tokenizer
        if sum(p.numel() for p in model.parameters()) >= INT8_MIN_PARAMS:
            return to_int8(model), tokenizer
        plain = key[:-1] + (False,)  # a small model stays plain: one copy serves both keys
        found = _loaded.peek(plain)
        if found is not None:
            return found
        _loaded.add(plain, (model, tokenizer))
        return model, tokenizer

    return _loaded.get(key, make)


def load_host(spec_or_name: str, settings: Settings, device: str = "auto", dtype: torch.dtype | None = None):
    """An AdapterHost (models.adapter_host) for a spec, from this process's cache: one copy of the
    base that serves it and any of its adapters. Its own copy: the plain cached model stays plain."""
    from models.adapter_host import AdapterHost

    spec = resolve(spec_or_name)
    device = pick_device(device)
    dtype = dtype or pick_dtype(device)
    key = ("host", spec.kind, spec.path, spec.gguf_file, device, str(dtype))
    return _loaded.get(key, lambda: AdapterHost(*load_uncached(spec, settings, device, None, dtype)))


def cached_count() -> int:
    """How many models this process's cache holds."""
    return len(_loaded.items)


@jobs.after_each_job
def clear_cache() -> None:
    """Forget every cached model (frees their memory once no caller holds them); the worker calls it after each job."""
    _loaded.clear()
