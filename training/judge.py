"""A local LLM judge: rubric scores from next-token probabilities, on the concept and content axes.

    judge = load_judge("qwen2.5-coder-1.5b", settings)       # embedded name, hub id or local dir
    judge_scores(judge, task, prompts, texts)                # {"concept": [...], "content": [...]}
    judge_pair(judge, task, prompts, texts_a, texts_b)       # [{"winner": "a"|"b"|"tie", ...}, ...]

A rubric asks for one digit from 1 to 5; the score is the expected value of that digit under the
model's next-token probabilities, renormalised over the five digit tokens and mapped to [0, 1]
(1 -> 0.0, 5 -> 1.0). Nothing is sampled: one left-padded forward pass per batch reads the
logits of the last position. Pairwise mode asks "A or B?" with the two answers in both orders;
a verdict that flips with the order is a tie (position bias is not evidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

OPTIONS = ("1", "2", "3", "4", "5")
PAIR_OPTIONS = ("A", "B")
MAX_ANSWER_CHARS = 1000  # longer answers are cut: the rubric needs the gist, and cost grows with length
# Prompt tokens are the whole cost (one forward pass each, ~2 x params FLOPs per token), so the
# rubrics are short.
DEGENERATE = "Looping, repeated phrases, stuffed keywords, cut-off or off-topic answers score 1."

CONCEPT_RUBRIC = """Grade only how well the answer shows this target.
TARGET: {concept}
QUESTION: {question}
ANSWER: {answer}
5 = the whole answer clearly shows the target while answering the question; 3 = only in places; 1 = absent. {degenerate}
Reply with one digit, 1-5."""

CONTENT_RUBRIC = """Grade only whether the answer is factually right; ignore its style.
QUESTION: {question}
{reference}ANSWER: {answer}
5 = correct and complete; 3 = partly correct or missing key facts; 1 = wrong, contradicts the reference, or no answer. {degenerate}
Reply with one digit, 1-5."""

PAIR_RUBRIC = """Compare two answers on one criterion only: {criterion}
QUESTION: {question}
{reference}ANSWER A: {a}
ANSWER B: {b}
{degenerate} Which answer is better on the criterion? Reply with one letter, A or B."""


@dataclass
class Judge:
    """A loaded judge model: (model, tokenizer), the spec it came from and its batch size."""

    spec: str
    model: Any
    tokenizer: Any
    batch_size: int = 8


def load_judge(spec: str, settings, device: str = "auto", batch_size: int = 8) -> Judge:
    """Load `spec` (embedded name, hub id or local directory) through training.loading as a Judge."""
    from training import loading

    model, tokenizer = loading.load(spec, settings, device=device)
    return Judge(spec=spec, model=model, tokenizer=tokenizer, batch_size=batch_size)


def _field(task, name: str) -> str:
    return (task.get(name) if isinstance(task, dict) else getattr(task, name, None)) or ""


def _cut(text: str) -> str:
    text = text.strip() or "(empty)"
    return text if len(text) <= MAX_ANSWER_CHARS else text[:MAX_ANSWER_CHARS] + " [...]"


def _question(prompt: dict) -> str:
    # stored prompt rows call the question "text", prompt-set files call it "prompt"
    return prompt.get("text") or prompt.get("prompt") or "(not shown)"


def reference_text(prompt: dict) -> str:
    """The prompt's reference, key facts and exact answer as rubric lines ('' when it has none)."""
    lines = []
    if prompt.get("reference"):
        lines.append(f"REFERENCE: {prompt['reference']}")
    if prompt.get("key_facts"):
        facts = "; ".join(" / ".join(alts) for alts in prompt["key_facts"])
        lines.append(f"KEY FACTS: {facts}")
    if prompt.get("answer"):
        lines.append(f"CORRECT ANSWER: {prompt['answer']}")
    return "\n".join(lines) + ("\n" if lines else "")


def rubric(axis: str, task, prompt: dict, text: str) -> str:
    """The filled rubric asking for a 1-5 score of `text` on `axis` ('concept' or 'content')."""
    question = _question(prompt)
    if axis == "concept":
        return CONCEPT_RUBRIC.format(concept=_field(task, "concept"), question=question, answer=_cut(text), degenerate=DEGENERATE)
    if axis == "content":
        return CONTENT_RUBRIC.format(question=question, reference=reference_text(prompt), answer=_cut(text), degenerate=DEGENERATE)
    raise ValueError(f"unknown axis {axis!r}; use concept or content")


def pair_rubric(axis: str, task, prompt: dict, a: str, b: str) -> str:
    """The filled rubric asking which of two answers is better on `axis`."""
    criterion = (f"which better shows this target: {_field(task, 'concept')}" if axis == "concept"
                 else "which is factually right (ignore style)")
    reference = reference_text(prompt) if axis == "content" else ""
    return PAIR_RUBRIC.format(criterion=criterion, question=_question(prompt), reference=reference,
                              a=_cut(a), b=_cut(b), degenerate=DEGENERATE)


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


def score_axis(judge: Judge, axis: str, task, prompts: Sequence[dict], texts: Sequence[str]) -> list[float]:
    """Per-text judge scores in [0, 1] on one axis."""
    if len(prompts) != len(texts):
        raise ValueError("one text per prompt")
    if not texts:
        return []
    return expected_score(option_probs(judge, [rubric(axis, task, p, t) for p, t in zip(prompts, texts)], OPTIONS))


def judge_scores(judge: Judge, task, prompts: Sequence[dict], texts: Sequence[str], axes=("concept", "content")) -> dict[str, list[float]]:
    """{"concept": [...], "content": [...]}: the judge's score of each text on each axis."""
    return {axis: score_axis(judge, axis, task, prompts, texts) for axis in axes}


def combine_orders(first: str, swapped: str) -> str:
    """The pairwise verdict from both orders: 'a' or 'b' when they agree, else 'tie'.

    `first` is the verdict with a shown as A; `swapped` is the verdict with b shown as A,
    already mapped back to 'a'/'b'.
    """
    return first if first == swapped else "tie"


def judge_pair(judge: Judge, task, prompts: Sequence[dict], texts_a: Sequence[str], texts_b: Sequence[str], axis: str = "concept") -> list[dict]:
    """Pairwise verdicts: for each prompt, {"winner": "a"|"b"|"tie", "p_a": P(a better) averaged over both orders}."""
    if not (len(prompts) == len(texts_a) == len(texts_b)):
        raise ValueError("one text a and one text b per prompt")
    n = len(prompts)
    contents = [pair_rubric(axis, task, p, a, b) for p, a, b in zip(prompts, texts_a, texts_b)]
    contents += [pair_rubric(axis, task, p, b, a) for p, a, b in zip(prompts, texts_a, texts_b)]
    probs = option_probs(judge, contents, PAIR_OPTIONS) if n else torch.empty(0, 2)
    verdicts = []
    for i in range(n):
        p_first, p_swapped = float(probs[i, 0]), float(probs[n + i, 1])  # P(a) with a shown first, then second
        first = "a" if p_first >= 0.5 else "b"
        swapped = "a" if p_swapped >= 0.5 else "b"
        verdicts.append({"winner": combine_orders(first, swapped), "p_a": (p_first + p_swapped) / 2})
    return verdicts
