"""Benchmark: how well the shipped concept scorers tell a voice from a formula on real model answers.

Reads data/labels/<task>.jsonl (260 real pirate and analogy answers labelled blind by two
labellers: 2 = the concept runs through the answer, 1 = a token or formula only, 0 = none) and
keeps the rows whose labellers agree on concept. For each task and split (dev = even ids, where
the scorers were tuned; test = odd ids, measured once; all) it prints n, the AUC of voice vs
formula (2 vs 1) and of voice vs the rest (2 vs 0 and 1) for the shipped scorer
(scoring.scorers.concept_score, so a loop scores 0), and how many texts of each level reach the
scorer's threshold. Splits heldout and wide read the later sets (<task>-heldout.jsonl, <task>-wide.jsonl) where a
task has them.

    .venv/bin/python bench/concept_scorer_auc.py
    .venv/bin/python bench/concept_scorer_auc.py --task pirate
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import scorers  # noqa: E402
from judging import calibration  # noqa: E402

TASKS = ("pirate", "analogy")


def _fmt(value: float | None) -> str:
    return "  —  " if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", choices=TASKS, help="a task with real labels (default: both)")
    args = parser.parse_args(argv)
    print(f"{'task':<8} {'split':<7} {'n':>4} {'2/1/0':>10} {'AUC 2v1':>8} {'AUC 2v01':>9}   at threshold: passing / texts per level")
    for task in args.task or TASKS:
        threshold = scorers.threshold(task)
        for split in (s for s in calibration.SPLITS if calibration.has_split(task, s)):
            rows = calibration.agreed_concept_rows(task, split)
            scores = [scorers.concept_score(task, r["answer"]) for r in rows]
            levels = [r["level"] for r in rows]
            a = calibration.voice_aucs(scores, levels)
            passing = calibration.passing_by_level(scores, levels, threshold)
            counts = "/".join(str(passing[lv][1]) for lv in (2, 1, 0))
            confusion = ", ".join(f"{lv}: {passing[lv][0]}/{passing[lv][1]}" for lv in (2, 1, 0))
            print(f"{task:<8} {split:<7} {len(rows):>4} {counts:>10} {_fmt(a['voice_vs_formula']):>8} "
                  f"{_fmt(a['voice_vs_rest']):>9}   >= {threshold}: {confusion}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
