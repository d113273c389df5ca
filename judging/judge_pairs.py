"""How far a pairwise instrument (the LLM judge, or the simulated annotator) prefers the better of two real answers.

Pairs: two labelled real answers (data/labels/<task>.jsonl, both labellers agreeing) to the SAME prompt with
different labels on one axis: concept voice (2) vs formula (1), voice vs none (0), formula vs none; content 1 vs 0.

An instrument is `fn(prompts, texts_a, texts_b, axis) -> [{"p_first", "p_swapped"}, ...]`: P(a better) with a
shown as A, and shown as B (judging.judge.judge_pair gives both). The higher-labelled answer is always a, so:

- accuracy: share of pairs whose P(a) averaged over both orders is above 0.5 (exactly 0.5 counts half);
- AUC: both orders as separate readings, P(A) with the better answer shown as A (p_first) against P(A) with
  it shown as B (1 - p_swapped): 1.0 when the better answer always gets more weight wherever it stands;
- flips: share of pairs whose verdict changes with the order (position bias, a tie in judge_pair).
Intervals: 95% percentile bootstraps over pairs (both readings of a pair stay together).
"""

from __future__ import annotations

import json
import random
from itertools import combinations
from pathlib import Path
from typing import Callable, Sequence

# (prompts, the better-labelled answers, the others, axis) -> one reading per pair
Instrument = Callable[[list[dict], list[str], list[str], str], list[dict]]

import numpy as np

from feedback.bootstrap import percentile_interval, resample
from feedback.tasks import PROMPTS_DIR
from storage.terms import AXES, CONCEPT, CONTENT

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "data" / "labels"
CONCEPT_NAMES = {2: "voice", 1: "formula", 0: "none"}
CALIBRATION = ROOT / "results" / "calibration" / "judge-pairs.json"  # written by bench/judge_pairs.py
MIN_AUC = 0.80  # a report shows a judge column only where the judge's pairwise AUC on the task's label pairs reaches this
KINDS = {CONCEPT: ("voice>formula", "voice>none", "formula>none"), CONTENT: ("correct>wrong",)}


_jsonl = lambda path: [json.loads(line) for line in path.read_text().splitlines() if line.strip()]  # noqa: E731


def agreed(task: str, axis: str, labels_dir: Path = LABELS) -> list[dict]:
    """The task's labelled answers both labellers agree on for `axis`, each with "label" (that agreed value)."""
    rows = _jsonl(labels_dir / f"{task}.jsonl")
    return [{**r, "label": r[axis][0]} for r in rows if len(set(r[axis])) == 1]


def kind_of(axis: str, hi: int, lo: int) -> str:
    """The name of a pair kind, e.g. 'voice>formula' (concept 2 vs 1) or 'correct>wrong' (content 1 vs 0)."""
    return f"{CONCEPT_NAMES[hi]}>{CONCEPT_NAMES[lo]}" if axis == CONCEPT else "correct>wrong"


def label_pairs(rows: Sequence[dict], axis: str, max_pairs: int = 150, seed: int = 0) -> list[dict]:
    """Up to `max_pairs` pairs {"kind", "prompt_id", "hi", "lo"} (label rows, hi labelled higher) of answers to the same
    prompt with different labels on `axis`, drawn in turn from each kind so a rare kind keeps its pairs; at most
    one pair per prompt and kind in the first rounds, so no one prompt dominates. Seeded."""
    by_prompt: dict[str, list[dict]] = {}
    for r in rows:
        by_prompt.setdefault(r["prompt_id"], []).append(r)
    rng = random.Random(seed)
    pools: dict[str, list[list[dict]]] = {k: [] for k in KINDS[axis]}
    for pid in sorted(by_prompt):
        per_kind: dict[str, list[dict]] = {}
        for x, y in combinations(by_prompt[pid], 2):
            if x["label"] == y["label"] or x["answer"].strip() == y["answer"].strip():
                continue
            hi, lo = (x, y) if x["label"] > y["label"] else (y, x)
            per_kind.setdefault(kind_of(axis, hi["label"], lo["label"]), []).append(
                {"kind": kind_of(axis, hi["label"], lo["label"]), "prompt_id": pid, "hi": hi, "lo": lo})
        for kind, found in per_kind.items():
            rng.shuffle(found)
            pools[kind].append(found)
    # round r takes each prompt's r-th pair of a kind: every prompt once before any prompt twice
    queues = {}
    for kind, per_prompt in pools.items():
        rng.shuffle(per_prompt)
        depth = max((len(p) for p in per_prompt), default=0)
        queues[kind] = [p[r] for r in range(depth) for p in per_prompt if r < len(p)]
    out: list[dict] = []
    while len(out) < max_pairs and any(queues.values()):
        for kind in KINDS[axis]:
            if queues[kind] and len(out) < max_pairs:
                out.append(queues[kind].pop(0))
    return out


def prompts_by_id(prompt_set: str = "general") -> dict[str, dict]:
    """The prompt set's prompts by id (their key facts and reference go into the content rubric)."""
    return {p["id"]: p for p in _jsonl(PROMPTS_DIR / f"{prompt_set}.jsonl")}


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def summarize(readings: Sequence[dict], n_boot: int = 1000, seed: int = 0) -> dict:
    """{"n", "accuracy", "auc", "flips"}, each a {"value", "lo", "hi"} (bootstrap over pairs), from readings
    {"p_first", "p_swapped"} of pairs whose a is the better answer."""
    first = np.asarray([r["p_first"] for r in readings], dtype=float)
    swapped = np.asarray([r["p_swapped"] for r in readings], dtype=float)
    mean = (first + swapped) / 2
    hits = np.where(mean > 0.5, 1.0, np.where(mean == 0.5, 0.5, 0.0))
    flips = ((first >= 0.5) != (swapped >= 0.5)).astype(float)
    stats = {"accuracy": lambda i: hits[i].mean(), "auc": lambda i: _auc(first[i], 1 - swapped[i]),
             "flips": lambda i: flips[i].mean()}
    n = len(readings)
    if n == 0:
        return {"n": 0}
    idx = resample(n, n_boot, seed)
    every = np.arange(n)
    out: dict = {"n": n}
    for name, fn in stats.items():
        boots = [fn(i) for i in idx]
        lo, hi = percentile_interval(boots)
        out[name] = {"value": float(fn(every)), "lo": float(lo), "hi": float(hi)}
    return out


def measure(task, axis: str, instrument: Instrument, max_pairs: int = 150, seed: int = 0,
            labels_dir: Path = LABELS, exclude: frozenset[str] = frozenset()) -> dict:
    """{"pairs": n, "kinds": {kind: summary}, "all": summary} of `instrument(prompts, hi_texts, lo_texts, axis)`
    on the task's label pairs for `axis` (task: a feedback.tasks.Task or anything with .name and .prompt_set);
    `exclude`: answers (stripped) left out, e.g. the texts an instrument was fitted on."""
    rows = [r for r in agreed(task.name, axis, labels_dir) if r["answer"].strip() not in exclude]
    pairs = label_pairs(rows, axis, max_pairs, seed)
    prompts = prompts_by_id(task.prompt_set)
    asked = [prompts.get(p["prompt_id"], {"id": p["prompt_id"], "prompt": p["hi"]["question"]}) for p in pairs]
    readings = instrument(asked, [p["hi"]["answer"] for p in pairs], [p["lo"]["answer"] for p in pairs], axis) if pairs else []
    kinds = {k: summarize([r for r, p in zip(readings, pairs) if p["kind"] == k], seed=seed) for k in KINDS[axis]}
    return {"pairs": len(pairs), "kinds": kinds, "all": summarize(readings, seed=seed)}


def judge_instrument(judge, task) -> Instrument:
    """The LLM judge's pairwise mode (judging.judge.judge_pair, both orders) as an instrument."""
    from judging.judge import judge_pair

    return lambda prompts, a, b, axis: judge_pair(judge, task, prompts, a, b, axis=axis)


def _cell(s: dict | None, key: str) -> str:
    if not s or key not in s:
        return "–"
    v = s[key]
    return f"{v['value']:.2f} [{v['lo']:.2f}, {v['hi']:.2f}]"


def table(results: dict) -> str:
    """A markdown table of {task: {axis: measure(...)}}: n, accuracy, AUC and order flips per pair kind and overall."""
    lines = ["| task | axis | pairs | n | accuracy | AUC | order flips |", "|---|---|---|---|---|---|---|"]
    for task, axes in results.items():
        for axis, m in axes.items():
            for kind, s in [*m["kinds"].items(), ("all", m["all"])]:
                lines.append(f"| {task} | {axis} | {kind} | {s.get('n', 0)} | {_cell(s, 'accuracy')} | {_cell(s, 'auc')} | {_cell(s, 'flips')} |")
    return "\n".join(lines)


def judge_gate(judge: str, task: str, path: Path = CALIBRATION) -> dict[str, tuple[bool, str]]:
    """{axis: (shown, why)}: whether a report of `task` shows judge `judge`'s column on each axis (its AUC over the
    task's real-answer label pairs, all kinds, is at least MIN_AUC in results/calibration/judge-pairs.json), and the
    words that say so."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    out = {}
    for axis in AXES:
        found = data.get("results", {}).get(task, {}).get(axis, {}).get("all", {}).get("auc") if data.get("judge") == judge else None
        if found is None:
            out[axis] = (False, f"{axis} absent: not calibrated on {task} label pairs")
        else:
            figure = f"AUC {found['value']:.2f} [{found['lo']:.2f}, {found['hi']:.2f}]"
            out[axis] = (found["value"] >= MIN_AUC, f"{axis} {'shown' if found['value'] >= MIN_AUC else 'absent'}: {figure}")
    return out
