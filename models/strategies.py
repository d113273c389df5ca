"""Generation strategies of the weak-to-strong refinement paper: task + prompt + context -> chat messages.

Each strategy is a pure function `build(task, prompt, ctx) -> messages` (a list of
{"role", "content"} dicts in the tokenizer's chat format) registered in STRATEGIES by name, with
what it needs from the weak model said up front so a generate job can produce those weak labels
first:

- `weak`: the weak model with the task's concept instruction; its answers are the weak labels.
- `strong-base`, `strong-instructed`: the strong model on the plain prompt, without and with the
  concept instruction (the reference points every evaluation needs).
- `icl-refine` (Algorithm 1): weak-labelled train prompts as prior chat turns, then the prompt.
- `infer-and-respond` (Algorithm 2): the strong model first describes the style the weak
  examples share (`describe`), then answers under that description.
- `ask-to-improve` (Algorithm 3): the strong model fixes the weak label's content, keeping its style.
- `icl-restyle`: the strong model rewrites its own plain answer (strong-base) in the style the weak
  examples share: Algorithm 3 turned around, so the facts are the strong model's from the start and
  only the style comes from the weak labels.
- `weak-opening`: the strong model's answer to the plain prompt, its reply begun with the opening the
  weak labels of the train pool share (shared_opening). The style marker comes from the weak labels,
  everything after it from the strong model, which is never told the concept.
- `correction`: annotators' written answers (stored at vote time, never generated).
- `model:<version>`: a trained adapter answering the plain prompt.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from registry import Registry
from storage.errors import UserError
from storage.terms import (ASK_TO_IMPROVE, CORRECTION, ICL_REFINE, ICL_RESTYLE, INFER_AND_RESPOND, MODEL_PREFIX,  # noqa: F401
                           STRONG_BASE, STRONG_INSTRUCTED, WEAK, WEAK_OPENING)

Messages = list[dict[str, str]]
# the names other modules say: the weak labels, the strong model's plain answer, the default refined labels (the paper's
# Algorithm 1) and the plain answer begun with the weak labels' opening; every other name stays in STRATEGIES only


@dataclass(frozen=True)
class Context:
    """What a strategy may need besides the task and the prompt."""

    weak_label: str | None = None  # the weak model's answer to this prompt (ask-to-improve)
    examples: tuple[tuple[str, str], ...] = ()  # (prompt, weak label) pairs from the train split
    description: str | None = None  # the inferred style (infer-and-respond, second step)
    base_answer: str | None = None  # the strong model's plain answer to this prompt (icl-restyle)
    opening: str | None = None  # the opening the train pool's weak labels share (weak-opening)


@dataclass(frozen=True)
class Strategy:
    """A named way of producing a candidate answer."""

    name: str
    role: str  # which model runs it: "weak", "strong", "adapter" or "human" (never generated)
    build: Callable[[dict, str, Context], Messages] | None
    help: str
    needs_weak_label: bool = False  # the weak label of the prompt itself
    needs_examples: bool = False  # weak-labelled train examples
    needs_base_answer: bool = False  # the strong-base answer of the prompt itself
    needs_opening: bool = False  # the weak labels of the whole train pool, for their shared opening
    describe: Callable[[dict, Context], Messages] | None = field(default=None)  # a first generation step
    uses_task: bool = True  # False: the same messages for every task, so outputs can be shared between tasks
    reference: bool = False  # a reference point every evaluation shows: the weak teacher, the strong model without and with the concept

    @property
    def takes_weak_labels(self) -> bool:
        """Whether its messages hold weak labels (the prompt's own, the ICL examples' or the pool's shared opening), so
        the weak model answers first."""
        return self.needs_weak_label or self.needs_examples or self.needs_opening


def _system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def weak(task: dict, prompt: str, ctx: Context) -> Messages:
    """The weak label: the concept instruction as system message, the task's demonstrations as
    prior turns, then the prompt; each question carries the task's weak cue."""
    cue = task.get("weak_cue") or ""
    messages = [_system(task["concept"])]
    for example_prompt, answer in json.loads(task.get("weak_examples") or "[]"):
        messages += [_user(cue + example_prompt), _assistant(answer)]
    return messages + [_user(cue + prompt)]


def strong_base(task: dict, prompt: str, ctx: Context) -> Messages:
    """The strong model's own answer: the plain prompt, no instruction."""
    return [_user(prompt)]


def strong_instructed(task: dict, prompt: str, ctx: Context) -> Messages:
    """The strong model told the concept: the concept instruction as system message, then the prompt."""
    return [_system(task["concept"]), _user(prompt)]


def icl_refine(task: dict, prompt: str, ctx: Context) -> Messages:
    """Algorithm 1: each weak-labelled example as a user/assistant turn, then the prompt.

    No instruction: the strong model has to pick the concept up from the weak answers alone,
    while answering from its own knowledge.
    """
    if not ctx.examples:
        raise ValueError("icl-refine needs weak-labelled examples")
    messages: Messages = []
    for example_prompt, label in ctx.examples:
        messages += [_user(example_prompt), _assistant(label)]
    return messages + [_user(prompt)]


def describe_style(task: dict, ctx: Context) -> Messages:
    """Algorithm 2, first step: ask for a description of the style the weak examples share."""
    if not ctx.examples:
        raise ValueError("infer-and-respond needs weak-labelled examples")
    shown = "\n\n".join(
        f"### Question {i}\n{example_prompt}\n\n### Answer {i}\n{label}"
        for i, (example_prompt, label) in enumerate(ctx.examples, start=1)
    )
    return [_user(
        f"Here are {len(ctx.examples)} questions, each followed by an answer from the same writer.\n\n"
        f"{shown}\n\n"
        "Describe in one or two sentences the style these answers share: the voice, persona, tone and "
        "way of explaining. Ignore whether the answers are correct and do not mention their topics. "
        "Write the description as an instruction to another writer, starting with \"Answer\"."
    )]


def infer_and_respond(task: dict, prompt: str, ctx: Context) -> Messages:
    """Algorithm 2, second step: answer the prompt in the inferred style, with correct facts."""
    if not ctx.description:
        raise ValueError("infer-and-respond needs the style description from its first step")
    return [_user(
        f"Write your answer in this style: {ctx.description.strip()}\n"
        "Make sure every fact in your answer is correct.\n\n"
        f"{prompt}"
    )]


def ask_to_improve(task: dict, prompt: str, ctx: Context) -> Messages:
    """Algorithm 3: show the weak label and ask for its content fixed, its style kept."""
    if ctx.weak_label is None:
        raise ValueError("ask-to-improve needs the weak label of the prompt")
    return [_user(
        "Here is a question and an answer someone wrote.\n\n"
        f"Question: {prompt}\n\n"
        f"Answer: {ctx.weak_label.strip()}\n\n"
        "The answer's facts may be wrong or incomplete. Rewrite the answer so that every fact is "
        "correct and complete, but keep its style exactly: the same voice, persona, tone, words and "
        "way of explaining. Reply with the rewritten answer only."
    )]


def icl_restyle(task: dict, prompt: str, ctx: Context) -> Messages:
    """The strong model's plain answer rewritten in the style of the weak-labelled examples.

    The examples show the style only (their facts may be wrong); the answer to rewrite brings the facts.
    """
    if not ctx.examples or ctx.base_answer is None:
        raise ValueError("icl-restyle needs weak-labelled examples and the strong-base answer of the prompt")
    shown = "\n\n".join(f"Question: {q}\nAnswer: {label}" for q, label in ctx.examples)
    return [_user(
        "Here are questions answered by one writer, in the writer's own style:\n\n"
        f"{shown}\n\n"
        "Now rewrite the answer below in that writer's style: the same voice, persona, tone and way of "
        "explaining. Keep every fact of it and add no new ones. Reply with the rewritten answer only.\n\n"
        f"Question: {prompt}\nAnswer: {ctx.base_answer.strip()}"
    )]


def shared_opening(labels: list[str], max_words: int = 4) -> str:
    """The opening most of `labels` share: the longest run of first words (up to `max_words`) more than half of
    them begin with, else the commonest first word (on a tie, the one met first); '' for no words.

    What the weak labels share is their style; what varies between them is their content.
    """
    words = [w for w in (label.split() for label in labels) if w]
    for k in range(max_words, 0, -1):
        counts = Counter(tuple(w[:k]) for w in words if len(w) >= k)
        if counts:
            opening, n = counts.most_common(1)[0]
            if 2 * n > len(words) or k == 1:
                return " ".join(opening)
    return ""


def weak_opening(task: dict, prompt: str, ctx: Context) -> Messages:
    """The plain prompt, the reply begun with the weak labels' shared opening: a final assistant
    message, which generation continues instead of starting a new turn."""
    if ctx.opening is None:
        raise ValueError("weak-opening needs the opening the weak labels share")
    return [_user(prompt)] + ([_assistant(ctx.opening)] if ctx.opening else [])


def adapter(task: dict, prompt: str, ctx: Context) -> Messages:
    """A trained model version: the plain prompt (the concept should now be in the weights)."""
    return [_user(prompt)]


STRATEGIES: Registry[Strategy] = Registry("strategy", (
        Strategy(WEAK, "weak", weak, "weak model + concept instruction and the task's demonstrations (the weak label)",
                 reference=True),
        Strategy(STRONG_BASE, "strong", strong_base, "strong model, plain prompt", uses_task=False, reference=True),
        Strategy(STRONG_INSTRUCTED, "strong", strong_instructed, "strong model + concept instruction", reference=True),
        Strategy(ICL_REFINE, "strong", icl_refine, "strong model, weak-labelled examples in context (Algorithm 1)",
                 needs_examples=True),
        Strategy(INFER_AND_RESPOND, "strong", infer_and_respond,
                 "strong model infers the style of the weak examples, then answers in it (Algorithm 2)",
                 needs_examples=True, describe=describe_style),
        Strategy(ASK_TO_IMPROVE, "strong", ask_to_improve,
                 "strong model fixes the weak label's content, keeping its style (Algorithm 3)", needs_weak_label=True),
        Strategy(ICL_RESTYLE, "strong", icl_restyle,
                 "strong model rewrites its own plain answer in the style of the weak examples",
                 needs_examples=True, needs_base_answer=True),
        Strategy(WEAK_OPENING, "strong", weak_opening,
                 "strong model, plain prompt, its reply begun with the words most weak labels open with",
                 needs_opening=True),
        Strategy(CORRECTION, "human", None, "annotators' written corrections (stored at vote time)"),
        Strategy("model", "adapter", adapter, "model:<version>: a trained adapter, plain prompt", uses_task=False),
))
REFERENCES = tuple(name for name, s in STRATEGIES.items() if s.reference)
NAMED_OUTPUTS = tuple(name for name, s in STRATEGIES.items() if s.role != "adapter")  # a version's are under model:<version>


def get_strategy(name: str) -> tuple[Strategy, str | None]:
    """The strategy called `name`, and the model version for `model:<version>` (else None)."""
    if name.startswith(MODEL_PREFIX):
        version = name[len(MODEL_PREFIX):].strip()
        if not version:
            raise UserError("model:<version> needs a version name, e.g. model:pirate-dpo-1")
        return STRATEGIES["model"], version
    # "model" alone names no version: only model:<version> selects a trained adapter
    return STRATEGIES.get("" if name == "model" else name, hint=f"{MODEL_PREFIX}<version>"), None


def context_of(prompt: dict, weak_labels: Mapping[int, str], examples: Sequence[dict] = (),
               base_answers: Mapping[int, str] | None = None, opening: str | None = None,
               description: str | None = None) -> Context:
    """Everything a strategy may take for `prompt` (a prompt row), from what is known so far: its weak label and its
    strong-base answer (by prompt id), its ICL `examples` (prompt rows) with their weak labels, the train pool's shared
    opening and a described style. Each strategy reads only what its needs_* flags (and describe) name."""
    return Context(weak_label=weak_labels.get(prompt["id"]), examples=tuple((e["text"], weak_labels[e["id"]]) for e in examples),
                   description=description, base_answer=(base_answers or {}).get(prompt["id"]), opening=opening)


def example_contexts(prompts: list[dict], weak_labels: list[str], n: int, seed: int, base_answers: list[str] | None = None,
                     opening: str | None = None) -> list[Context]:
    """Each of `prompts`' context_of, its ICL examples `n` of the other prompts (select_examples), from `weak_labels` (and
    `base_answers`, the strong-base answers), both in `prompts`' order."""
    labels = {p["id"]: t for p, t in zip(prompts, weak_labels)}
    base = {p["id"]: t for p, t in zip(prompts, base_answers or ())}
    return [context_of(p, labels, select_examples(prompts, p, n, seed), base, opening) for p in prompts]


def select_examples(pool: list[dict], prompt: dict, n: int, seed: int) -> list[dict]:
    """Pick `n` ICL examples for `prompt` from `pool` (prompt rows), seeded by (seed, prompt ext_id).

    Only train-split prompts qualify and never the prompt itself (matched by id and by text), so
    no eval prompt and no answer to the question being asked leaks into the context. The choice
    depends only on the seed, the prompt and the pool, not on which other prompts a job covers.
    """
    eligible = [
        p for p in pool
        if p["split"] == "train" and p["id"] != prompt["id"] and p["text"].strip() != prompt["text"].strip()
    ]
    if len(eligible) < n:
        raise UserError(
            f"need {n} weak-labelled train examples for prompt {prompt['ext_id']!r} but the pool has only "
            f"{len(eligible)}; lower --n-icl or import more train prompts"
        )
    rng = random.Random(f"{seed}/{prompt['ext_id']}")
    return rng.sample(eligible, n)
