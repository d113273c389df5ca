"""Batched, reproducible text generation for chat models: `generate(model, tokenizer, conversations, params)`.

How a call runs (transformers backend):
- prompts are rendered with the tokenizer's chat template (add_generation_prompt=True), or used as
  they are when given as raw strings; a conversation ending in an assistant message is continued
  from it (its answer begins with that message's text); results come back in the caller's order;
- up to `params.batch_size` prompts decode together, one forward pass per step over a
  DynamicCache, left-padded; a row that emits EOS (or reaches max_new_tokens) leaves the batch at
  once (`Cache.batch_select_indices`), and waiting prompts are prefilled and join the running
  batch when a quarter of its slots is free -- continuous batching, so no forward pass is spent on
  finished answers and the batch stays full;
- prompts join longest first: long prompts tend to ask for long answers, and starting those early
  keeps the tail of the run short;
- sampling (temperature > 0) uses transformers' temperature and top-p warpers and one
  torch.Generator per prompt, seeded from (seed, prompt tokens): the same prompt with the same
  params gives the same text whatever else is in the batch.

Why not `model.generate` or `generate_batch`: padded `model.generate` keeps computing finished rows
until the longest answer of its batch ends, and transformers' continuous batching
(`generate_batch`) pays for paged attention over all requests each step; on this CPU both were
slower than this loop (bench/generate.py measures it against `model.generate`). When vLLM is
importable and the model is on CUDA, `Generator(backend="auto")` hands the work to vLLM instead.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Callable, Iterator, Sequence

import torch

from storage.errors import UserError
from models.chat import Conversation, encode, eos_ids, opening
from models.gen_params import GenParams  # noqa: F401  (re-exported: callers import it from here)
from models.vllm_backend import vllm_available, vllm_generate

def row_generator(seed: int, prompt_ids: Sequence[int], device) -> torch.Generator:
    """A torch.Generator seeded from the run's seed and the prompt's tokens."""
    digest = hashlib.sha256(json.dumps([seed, list(prompt_ids)]).encode()).digest()
    gen = torch.Generator(device=device)
    gen.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
    return gen


def longest_first(lengths: Sequence[int]) -> list[int]:
    """Indices by decreasing length (stable): the admission order of `decode`."""
    return sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))


class _Sampler:
    """Chooses each row's next token: argmax, or temperature/top-p sampling with per-prompt generators."""

    def __init__(self, params: GenParams, prompts: list[list[int]], device):
        from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

        self.greedy = params.greedy
        self.penalty = params.repetition_penalty
        self.warpers = LogitsProcessorList()
        self.generators = []
        if not self.greedy:
            self.warpers.append(TemperatureLogitsWarper(params.temperature))
            if params.top_p < 1.0:
                self.warpers.append(TopPLogitsWarper(params.top_p))
            self.generators = [row_generator(params.seed, p, device) for p in prompts]

    def __call__(self, logits: torch.Tensor, rows: list[int], answers: list[list[int]]) -> torch.Tensor:
        if self.penalty != 1.0:
            logits = penalize_repeats(logits, [answers[r] for r in rows], self.penalty)
        if self.greedy:
            return logits.argmax(dim=-1)
        probs = torch.softmax(self.warpers(None, logits.float()), dim=-1)
        return torch.cat([torch.multinomial(probs[i], 1, generator=self.generators[r]) for i, r in enumerate(rows)])


def penalize_repeats(logits: torch.Tensor, answers: list[list[int]], penalty: float) -> torch.Tensor:
    """A copy of `logits` (one row per answer) where each token already in that row's answer is
    made less likely: a positive logit divided by `penalty`, a negative one multiplied by it."""
    logits = logits.clone()
    for i, seen in enumerate(answers):
        if seen:
            index = torch.tensor(sorted(set(seen)), device=logits.device)
            picked = logits[i, index]
            logits[i, index] = torch.where(picked > 0, picked / penalty, picked * penalty)
    return logits


class _Batch:
    """The live rows of a decode: their prompt index, KV cache, attention mask, next position and logits."""

    def __init__(self, rows: list[int], cache, mask: torch.Tensor, positions: torch.Tensor, logits: torch.Tensor):
        self.rows, self.cache, self.mask, self.positions, self.logits = rows, cache, mask, positions, logits

    def select(self, keep: list[int]) -> None:
        """Keep only the rows at these batch indices (finished rows leave, and their cache rows with them)."""
        if len(keep) == len(self.rows):
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.rows = [self.rows[i] for i in keep]
        self.mask, self.positions, self.logits = self.mask[index], self.positions[index], self.logits[index]
        start = int(self.mask.any(dim=0).int().argmax())  # leading columns that are padding in every row left
        if start > 0 and _can_merge(self.cache):
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]
            self.mask = self.mask[:, start:]

    def extend(self, other: "_Batch") -> None:
        """Append another batch's rows; both caches are left-padded to a common length first."""
        width = max(self.mask.shape[1], other.mask.shape[1])
        for mine, theirs in zip(self.cache.layers, other.cache.layers):
            mine.keys = torch.cat([_left_pad(mine.keys, width, -2), _left_pad(theirs.keys, width, -2)])
            mine.values = torch.cat([_left_pad(mine.values, width, -2), _left_pad(theirs.values, width, -2)])
        self.mask = torch.cat([_left_pad(self.mask, width, -1), _left_pad(other.mask, width, -1)])
        self.rows = self.rows + other.rows
        self.positions = torch.cat([self.positions, other.positions])
        self.logits = torch.cat([self.logits, other.logits])


def _left_pad(x: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    """Zeros prepended along `dim` up to `width` (masked-out positions: their values never matter)."""
    missing = width - x.shape[dim]
    if missing == 0:
        return x
    shape = list(x.shape)
    shape[dim] = missing
    return torch.cat([x.new_zeros(shape), x], dim=dim)


def _can_merge(cache) -> bool:
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in cache.layers)


def _prefill(model, prompts: list[list[int]], rows: list[int], pad_id: int) -> _Batch:
    """One forward pass over the left-padded prompts of `rows`; returns them as a live batch."""
    from transformers import DynamicCache

    device = model.device
    width = max(len(prompts[r]) for r in rows)
    input_ids = torch.tensor([[pad_id] * (width - len(prompts[r])) + list(prompts[r]) for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(prompts[r])) + [1] * len(prompts[r]) for r in rows], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=1)
    return _Batch(rows, cache, mask, positions[:, -1:] + 1, out.logits[:, -1])


@torch.inference_mode()
def decode(
    model,
    prompts: list[list[int]],
    params: GenParams,
    pad_id: int,
    stop: set[int],
    order: Sequence[int] | None = None,
    on_token: Callable[[int, int], None] | None = None,
    on_finish: Callable[[int, list[int]], None] | None = None,
) -> list[list[int]]:
    """New token ids for each prompt (EOS excluded), decoding up to `params.batch_size` prompts at once.

    Prompts join in `order` (default: as given). A row that emits EOS or reaches max_new_tokens
    leaves the batch at once, and once a quarter of the slots is free the next prompts are
    prefilled and join the running batch (continuous batching on a DynamicCache): every forward
    pass works on live rows only. `on_token(prompt_index, token_id)` sees each kept token
    (streaming), `on_finish(prompt_index, token_ids)` each finished prompt with its new ids.
    """
    sampler = _Sampler(params, prompts, model.device)
    pending = list(order if order is not None else range(len(prompts)))[::-1]  # pop() takes the next one
    slots = params.batch_size
    out: list[list[int]] = [[] for _ in prompts]
    live: _Batch | None = None
    while pending or live is not None:
        free = slots - (len(live.rows) if live else 0)
        if pending and (live is None or (free >= max(1, slots // 4) and _can_merge(live.cache))):
            joining = _prefill(model, prompts, [pending.pop() for _ in range(min(free, len(pending)))], pad_id)
            if live is None:
                live = joining
            else:
                live.extend(joining)
        tokens = sampler(live.logits, live.rows, out)
        keep = []
        for i, (row, token) in enumerate(zip(live.rows, tokens.tolist())):
            if token not in stop:
                out[row].append(token)
                if on_token is not None:
                    on_token(row, token)
            if token in stop or len(out[row]) >= params.max_new_tokens:
                if on_finish is not None:
                    on_finish(row, out[row])
            else:
                keep.append(i)
        if not keep:
            live = None
            continue
        live.select(keep)
        tokens = tokens[keep] if len(keep) < len(tokens) else tokens
        live.mask = torch.cat([live.mask, live.mask.new_ones(len(live.rows), 1)], dim=-1)
        live.logits = model(input_ids=tokens[:, None], attention_mask=live.mask, position_ids=live.positions, cache=live.cache, use_cache=True).logits[:, -1]
        live.positions = live.positions + 1
    return out


class Generator:
    """Generates answers for many conversations with one (model, tokenizer).

    backend "transformers" runs `decode`; "vllm" hands the prompts to vLLM, which
    loads the weights from `model.refinery_weights_dir` (set by models.loading for models without
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

    def generate(self, conversations: Sequence[Conversation], params: GenParams, progress: Callable[[int, int], None] | None = None,
                 on_text: Callable[[int, str], None] | None = None) -> list[str]:
        """One answer per conversation, in order. `progress(done, total)` is called as answers finish, and
        `on_text(index, answer)` with each finished answer (so a caller can keep them before the last one is done)."""
        if self.backend == "vllm":
            texts = vllm_generate(self.model, self.tokenizer, conversations, params) if conversations else []
            if on_text is not None:
                for i, text in enumerate(texts):
                    on_text(i, text)
            return texts
        texts = [""] * len(conversations)

        def finished(row: int, ids: list[int]) -> None:
            texts[row] = opening(conversations[row]) + self.tokenizer.decode(ids, skip_special_tokens=True)
            if on_text is not None:
                on_text(row, texts[row])

        self.generate_ids(conversations, params, progress, finished)  # every row finishes, by EOS or by the length limit
        return texts

    def generate_ids(self, conversations: Sequence[Conversation], params: GenParams, progress: Callable[[int, int], None] | None = None,
                     on_ids: Callable[[int, list[int]], None] | None = None) -> list[list[int]]:
        """New token ids per conversation (EOS excluded), in order; transformers backend. `on_ids(index, ids)` sees each
        finished one."""
        prompts = [encode(self.tokenizer, c) for c in conversations]
        finished = []

        def on_finish(row: int, ids: list[int]) -> None:
            finished.append(row)
            if on_ids is not None:
                on_ids(row, ids)
            if progress is not None:
                progress(len(finished), len(prompts))

        return decode(self.model, prompts, params, self.pad_id, self.stop, order=longest_first([len(p) for p in prompts]), on_finish=on_finish)

    def stream(self, conversation: Conversation, params: GenParams) -> Iterator[str]:
        """Yield the growing answer text for one conversation as tokens arrive (same text as generate)."""
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=False, skip_special_tokens=True, timeout=600)
        prompt = encode(self.tokenizer, conversation)
        failure: list[BaseException] = []

        def work():
            try:
                decode(self.model, [prompt], params, self.pad_id, self.stop, on_token=lambda _row, token: streamer.put(torch.tensor([token])))
            except BaseException as err:  # surfaced in the consumer's thread below
                failure.append(err)
            finally:
                streamer.end()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        text = opening(conversation)
        for piece in streamer:
            text += piece
            yield text
        thread.join()
        if failure:
            raise failure[0]


def generate(model, tokenizer, conversations: Sequence[Conversation], params: GenParams | None = None, progress: Callable[[int, int], None] | None = None,
             on_text: Callable[[int, str], None] | None = None) -> list[str]:
    """One answer per conversation (chat message lists or raw prompt strings), in order (Generator.generate)."""
    return Generator(model, tokenizer).generate(conversations, params or GenParams(), progress, on_text)
