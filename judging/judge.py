"""A local LLM judge: rubric scores from next-token probabilities, on the concept and content axes.

    judge = load_judge("qwen2.5-coder-1.5b", settings)       # embedded name, hub id or local dir
    judge_scores(judge, task, prompts, texts)                # {"concept": [...], "content": [...]}
    judge_pair(judge, task, prompts, texts_a, texts_b)       # [{"winner": "a"|"b"|"tie", ...}, ...]

A rubric asks for one digit from 1 to 5; the score is the expected value of that digit under the
model's next-token probabilities, renormalised over the five digit tokens and mapped to [0, 1]
(1 -> 0.0, 5 -> 1.0). Nothing is sampled: the task's shared instructions run once, each answer
once whatever the number of axes, and each axis adds a short question on the answer's cached keys
and values (rubric_probs); the logits of the last position are read. Pairwise mode asks "A or B?" with the two answers in both orders;
a verdict that flips with the order is a tie (position bias is not evidence).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from storage.errors import UserError
from storage.terms import AXES, CONCEPT, TIE, A, B
from judging.judge_rubric import ASK, body_text, check_axis, pair_rubric, shared_text

OPTIONS = ("1", "2", "3", "4", "5")
PAIR_OPTIONS = ("A", "B")


@dataclass
class Judge:
    """A loaded judge model: (model, tokenizer), the spec it came from and its batch size."""

    spec: str
    model: Any
    tokenizer: Any
    batch_size: int = 8
    precision: str = "native"

    @property
    def name(self) -> str:
        """The spec, with the precision when it is not the loader's own (how reports and tables name the judge)."""
        return judge_name(self.spec, self.precision)


PRECISIONS = ("auto", "native", "int8")


def judge_name(spec: str, precision: str) -> str:
    """A judge's name: the spec, with the precision when it is not the loader's own."""
    return spec if precision == "native" else f"{spec} ({precision})"


def pick_precision(precision: str, device: str) -> str:
    """'int8' or 'native' for a requested precision: 'auto' is int8 on a CPU without native bf16, native elsewhere."""
    from models.loading import cpu_has_native_bf16

    if precision not in PRECISIONS:
        raise UserError(f"judge precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return "int8" if device == "cpu" and not cpu_has_native_bf16() else "native"
    if precision == "int8" and device != "cpu":
        raise UserError("int8 judging is a CPU path (PyTorch dynamic quantization); use native on a GPU")
    return precision


def default_name(spec: str, device: str = "auto") -> str:
    """How a judge loaded from `spec` with the default precision on `device` is named (Judge.name), without loading it."""
    from models.loading import pick_device

    return judge_name(spec, pick_precision("auto", pick_device(device)))


def load_judge(spec: str, settings, device: str = "auto", batch_size: int = 8, precision: str = "auto") -> Judge:
    """Load `spec` (embedded name, hub id or local directory) through models.loading as a Judge.

    precision (PRECISIONS): 'native' is the loader's dtype (bf16 on a GPU or a CPU with native
    bf16, fp32 elsewhere); 'int8' quantizes a private copy's Linear layers (CPU only), which on a
    2-core CPU without native bf16 runs the rubrics about 1.9x faster; 'auto' picks int8 there.
    """
    from models import loading

    device = loading.pick_device(device)
    precision = pick_precision(precision, device)
    if precision == "int8":  # never quantize the cached model that generation shares
        # dynamic int8 layers take fp32 activations: load fp32 even where the loader would pick bf16
        model, tokenizer = loading.load_uncached(spec, settings, device=device, dtype=torch.float32)
        loading.to_int8(model)
    else:
        model, tokenizer = loading.load(spec, settings, device=device)
    return Judge(spec=spec, model=model, tokenizer=tokenizer, batch_size=batch_size, precision=precision)


def option_ids(tokenizer, options: Sequence[str]) -> list[int]:
    """The token id of each option; ValueError unless every option is one distinct token."""
    ids = []
    for option in options:
        encoded = tokenizer.encode(option, add_special_tokens=False)
        if len(encoded) != 1:
            raise ValueError(f"judge tokenizer splits option {option!r} into {len(encoded)} tokens; options must be single tokens")
        ids.append(encoded[0])
    if len(set(ids)) != len(ids):
        raise ValueError(f"judge options {options} share token ids {ids}")
    return ids


def _chat(tokenizer, content: str) -> str:
    messages = [{"role": "user", "content": content}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return content + "\n"


@torch.inference_mode()
def option_probs(judge: Judge, contents: Sequence[str], options: Sequence[str]) -> torch.Tensor:
    """(len(contents), len(options)) next-token probabilities of each option, renormalised over the options.

    Batches of judge.batch_size, sorted by length to cut padding; left padding puts every
    prompt's last token in the last position.
    """
    tok = judge.tokenizer
    ids = torch.tensor(option_ids(tok, options))
    texts = [_chat(tok, c) for c in contents]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), len(options))
    device = judge.model.device
    for start in range(0, len(order), judge.batch_size):
        chunk = order[start:start + judge.batch_size]
        tok.padding_side = "left"
        batch = tok([texts[i] for i in chunk], return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        logits = judge.model(**batch, logits_to_keep=1).logits[:, -1, :].float().cpu()
        out[chunk] = torch.softmax(logits[:, ids], dim=-1)
    return out


def expected_score(probs: torch.Tensor) -> list[float]:
    """Expected option index per row, mapped to [0, 1]: first option 0.0, last 1.0."""
    k = probs.shape[-1]
    weights = torch.arange(k, dtype=probs.dtype) / (k - 1)
    return [float(v) for v in (probs * weights).sum(-1)]


def _around_message(tokenizer) -> tuple[str, str]:
    """(text before, text after) the user message in the tokenizer's chat prompt."""
    mark = "\x00MESSAGE\x00"
    head, tail = _chat(tokenizer, mark).split(mark)
    return head, tail


def segments(tokenizer, task, prompts: Sequence[dict], texts: Sequence[str], axes: Sequence[str]) -> tuple[list[int], list[list[int]], dict[str, list[int]]]:
    """Token ids of the chat prompt in three parts: (shared prefix, one body per text, {axis: ask + generation prompt}).

    prefix + body[i] + ask[axis] is the rubric(axis, ...) of text i in the chat template.
    """
    head, tail = _around_message(tokenizer)
    encode = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    return (encode(head + shared_text(task)), [encode(body_text(p, t)) for p, t in zip(prompts, texts)],
            {axis: encode(ASK[axis] + tail) for axis in axes})


@torch.inference_mode()
def rubric_probs(judge: Judge, task, prompts: Sequence[dict], texts: Sequence[str], axes: Sequence[str]) -> dict[str, torch.Tensor]:
    """{axis: (len(texts), 5) probabilities of the digits 1-5 after each text's rubric on that axis}.

    The shared prefix runs once and its cache is copied into every batch; bodies run in batches
    of judge.batch_size (sorted by length, left-padded between prefix and body, with position ids
    that skip the padding), and each axis's ask runs on the batch's cache, which is cropped back
    after it. The result equals one unpadded forward pass per rubric, up to float rounding.
    """
    from transformers import DynamicCache

    for axis in axes:
        check_axis(axis)
    model, tok = judge.model, judge.tokenizer
    device = model.device
    ids = torch.tensor(option_ids(tok, OPTIONS))
    prefix, bodies, asks = segments(tok, task, prompts, texts, axes)
    out = {axis: torch.empty(len(texts), len(OPTIONS)) for axis in axes}
    if not texts:
        return out
    prefix_cache = DynamicCache()
    model(input_ids=torch.tensor([prefix], device=device), cache=prefix_cache, use_cache=True, logits_to_keep=1)
    n_prefix, pad = len(prefix), tok.pad_token_id if tok.pad_token_id is not None else 0
    order = sorted(range(len(texts)), key=lambda i: len(bodies[i]))
    for start in range(0, len(order), judge.batch_size):
        chunk = order[start:start + judge.batch_size]
        lengths = torch.tensor([len(bodies[i]) for i in chunk], device=device)
        width = int(lengths.max())
        input_ids = torch.tensor([[pad] * (width - len(bodies[i])) + bodies[i] for i in chunk], device=device)
        body_mask = (torch.arange(width, device=device)[None, :] >= (width - lengths)[:, None]).long()
        mask = torch.cat([torch.ones(len(chunk), n_prefix, dtype=torch.long, device=device), body_mask], dim=1)
        positions = n_prefix + (body_mask.cumsum(-1) - 1).clamp(min=0)
        cache = copy.deepcopy(prefix_cache)
        cache.batch_repeat_interleave(len(chunk))
        model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=1)
        for axis in axes:
            ask = torch.tensor(asks[axis], device=device).expand(len(chunk), -1)
            ask_mask = torch.cat([mask, torch.ones_like(ask)], dim=1)
            ask_positions = (n_prefix + lengths)[:, None] + torch.arange(ask.shape[1], device=device)[None, :]
            logits = model(input_ids=ask, attention_mask=ask_mask, position_ids=ask_positions, cache=cache,
                           use_cache=True, logits_to_keep=1).logits[:, -1, :].float().cpu()
            out[axis][chunk] = torch.softmax(logits[:, ids], dim=-1)
            cache.crop(-ask.shape[1])  # negative: tokens to drop from the end, on every transformers release
    return out


def score_axis(judge: Judge, axis: str, task, prompts: Sequence[dict], texts: Sequence[str]) -> list[float]:
    """Per-text judge scores in [0, 1] on one axis."""
    return judge_scores(judge, task, prompts, texts, axes=(axis,))[axis]


def judge_scores(judge: Judge, task, prompts: Sequence[dict], texts: Sequence[str], axes=AXES) -> dict[str, list[float]]:
    """{"concept": [...], "content": [...]}: the judge's score of each text on each axis, each body read once."""
    if len(prompts) != len(texts):
        raise ValueError("one text per prompt")
    return {axis: expected_score(p) for axis, p in rubric_probs(judge, task, prompts, texts, axes).items()}


def combine_orders(first: str, swapped: str) -> str:
    """The pairwise verdict from both orders: 'a' or 'b' when they agree, else 'tie'.

    `first` is the verdict with a shown as A; `swapped` is the verdict with b shown as A,
    already mapped back to 'a'/'b'.
    """
    return first if first == swapped else TIE


def judge_pair(judge: Judge, task, prompts: Sequence[dict], texts_a: Sequence[str], texts_b: Sequence[str], axis: str = CONCEPT) -> list[dict]:
    """Pairwise verdicts: for each prompt, {"winner": "a"|"b"|"tie", "p_a": P(a better) averaged over both orders,
    "p_first": P(a) with a shown as A, "p_swapped": P(a) with a shown as B}."""
    if not (len(prompts) == len(texts_a) == len(texts_b)):
        raise ValueError("one text a and one text b per prompt")
    n = len(prompts)
    contents = [pair_rubric(axis, task, p, a, b) for p, a, b in zip(prompts, texts_a, texts_b)]
    contents += [pair_rubric(axis, task, p, b, a) for p, a, b in zip(prompts, texts_a, texts_b)]
    probs = option_probs(judge, contents, PAIR_OPTIONS) if n else torch.empty(0, 2)
    verdicts = []
    for i in range(n):
        p_first, p_swapped = float(probs[i, 0]), float(probs[n + i, 1])  # P(a) with a shown first, then second
        first = A if p_first >= 0.5 else B
        swapped = A if p_swapped >= 0.5 else B
        verdicts.append({"winner": combine_orders(first, swapped), "p_a": (p_first + p_swapped) / 2,
                         "p_first": p_first, "p_swapped": p_swapped})
    return verdicts
