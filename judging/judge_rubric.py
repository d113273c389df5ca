"""The LLM judge's rubrics as text: a 1-5 grade of one answer on one axis, and the pairwise A/B question.

Pure string work (no torch), so calibration and reports can show a rubric without loading a model.
"""

from __future__ import annotations

from storage.terms import CONCEPT, CONTENT

MAX_ANSWER_CHARS = 1000  # longer answers are cut: the rubric needs the gist, and cost grows with length
# Prompt tokens are the whole cost (one forward pass each, ~2 x params FLOPs per token). So a rubric
# is three segments: the task's SHARED instructions (one forward pass per call, its keys and values
# reused by every answer), the answer's BODY (once per answer, whatever the number of axes) and a
# short ASK per axis (a few tokens, run on the body's cache and cropped off again).
DEGENERATE = "Looping, repeated phrases, stuffed keywords, cut-off or off-topic answers score 1 on both."

SHARED = """You grade one answer to a question on one criterion, from 1 to 5.
TARGET STYLE: {concept}
STYLE: 5 = the whole answer clearly shows the target style while answering the question; 3 = only in places; 1 = absent.
FACTS: 5 = correct and complete; 3 = partly correct or missing key facts; 1 = wrong, contradicts the key facts, or no answer. Ignore style.
{degenerate}
"""
PAIR_DEGENERATE = "A looping, repeated, keyword-stuffed, cut-off or off-topic answer loses."
# A formula is not the style: the pairwise concept question says so, so that "Aye, " + a plain answer
# does not beat a plain answer by much and never beats an answer whose style runs through it.
PAIR_FORMULA = ("The style must run through the whole answer. A formula is weak: one interjection, greeting or stock "
                "phrase stuck on an otherwise plain answer, or only the topic's words, counts as almost no style.")
BODY = "QUESTION: {question}\n{reference}ANSWER: {answer}\n"
ASK = {CONCEPT: "Grade STYLE only. Reply with one digit, 1-5.", CONTENT: "Grade FACTS only. Reply with one digit, 1-5."}

PAIR_RUBRIC = """Compare two answers on one criterion only: {criterion}
QUESTION: {question}
{reference}ANSWER A: {a}
ANSWER B: {b}
{formula}{degenerate} Which answer is better on the criterion? Reply with one letter, A or B."""


def _field(task, name: str) -> str:
    return (task.get(name) if isinstance(task, dict) else getattr(task, name, None)) or ""


def _cut(text: str) -> str:
    text = text.strip() or "(empty)"
    return text if len(text) <= MAX_ANSWER_CHARS else text[:MAX_ANSWER_CHARS] + " [...]"


def _question(prompt: dict) -> str:
    # stored prompt rows call the question "text", prompt-set files call it "prompt"
    return prompt.get("text") or prompt.get("prompt") or "(not shown)"


def reference_text(prompt: dict) -> str:
    """The prompt's key facts (else its reference) and exact answer as rubric lines ('' when it has none).

    Key facts say what a right answer contains in a third of the reference's tokens.
    """
    lines = []
    if prompt.get("reference") and not prompt.get("key_facts"):
        lines.append(f"REFERENCE: {prompt['reference']}")
    if prompt.get("key_facts"):
        facts = "; ".join(" / ".join(alts) for alts in prompt["key_facts"])
        lines.append(f"KEY FACTS: {facts}")
    if prompt.get("answer"):
        lines.append(f"CORRECT ANSWER: {prompt['answer']}")
    return "\n".join(lines) + ("\n" if lines else "")


def check_axis(axis: str) -> None:
    """ValueError unless `axis` is one the judge grades (concept or content)."""
    if axis not in ASK:
        raise ValueError(f"unknown axis {axis!r}; use concept or content")


def shared_text(task) -> str:
    """The rubric's task-wide instructions: the target style, both scales and the degenerate rule."""
    return SHARED.format(concept=_field(task, "concept") or "(none)", degenerate=DEGENERATE)


def body_text(prompt: dict, text: str) -> str:
    """The rubric's part about one answer: its question, key facts or reference, and the answer."""
    return BODY.format(question=_question(prompt), reference=reference_text(prompt), answer=_cut(text))


def rubric(axis: str, task, prompt: dict, text: str) -> str:
    """The whole user message asking for a 1-5 score of `text` on `axis` ('concept' or 'content')."""
    check_axis(axis)
    return shared_text(task) + body_text(prompt, text) + ASK[axis]


def pair_rubric(axis: str, task, prompt: dict, a: str, b: str) -> str:
    """The filled rubric asking which of two answers is better on `axis`."""
    criterion = (f"which better shows this target: {_field(task, 'concept')}" if axis == CONCEPT
                 else "which is factually right (ignore style)")
    reference = reference_text(prompt) if axis == CONTENT else ""
    formula = PAIR_FORMULA + " " if axis == CONCEPT else ""
    return PAIR_RUBRIC.format(criterion=criterion, question=_question(prompt), reference=reference,
                              a=_cut(a), b=_cut(b), formula=formula, degenerate=PAIR_DEGENERATE)
