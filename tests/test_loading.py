"""Loading model specs: dtype choice, left padding, the per-process cache, and LoRA adapters."""

from __future__ import annotations

import os
import pytest
import torch

from settings import Settings
from storage.errors import UserError
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from models import loading


@pytest.fixture
def home(tmp_path):
    return Settings(home=tmp_path / "home")


@pytest.mark.parametrize(
    "cpuinfo, native",
    [
        ("processor : 0\nflags : fpu sse avx2 avx512f avx512_bf16\n", True),
        ("flags\t\t: fpu amx_tile amx_bf16 avx2\n", True),
        ("flags : fpu sse avx avx2\n", False),
        ("", False),
    ],
)
def test_native_bf16_is_read_from_cpu_flags(cpuinfo, native):
    assert loading.cpu_has_native_bf16(cpuinfo) is native


def test_dtype_is_bf16_on_cuda_and_native_cpus_else_fp32(monkeypatch):
    assert loading.pick_dtype("cuda") == torch.bfloat16
    monkeypatch.setattr(loading, "cpu_has_native_bf16", lambda cpuinfo=None: False)
    assert loading.pick_dtype("cpu") == torch.float32
    monkeypatch.setattr(loading, "cpu_has_native_bf16", lambda cpuinfo=None: True)
    assert loading.pick_dtype("cpu") == torch.bfloat16


def test_loaded_models_are_cached_per_spec_device_and_dtype(tiny_model_dir, home):  # noqa: F811
    loading.clear_cache()
    model, tokenizer = loading.load(str(tiny_model_dir), home, device="cpu", dtype=torch.float32)
    assert tokenizer.padding_side == "left" and tokenizer.pad_token_id is not None
    assert tokenizer.eos_token_id in model.generation_config.eos_token_id
    assert not model.training
    assert loading.load(str(tiny_model_dir), home, device="cpu", dtype=torch.float32)[0] is model
    other = loading.load(str(tiny_model_dir), home, device="cpu", dtype=torch.bfloat16)[0]
    assert other is not model and other.dtype == torch.bfloat16
    loading.clear_cache()
    assert loading.load(str(tiny_model_dir), home, device="cpu", dtype=torch.float32)[0] is not model


def test_an_adapter_is_merged_into_a_private_copy(tiny_model_dir, home, tmp_path):  # noqa: F811
    from peft import LoraConfig, get_peft_model

    loading.clear_cache()
    base, tokenizer = loading.load(str(tiny_model_dir), home, device="cpu", dtype=torch.float32)
    ids = torch.tensor([tokenizer("Arr matey")["input_ids"]])
    before = base(input_ids=ids).logits
    lora = get_peft_model(loading.load_uncached(str(tiny_model_dir), home, "cpu", dtype=torch.float32)[0],
                          LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    tuned, _ = loading.load(str(tiny_model_dir), home, device="cpu", adapter_path=tmp_path / "adapter", dtype=torch.float32)
    assert tuned is not base
    assert not torch.allclose(tuned(input_ids=ids).logits, before)
    assert torch.equal(base(input_ids=ids).logits, before)  # the cached base model is untouched
    with pytest.raises(UserError, match="not a LoRA adapter"):
        loading.load(str(tiny_model_dir), home, device="cpu", adapter_path=tmp_path, dtype=torch.float32)


def test_cuda_on_a_machine_without_it_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert loading.pick_device("auto") == "cpu"
    with pytest.raises(UserError, match="no CUDA"):
        loading.pick_device("cuda")


def random_adapter(tiny_model_dir, home, path):  # noqa: F811
    """A saved LoRA adapter with random (not zero) weights: it changes the model's outputs, as a trained one does."""
    from peft import LoraConfig, get_peft_model

    lora = get_peft_model(loading.load_uncached(str(tiny_model_dir), home, "cpu", dtype=torch.float32)[0],
                          LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(path)
    return path


def test_one_host_serves_the_base_and_its_adapter_from_one_copy(tiny_model_dir, home, tmp_path):  # noqa: F811
    loading.clear_cache()
    plain, tokenizer = loading.load_uncached(str(tiny_model_dir), home, "cpu", dtype=torch.float32)
    ids = torch.tensor([tokenizer("Arr matey, the sea")["input_ids"]])
    expected_base = plain(input_ids=ids).logits
    host = loading.load_host(str(tiny_model_dir), home, device="cpu", dtype=torch.float32)
    assert loading.load_host(str(tiny_model_dir), home, device="cpu", dtype=torch.float32) is host
    assert torch.equal(host.view(None)(input_ids=ids).logits, expected_base)
    adapter = random_adapter(tiny_model_dir, home, tmp_path / "adapter")
    tuned, base = host.view(adapter), host.view(None)
    merged, _ = loading.load_uncached(str(tiny_model_dir), home, "cpu", adapter_path=adapter, dtype=torch.float32)
    tuned_logits = tuned(input_ids=ids).logits
    assert not torch.allclose(tuned_logits, expected_base)
    assert torch.allclose(tuned_logits, merged(input_ids=ids).logits, atol=1e-5)  # as the merged adapter answers
    assert torch.equal(base(input_ids=ids).logits, expected_base)  # switched off: exactly the plain base
    # one copy: the base's weights inside the adapter model are the host's own tensors
    embed = host.base.get_input_embeddings().weight
    assert host.peft.get_input_embeddings().weight.data_ptr() == embed.data_ptr()
    assert host.view(adapter)._adapter == tuned._adapter  # an adapter is attached once
    with pytest.raises(UserError, match="not a LoRA adapter"):
        host.view(tmp_path)


def test_cpu_in_words_names_cores_and_whether_bf16_is_native():
    words = loading.cpu_in_words()
    assert f"{os.cpu_count()} cores" in words
    assert words.split(", ")[-1] == ("native bf16" if loading.cpu_has_native_bf16() else "no native bf16")


def test_int8_weights_only_where_they_pay_and_only_for_large_models(tiny_model_dir, tmp_path, monkeypatch):  # noqa: F811
    """A CPU with native bf16 (or a GPU) keeps the weights; the tiny model is below INT8_MIN_PARAMS; to_int8 keeps the
    MLP down projections and the output layer in float, and the quantized model still generates."""
    from models.generation import GenParams, generate

    def int8_linears(model):
        return [n for n, m in model.named_modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]

    settings = Settings(home=tmp_path / "home")
    monkeypatch.setattr(loading, "int8_pays", lambda device: False)
    assert not int8_linears(loading.load(str(tiny_model_dir), settings, device="cpu", int8=True)[0])
    monkeypatch.setattr(loading, "int8_pays", lambda device: True)
    assert not int8_linears(loading.load(str(tiny_model_dir), settings, device="cpu", int8=True)[0])
    model, tokenizer = loading.load_uncached(str(tiny_model_dir), settings, device="cpu")
    quantized = int8_linears(loading.to_int8(model))
    assert quantized and not any(n.endswith("down_proj") for n in quantized)
    assert type(model.lm_head) is torch.nn.Linear
    texts = generate(model, tokenizer, [[{"role": "user", "content": q}] for q in ("hi", "7 times 8?")], GenParams(max_new_tokens=8, batch_size=2))
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


def test_a_small_model_asked_for_in_int8_is_cached_once(tiny_model_dir, tmp_path, monkeypatch):  # noqa: F811
    """A model below INT8_MIN_PARAMS stays plain when int8 is asked, so the plain and the int8 request share one copy,
    whichever comes first."""
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setattr(loading, "int8_pays", lambda device: True)
    for first in (True, False):
        loading.clear_cache()
        a = loading.load(str(tiny_model_dir), settings, device="cpu", int8=first)[0]
        b = loading.load(str(tiny_model_dir), settings, device="cpu", int8=not first)[0]
        assert a is b
    loading.clear_cache()
