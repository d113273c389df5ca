"""How far each scorer can be trusted: AUC against hand labels and agreement with annotators' majorities.

For a task, the labelled set of an axis is the scorer's own file in tests/scorer_labels
(`<scorer>.jsonl`) plus the task's rows in tests/scorer_labels/tasks/<task>.jsonl (rows with an
"axis" and a "prompt_id" into the task's prompt set). Every axis is measured with the task's
heuristic scorer, a length-only baseline (word count) and, when given, an LLM judge.
AUC is the chance that a random text labelled 1 outscores one labelled 0 (ties count half);
0.5 is chance. Intervals are 95% percentile bootstraps over labelled texts (over pairs for votes).

Results are kept per task in results/calibration/calibration.json (a run for one task leaves the
others' figures in place) and rendered to results/calibration/calibration.md, which docs/scorers.md
carries between CALIBRATION_START and CALIBRATION_END.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from feedback.bootstrap import bootstrap_means, percentile_interval, resample
from scoring import scorers
from feedback.tasks import PROMPTS_DIR, Task
from storage.terms import AXES, CONCEPT, CONTENT
import docblocks

ROOT = Path(__file__).resolve().parent.parent
LABELS_DIR = ROOT / "tests" / "scorer_labels"
RESULTS_DIR = ROOT / "results" / "calibration"
CALIBRATION_START, CALIBRATION_END = "<!-- calibration:start -->", "<!-- calibration:end -->"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def _prompts_by_id(prompt_set: str) -> dict[str, dict]:
    return {p["id"]: p for p in _jsonl(PROMPTS_DIR / f"{prompt_set}.jsonl")}


def label_rows(task: Task, labels_dir: Path = LABELS_DIR) -> dict[str, list[dict]]:
    """{axis: [{"prompt", "text", "label"}, ...]}: the scorer's own labelled file plus the task's rows."""
    prompts = _prompts_by_id(task.prompt_set)
    out = {}
    for axis, scorer in ((CONCEPT, task.concept_scorer), (CONTENT, task.content_scorer)):
        rows = [{"prompt": r.get("prompt", {}), "text": r["text"], "label": int(r["label"])}
                for r in _jsonl(labels_dir / f"{scorer}.jsonl")] if scorer else []
        for r in _jsonl(labels_dir / "tasks" / f"{task.name}.jsonl"):
            if r["axis"] == axis:
                if r["prompt_id"] not in prompts:
                    raise ValueError(f"{task.name}.jsonl: unknown prompt id {r['prompt_id']!r} in set {task.prompt_set}")
                rows.append({"prompt": prompts[r["prompt_id"]], "text": r["text"], "label": int(r["label"])})
        out[axis] = rows
    return out


def auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """P(score of a random positive > score of a random negative), ties counting half; None without both classes."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        return None
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def _interval(values: list[float], point: float, n: int) -> dict:
    lo, hi = percentile_interval(values) if values else (point, point)
    return {"value": point, "lo": float(lo), "hi": float(hi), "n": n}


def auc_interval(scores: Sequence[float], labels: Sequence[int], n_boot: int = 1000, seed: int = 0) -> dict | None:
    """{"value", "lo", "hi", "n"}: AUC and its bootstrap interval (resamples lacking a class are skipped)."""
    point = auc(scores, labels)
    if point is None:
        return None
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    boots = [v for idx in resample(len(s), n_boot, seed) if (v := auc(s[idx], y[idx])) is not None]
    return _interval(boots, point, len(s))


def agreement_interval(chosen: Sequence[float], rejected: Sequence[float], n_boot: int = 1000, seed: int = 0) -> dict | None:
    """Share of pairs where the majority's chosen text outscores the rejected one (ties half), with an interval."""
    if not chosen:
        return None
    hits = np.asarray([1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected)])
    boots = list(bootstrap_means(hits, n_boot, seed))
    return _interval(boots, float(hits.mean()), int(hits.size))


def length_score(text: str) -> float:
    """The length-only baseline: the number of words (a scorer that just prefers longer answers)."""
    return float(len(text.split()))


def scorer_fns(task: Task, axis: str, judge=None) -> dict[str, Callable[[list[dict], list[str]], list[float]]]:
    """{column name: fn(prompts, texts) -> scores} for an axis: the heuristic, length, and the judge if given."""
    name = task.concept_scorer if axis == CONCEPT else task.content_scorer
    fns = {}
    if name:
        if axis == CONCEPT:
            fns["heuristic"] = lambda prompts, texts: [scorers.concept_score(name, t) for t in texts]
        else:
            fns["heuristic"] = lambda prompts, texts: [scorers.content_score(name, t, p) for p, t in zip(prompts, texts)]
    fns["length"] = lambda prompts, texts: [length_score(t) for t in texts]
    if judge is not None:
        from judging.judge import score_axis

        fns["judge"] = lambda prompts, texts: score_axis(judge, axis, task, prompts, texts)
    return fns


def calibrate_task(task: Task, judge=None, votes: list[dict] | None = None, labels_dir: Path = LABELS_DIR,
                   judge_axes: Sequence[str] = AXES) -> dict:
    """{"labels": {axis: {"n", "positive", "scores": {column: interval}}}, "votes": {...} | None, "judge": spec | None}.

    The judge (a model forward pass per text) runs only on `judge_axes`; the cheap scorers on both.
    `votes` are majority preference pairs (feedback.preferences.preference_pairs rows with a
    "prompt_row"); each axis's scorers are checked for agreement with the majority's choice.
    """
    rows = label_rows(task, labels_dir)
    out = {"judge": getattr(judge, "name", None), "labels": {}, "votes": None}
    for axis in AXES:
        if not rows[axis]:
            continue
        prompts, texts, labels = [r["prompt"] for r in rows[axis]], [r["text"] for r in rows[axis]], [r["label"] for r in rows[axis]]
        out["labels"][axis] = {
            "n": len(labels), "positive": int(sum(labels)),
            "scores": {col: auc_interval(fn(prompts, texts), labels)
                       for col, fn in scorer_fns(task, axis, judge if axis in judge_axes else None).items()},
        }
    if votes:
        prompts = [v["prompt_row"] for v in votes]
        out["votes"] = {"n": len(votes), "scores": {}}
        for axis in AXES:
            for col, fn in scorer_fns(task, axis, judge if axis in judge_axes else None).items():
                chosen, rejected = fn(prompts, [v["chosen"] for v in votes]), fn(prompts, [v["rejected"] for v in votes])
                out["votes"]["scores"][f"{axis}/{col}"] = agreement_interval(chosen, rejected)
    return out


def keep_judge(new: dict, old: dict | None) -> dict:
    """`new` with the judge figures of `old` filled in for axes `new` did not judge.

    Applies when both runs used the same judge, or `new` used none (a heuristics-only rerun keeps
    the stored judge figures), and only where the axis's labelled set has the same size.
    """
    if not old or not old.get("judge") or new.get("judge") not in (None, old["judge"]):
        return new
    new["judge"] = old["judge"]
    for axis, entry in new["labels"].items():
        previous = old.get("labels", {}).get(axis, {}).get("scores", {}).get("judge")
        if "judge" not in entry["scores"] and previous is not None and old["labels"][axis]["n"] == entry["n"]:
            entry["scores"]["judge"] = previous
    return new


def _cell(stat: dict | None) -> str:
    return "—" if stat is None else f"{stat['value']:.2f} [{stat['lo']:.2f}, {stat['hi']:.2f}]"


def markdown_table(results: dict[str, dict]) -> str:
    """The calibration table: one row per task and axis (AUC on hand labels), then agreement with votes."""
    judges = sorted({r["judge"] for r in results.values() if r.get("judge")})
    head = f"judge ({', '.join(f'`{j}`' for j in judges)})" if judges else "judge"
    lines = [
        f"| task | axis | labelled (1 / all) | heuristic AUC | {head} AUC | length-only AUC |",
        "|---|---|---|---|---|---|",
    ]
    for task in sorted(results):
        for axis, entry in results[task]["labels"].items():
            s = entry["scores"]
            lines.append(f"| {task} | {axis} | {entry['positive']} / {entry['n']} | {_cell(s.get('heuristic'))} | "
                         f"{_cell(s.get('judge'))} | {_cell(s.get('length'))} |")
    voted = {t: r["votes"] for t, r in results.items() if r.get("votes")}
    if voted:
        lines += ["", "| task | scorer | agreement with the annotators' majority (pairs) |", "|---|---|---|"]
        for task, v in sorted(voted.items()):
            lines += [f"| {task} | {col} | {_cell(stat)} ({v['n']}) |" for col, stat in v["scores"].items()]
    else:
        lines += ["", "No task has annotators' votes in this data directory yet, so no scorer is checked against a majority."]
    lines += ["", "AUC: chance that a text labelled 1 outscores one labelled 0 (0.5 = chance); 95% bootstrap intervals. "
              "Labelled sets: tests/scorer_labels (looping, keyword-stuffed and off-topic answers are labelled 0)."]
    return "\n".join(lines)


def load_results(results_dir: Path = RESULTS_DIR) -> dict[str, dict]:
    """The stored per-task calibration results ({} if none)."""
    path = results_dir / "calibration.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def save_results(results: dict[str, dict], results_dir: Path = RESULTS_DIR) -> Path:
    """Write calibration.json and calibration.md; returns the markdown path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "calibration.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    md = results_dir / "calibration.md"
    md.write_text(markdown_table(results) + "\n")
    return md


def readme_block(readme_text: str) -> str | None:
    """What a page (docs/scorers.md) holds between the calibration markers (stripped), or None without markers."""
    return docblocks.between(readme_text, CALIBRATION_START, CALIBRATION_END)


def replace_readme_block(readme_text: str, block: str) -> str:
    """A page's text with the calibration block replaced (appended with markers if missing)."""
    return docblocks.replace(readme_text, block, CALIBRATION_START, CALIBRATION_END)


# --- real model answers labelled blind (data/labels): voice (2) vs formula (1) vs none (0) -------

REAL_LABELS_DIR = ROOT / "data" / "labels"
# dev: even ids (tune here), test: odd ids (measure once), all: both; heldout: <task>-heldout.jsonl, drawn later from
# texts not in the first file (newer runs among them) and labelled the same way, for checking after the tuning;
# wide: <task>-wide.jsonl, a third set drawn from the wide run's eval answers (pirate only so far)
SPLITS = ("dev", "test", "all", "heldout", "wide")
SPLIT_FILES = {"heldout": "-heldout", "wide": "-wide"}


def has_split(task_name: str, split: str, labels_dir: Path = REAL_LABELS_DIR) -> bool:
    """Whether `task_name` has labelled answers for `split` (the later sets exist for some tasks only)."""
    return (labels_dir / f"{task_name}{SPLIT_FILES.get(split, '')}.jsonl").is_file()


def agreed_concept_rows(task_name: str, split: str = "all", labels_dir: Path = REAL_LABELS_DIR) -> list[dict]:
    """The rows of data/labels/<task>.jsonl (split "heldout": <task>-heldout.jsonl, "wide": <task>-wide.jsonl) whose
    two labellers agree on concept, each with "level" (0, 1, 2).

    split "dev" keeps even id numbers (pirate-000, -002, ...), "test" odd ones, "all" both.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    out = []
    for row in _jsonl(labels_dir / f"{task_name}{SPLIT_FILES.get(split, '')}.jsonl"):
        a, b = row[CONCEPT]
        odd = int(row["id"].rsplit("-", 1)[1]) % 2
        if a == b and (split in ("all", *SPLIT_FILES) or odd == (split == "test")):
            out.append({**row, "level": int(a)})
    return out


def voice_aucs(scores: Sequence[float], levels: Sequence[int]) -> dict:
    """{"voice_vs_formula": AUC of level 2 against level 1, "voice_vs_rest": AUC of 2 against 0 and 1} (None without both)."""
    pairs = list(zip(scores, levels))
    return {
        "voice_vs_formula": auc([s for s, v in pairs if v > 0], [int(v == 2) for s, v in pairs if v > 0]),
        "voice_vs_rest": auc([s for s, _ in pairs], [int(v == 2) for _, v in pairs]),
    }


def passing_by_level(scores: Sequence[float], levels: Sequence[int], threshold: float) -> dict[int, tuple[int, int]]:
    """{level: (texts scoring >= threshold, texts)} for levels 0, 1, 2: the confusion at the scorer's threshold."""
    return {lv: (sum(1 for s, v in zip(scores, levels) if v == lv and s >= threshold), sum(1 for v in levels if v == lv))
            for lv in (0, 1, 2)}
