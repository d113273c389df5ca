"""`python app.py scorers calibrate [--judge SPEC] [--task T] [--update-readme]`: how far each scorer can be trusted.

Measures every shipped task's concept and content scorers (heuristic, length-only baseline and
optionally an LLM judge) against the hand labels in tests/scorer_labels and, where the data
directory holds votes for the task, against the annotators' majority; see judging.calibration.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from storage.errors import UserError
from storage.terms import AXES
from judging import calibration

README = calibration.ROOT / "docs" / "scorers.md"  # the page --update-readme rewrites
JUDGE_PRECISIONS = ("auto", "native", "int8")  # judging.judge.PRECISIONS, without importing torch for --help


def cli(parser: argparse.ArgumentParser) -> None:
    """Add the `calibrate` subcommand."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    cal = sub.add_parser("calibrate", help="AUC of each scorer on the hand labels (and agreement with votes), as a table")
    cal.add_argument("--judge", help="also measure an LLM judge: a model spec (embedded name, hub id or local directory)")
    cal.add_argument("--task", action="append", help="a shipped task (repeatable; default: every shipped task)")
    cal.add_argument("--axis", action="append", choices=AXES,
                     help="axes the judge scores (repeatable; default both; heuristics always score both)")
    cal.add_argument("--batch-size", type=int, default=8, help="judge prompts per forward pass")
    cal.add_argument("--judge-precision", choices=JUDGE_PRECISIONS, default="auto",
                     help="the judge's weights: native (the loader's dtype), int8 (CPU), auto (int8 on a CPU without native bf16)")
    cal.add_argument("--results", default=str(calibration.RESULTS_DIR), help="folder for calibration.json and calibration.md")
    cal.add_argument("--update-readme", action="store_true", help="rewrite docs/scorers.md's calibration block from the stored results")
    cal.set_defaults(func=run_calibrate)


def _majority_pairs(settings, task_name: str) -> list[dict]:
    """The task's majority preference pairs in the data directory, each with its prompt row ([] without votes)."""
    if not Path(settings.db_path).is_file():
        return []
    from feedback.preferences import preference_pairs
    from storage import tasks as task_store
    from storage.db import Store

    store = Store(settings.db_path)
    try:
        pairs = preference_pairs(store, task_name)
    except UserError:  # the task is not loaded in this data directory
        return []
    return [{**p, "prompt_row": task_store.get_prompt(store, p["prompt_id"])} for p in pairs]


def run_calibrate(args) -> int:
    """Calibrate the chosen tasks, merge into the stored results, print the table; optionally update docs/scorers.md."""
    from feedback.tasks import shipped_tasks

    tasks = {t.name: t for t in shipped_tasks()}
    unknown = [t for t in args.task or [] if t not in tasks]
    if unknown:
        raise UserError(f"unknown task {', '.join(unknown)}; shipped tasks: {', '.join(tasks)}")
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    judge = None
    if args.judge:
        from judging.judge import load_judge
        from models.specs import resolve

        resolve(args.judge)  # UserError naming the accepted forms
        judge = load_judge(args.judge, args.settings, batch_size=args.batch_size, precision=args.judge_precision)
    results_dir = Path(args.results)
    results = calibration.load_results(results_dir)
    for name in args.task or sorted(tasks):
        start = time.perf_counter()
        fresh = calibration.calibrate_task(tasks[name], judge=judge, votes=_majority_pairs(args.settings, name),
                                           judge_axes=args.axis or AXES)
        results[name] = calibration.keep_judge(fresh, results.get(name))  # a one-axis judge run keeps the other axis
        print(f"{name}: {time.perf_counter() - start:.1f} s", flush=True)
    md = calibration.save_results(results, results_dir)
    print(md.read_text())
    if args.update_readme:
        old = README.read_text()
        new = calibration.replace_readme_block(old, calibration.markdown_table(results))
        if new != old:
            README.write_text(new)
        print("docs/scorers.md calibration block " + ("updated" if new != old else "already current"))
    return 0
