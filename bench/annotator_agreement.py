"""Benchmark: how often the simulated weak annotator prefers the better of two real answers to the same prompt.

Reads the pairwise judge's readings of the label pairs from results/calibration/judge-pairs.json
(bench/judge_pairs.py) and prints, per task and pair kind, the share of pairs where the contrast
annotator (`--annotator contrast`, the default: concept from feedback.contrast_view fitted on a committed
run's weak and strong-base train answers, `--fit-run`; pairs holding a text it was fitted on are left out),
the judge annotator (`--annotator judge`: concept from the judge) and the legacy scorer annotator prefer the
higher-labelled answer (content: a key-facts verdict that is a coin at content noise), for one annotator and
for the majority of three, at the experiment's default noise and content noise. Writes
results/calibration/annotator-agreement.md.

    .venv/bin/python bench/annotator_agreement.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback.simulated_annotator import DEFAULT_CONTENT_NOISE, DEFAULT_NOISE  # noqa: E402
from judging import annotator_check as A  # noqa: E402
from judging import judge_pairs as P  # noqa: E402
from storage.terms import AXES  # noqa: E402


def contrast_view(task: str, fit_run: str):
    """(the contrast view fitted on results/<fit_run>/stages' weak-train and strong-base-train texts, those texts)."""
    import json

    from feedback.contrast_view import fit

    stages = P.ROOT / "results" / fit_run.format(task=task) / "stages"
    weak, base = (json.loads((stages / f"{n}.json").read_text())["texts"] for n in ("weak-train", "strong-base-train"))
    return fit(weak, base), {t.strip() for t in weak + base}


def view_table(tasks: list[str], fit_run: str) -> str:
    """The contrast view alone (no noise, no content) on every agreed concept label pair of each task that holds no
    text it was fitted on: accuracy and AUC per pair kind (judging.judge_pairs.measure; it reads both orders alike)."""
    from feedback.tasks import load_task_file

    results = {}
    for name in tasks:
        view, fitted = contrast_view(name, fit_run)
        read = lambda prompts, a, b, axis, view=view: [  # noqa: E731
            {"p_first": (p := view.p_better(x, y)), "p_swapped": p} for x, y in zip(a, b)]
        results[name] = {"concept": P.measure(load_task_file(P.ROOT / "data" / "tasks" / f"{name}.toml"), "concept", read,
                                              max_pairs=1000, exclude=frozenset(fitted))}
    return P.table(results)


def _f(x: float) -> str:
    return "–" if x != x else f"{x:.2f}"


def table(data: dict, noise: float, content_noise: float, draws: int, fit_run: str) -> str:
    """The markdown table: task, pair kind, then contrast / judge / scorer annotator agreement for 1 and 3 annotators."""
    from feedback.tasks import load_task_file

    lines = ["| task | pairs | contrast annotator: n, 1, majority of 3 | judge annotator: n, 1, majority of 3 | "
             "scorer annotator (legacy): n, 1, majority of 3 |", "|---|---|---|---|---|"]
    for name, readings in data.get("readings", {}).items():
        task = load_task_file(P.ROOT / "data" / "tasks" / f"{name}.toml")
        contrast = contrast_view(name, fit_run)
        one, three = {}, {}
        for axis in AXES:  # concept: the pairs the judge read; content needs no judge
            if axis not in readings and axis == "concept":
                continue
            got, m = readings.get(axis, []), data["results"][name].get(axis, {})
            limit, seed = m.get("max_pairs", data.get("max_pairs", 120)), m.get("seed", data.get("seed", 0))
            one.update(A.agreement(task, {axis: got}, noise, content_noise, 1, draws, limit, seed, axes=(axis,), contrast=contrast))
            three.update(A.agreement(task, {axis: got}, noise, content_noise, 3, draws, limit, seed, axes=(axis,), contrast=contrast))
        for kind, r in one.items():
            t = three[kind]
            lines.append(f"| {name} | {kind}{' (content view alone)' if kind == 'correct>wrong' else ''} | "
                         f"{r['n_contrast']}, {_f(r['contrast'])}, {_f(t['contrast'])} | {r['n']}, {_f(r['judge'])}, {_f(t['judge'])} | "
                         f"{r['n']}, {_f(r['scorer'])}, {_f(t['scorer'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, default=DEFAULT_NOISE)
    parser.add_argument("--content-noise", type=float, default=DEFAULT_CONTENT_NOISE)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--fit-run", default="{task}-qwen2.5-coder-1.5b",
                        help="results folder whose weak-train and strong-base-train texts the contrast view is fitted on")
    args = parser.parse_args(argv)
    import json

    data = json.loads(P.CALIBRATION.read_text()) if P.CALIBRATION.is_file() else {}
    text = table(data, args.noise, args.content_noise, args.draws, args.fit_run)
    alone = view_table(list(data.get("readings", {})), args.fit_run)
    where = args.fit_run.replace("{task}", "<task>")
    cost = data.get("seconds_per_pair")
    md = (f"# Simulated annotator against the real-answer labels\n\nGenerated by `bench/annotator_agreement.py` from the judge "
          f"readings in judge-pairs.json (judge {data.get('judge')}); verdict noise {args.noise}, content noise "
          f"{args.content_noise}, mean over {args.draws} seeds; the contrast annotator's view fitted on the weak-train and "
          f"strong-base-train texts of results/{where} (pairs holding one of those texts left out, so its n is smaller). "
          "Share of same-prompt label pairs where the annotator prefers the higher-labelled answer.\n\n" + text + "\n\n"
          "The contrast view alone, before noise and content (its settings fixed before this measurement; every agreed "
          "same-prompt pair holding no text it was fitted on; order flips are 0 by construction):\n\n" + alone + "\n\n"
          + (f"Cost of the judge annotator: {cost:.2f} s per pair (both orders) on this CPU, so a run's judge stage "
             f"(64 train prompts x 5 matchups = 320 pairs) takes about {320 * cost / 60:.0f} min.\n" if cost else ""))
    (P.ROOT / "results" / "calibration" / "annotator-agreement.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
