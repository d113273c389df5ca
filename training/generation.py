"""Batched, reproducible text generation for chat models: `generate(model, tokenizer, conversations, params)`.

How a call runs (transformers backend):
- prompts are rendered with the tokenizer's chat template (add_generation_prompt=True), or used as
  they are when given as raw strings;
- they are sorted by token length and cut into batches of `params.batch_size`, so a batch holds
  prompts of similar length (little padding) and, since prompt length predicts answer length,
  answers that end at similar times; results come back in the caller's order;
- each batch is left-padded and prefilled in one forward pass, then decoded one forward pass per
  step with a DynamicCache; a row that emits EOS leaves the batch (its cache rows are dropped via
  `Cache.batch_select_indices`), so finished answers cost nothing while others continue;
- sampling (temperature > 0) uses transformers' temperature and top-p warpers and one
  torch.Generator per prompt, seeded from (seed, prompt tokens): the same prompt with the same
  params gives the same text whatever else is in the batch.

`model.generate` cannot drop finished rows and transformers' continuous batching
(`generate_batch`) pays for paged attention over all requests each step; on CPU both were slower
than this loop (bench/generate.py measures it against `model.generate`). When vLLM is importable
and the model is on CUDA, `Generator(backend="auto")` hands the work to vLLM instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch

from storage.errors import UserError

Conversation = list[dict] | str  # chat messages [{"role", "content"}, ...], or a raw prompt string


@dataclass(frozen=True)
class GenParams:
    """Decoding settings of one generation run."""

    max_new_tokens: int = 256  # answers longer than this are cut
    temperature: float = 0.0  # 0: greedy (deterministic); > 0: sampling
    top_p: float = 1.0  # nucleus sampling mass; 1.0 keeps the whole distribution
    seed: int = 0  # sampling seed; with temperature 0 it changes nothing
    batch_size: int = 16  # prompts per forward pass: how the work is split, not what it produces

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise UserError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise UserError(f"temperature must be 0 (greedy) or positive, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise UserError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {self.batch_size}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_dict(self) -> dict:
        """All fields as a JSON-able dict."""
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """A stable 16-hex-digit id of what shapes the text: max_new_tokens, temperature, top_p.

        The seed is stored next to it (outputs.seed) and batch_size only splits the work, so
        neither is part of it.
        """
        key = {"max_new_tokens": int(self.max_new_tokens), "temperature": float(self.temperature), "top_p": float(self.top_p)}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def encode(tokenizer, conversation: Conversation) -> list[int]:
    """Token ids of a prompt: the chat template with the assistant turn opened, or a raw string as is."""
    if isinstance(conversation, str):
        return tokenizer(conversation, add_special_tokens=False)["input_ids"]
    if not tokenizer.chat_template:
        raise UserError("this model's tokenizer has no chat template; pass raw prompt strings instead of messages")
    return list(tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])


def eos_ids(model, tokenizer) -> set[int]:
    """Token ids that end an answer: the model's generation EOS ids and the tokenizer's EOS."""
    eos = model.generation_config.eos_token_id
    ids = set([eos] if isinstance(eos, int) else (eos or []))
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def row_generator(seed: int, prompt_ids: Sequence[int], device) -> torch.Generator:
    """A torch.Generator seeded from the run's seed and the prompt's tokens."""
    digest = hashlib.sha256(json.dumps([seed, list(prompt_ids)]).encode()).digest()
    gen = torch.Generator(device=device)
    gen.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
    return gen


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices sorted by length and cut into batches of at most batch_size."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class _Sampler:
    """Chooses each row's next token: argmax, or temperature/top-p sampling with per-row generators."""

    def __init__(self, params: GenParams, generators: list[torch.Generator] | None):
        from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

        self.params = params
        self.generators = generators
        self.warpers = LogitsProcessorList()
        if not params.greedy:
            self.warpers.append(TemperatureLogitsWarper(params.temperature))
            if params.top_p < 1.0:
                self.warpers.append(TopPLogitsWarper(params.top_p))

    def __call__(self, logits: torch.Tensor, rows: list[int]) -> torch.Tensor:
        if self.params.greedy:
            return logits.argmax(dim=-1)
        probs = torch.softmax(self.warpers(None, logits.float()), dim=-1)
        return torch.cat([torch.multinomial(probs[i], 1, generator=self.generators[r]) for i, r in enumerate(rows)])


@torch.inference_mode()
def decode_batch(model, prompts: list[list[int]], params: GenParams, pad_id: int, stop: set[int], on_token: Callable[[int, int], None] | None = None) -> list[list[int]]:
    """New token ids for each prompt (EOS excluded): one prefill, then one forward pass per step.

    Rows that finish are dropped from the batch and its KV cache. `on_token(row, token_id)` is
    called for every kept token (streaming).
    """
    from transformers import DynamicCache

    device = model.device
    width = max(len(p) for p in prompts)
    input_ids = torch.tensor([[pad_id] * (width - len(p)) + list(p) for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    sampler = _Sampler(params, None if params.greedy else [row_generator(params.seed, p, device) for p in prompts])
    rows = list(range(len(prompts)))  # which prompt each live batch row belongs to
    out: list[list[int]] = [[] for _ in prompts]
    logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1]
    next_pos = positions[:, -1:] + 1
    for step in range(params.max_new_tokens):
        tokens = sampler(logits, rows)
        keep = []
        for i, (row, token) in enumerate(zip(rows, tokens.tolist())):
            if token in stop:
                continue
            out[row].append(token)
            if on_token is not None:
                on_token(row, token)
            keep.append(i)
        if not keep or step == params.max_new_tokens - 1:
            break
        if len(keep) < len(rows):
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            mask, next_pos, tokens = mask[index], next_pos[index], tokens[index]
            rows = [rows[i] for i in keep]
        mask = torch.cat([mask, mask.new_ones(len(rows), 1)], dim=-1)
        logits = model(input_ids=tokens[:, None], attention_mask=mask, position_ids=next_pos, cache=cache, use_cache=True).logits[:, -1]
        next_pos = next_pos + 1
    return out


def vllm_available() -> bool:
    """Whether the optional vLLM backend can run here: vllm importable and a CUDA GPU present."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


class Generator:
    """Generates answers for many conversations with one (model, tokenizer).

    backend "transformers" runs `decode_batch`; "vllm" hands the prompts to vLLM, which
    loads the weights from `model.refinery_weights_dir` (set by training.loading for models without
    a merged adapter); "auto" (default) picks vLLM when that is possible and the model sits on CUDA.
    """

    def __init__(self, model, tokenizer, backend: str = "auto"):
        vllm_ok = vllm_available() and getattr(model, "refinery_weights_dir", None) is not None
        if backend == "auto":
            backend = "vllm" if vllm_ok and model.device.type == "cuda" else "transformers"
        if backend == "vllm" and not vllm_ok:
            raise UserError("the vllm backend needs the vllm package, a CUDA GPU and a model loaded without adapter; use backend 'transformers'")
        if backend not in ("transformers", "vllm"):
            raise UserError(f"unknown generation backend {backend!r}; use transformers, vllm or auto")
        self.model, self.tokenizer, self.backend = model, tokenizer, backend
        self.stop = eos_ids(model, tokenizer)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.stop)

    def generate(self, conversations: Sequence[Conversation], params: GenParams, progress: Callable[[int, int], None] | None = None) -> list[str]:
        """One answer per conversation, in order. `progress(done, total)` is called after each batch."""
        if self.backend == "vllm":
            return _vllm_generate(self.model, self.tokenizer, conversations, params) if conversations else []
        return [self.tokenizer.decode(ids, skip_special_tokens=True) for ids in self.generate_ids(conversations, params, progress)]

    def generate_ids(self, conversations: Sequence[Conversation], params: GenParams, progress: Callable[[int, int], None] | None = None) -> list[list[int]]:
        """New token ids per conversation (EOS excluded), in order; transformers backend."""
        prompts = [encode(self.tokenizer, c) for c in conversations]
        out: list[list[int]] = [[] for _ in prompts]
        done = 0
        for batch in length_buckets([len(p) for p in prompts], params.batch_size):
            for i, ids in zip(batch, decode_batch(self.model, [prompts[i] for i in batch], params, self.pad_id, self.stop)):
                out[i] = ids
            done += len(batch)
            if progress is not None:
                progress(done, len(prompts))
        return out

    def stream(self, conversation: Conversation, params: GenParams) -> Iterator[str]:
        """Yield the growing answer text for one conversation as tokens arrive (same text as generate)."""
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=False, skip_special_tokens=True, timeout=600)
        prompt = encode(self.tokenizer, conversation)
        failure: list[BaseException] = []

        def work():
            try:
                decode_batch(self.model, [prompt], params, self.pad_id, self.stop, lambda _row, token: streamer.put(torch.tensor([token])))
            except BaseException as err:  # surfaced in the consumer's thread below
                failure.append(err)
            finally:
                streamer.end()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        text = ""
        for piece in streamer:
            text += piece
            yield text
        thread.join()
        if failure:
            raise failure[0]


def generate(model, tokenizer, conversations: Sequence[Conversation], params: GenParams | None = None, progress: Callable[[int, int], None] | None = None) -> list[str]:
    """One answer per conversation (chat message lists or raw prompt strings), in order."""
    return Generator(model, tokenizer).generate(conversations, params or GenParams(), progress)


def _vllm_generate(model, tokenizer, conversations: Sequence[Conversation], params: GenParams) -> list[str]:
    """The same contract on vLLM, which loads the weights from the model's directory itself."""
    from vllm import LLM, SamplingParams  # only reached when vllm_available()

    path = model.refinery_weights_dir
    llm = _vllm_engines.get(path)
    if llm is None:
        llm = _vllm_engines[path] = LLM(model=path, dtype="bfloat16", seed=params.seed)
    prompts = [c if isinstance(c, str) else tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in conversations]
    sampling = SamplingParams(
        temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_new_tokens, seed=params.seed
    )
    return [o.outputs[0].text for o in llm.generate(prompts, sampling, use_tqdm=False)]


_vllm_engines: dict[str, object] = {}  # one engine per weight directory and process; building one takes minutes
