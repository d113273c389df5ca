"""Benchmark: the product loop's generate phase with int8 weights against today's full-precision weights (issue 39).

    .venv/bin/python bench/loop_generate.py [--task pirate] [--n 16] [--update-readme]

Runs the loop's generate command (study.loop_run.phases: weak, strong-base and icl-refine on the first N train
prompts, every other flag at its default) twice, each in a fresh data directory sharing only the model cache:
  (a) full: `--full-precision`, the weights as loaded (fp32 on a CPU without native bf16: today's code),
  (b) int8: the default, linear layers in int8 where models.loading.int8_pays (a CPU without native bf16).
It prints each run's wall time and CPU seconds, ratio = a/b, and how close the texts stay: identical texts and the
median character similarity (difflib) per strategy, each strategy's concept, formula share, content and repetition
in both runs (greedy decoding turns small numeric differences into other words; what matters is whether they read
as well), and the first differing pairs to read. On a CPU with native bf16
both runs are the same (int8 does not pay there) and the ratio is about 1.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.loading import cpu_in_words, int8_pays  # noqa: E402
from settings import Settings  # noqa: E402
from docblocks import replace as replace_block  # noqa: E402
from study import report  # noqa: E402
from study.loop_run import phases  # noqa: E402


def run_generate(task: str, n: int, home: Path, settings: Settings, extra: list[str]) -> tuple[float, float]:
    """Run the loop's generate command in `home`; (wall seconds, CPU seconds of the child)."""
    argv = dict(phases(task, settings.weak_model, settings.strong_model))["generate"]
    argv = [str(n) if prev == "--n" else a for prev, a in zip([""] + argv, argv)] + extra
    env = {**os.environ, "REFINERY_HOME": str(home), "REFINERY_MODEL_CACHE": str(settings.models_dir)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), *argv], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:])
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def texts(home: Path) -> dict[tuple[str, str], str]:
    """(strategy, prompt text) -> answer, from a run's database."""
    from storage.db import Store, rows

    store = Store(home / "refinery.db")
    found = rows(store.read(), "SELECT o.strategy, p.text AS prompt, o.text FROM outputs o JOIN prompts p ON p.id = o.prompt_id")
    return {(r["strategy"], r["prompt"]): r["text"] for r in found}


def quality_table(task_name: str, home: Path, runs: dict[str, dict]) -> list[dict]:
    """Concept, formula share, content and repetition of every strategy's answers in each run, as the experiment
    scores them (study.experiment_report.score_rows): whether int8 answers read as well, not only whether they match."""
    from storage import tasks as task_store
    from storage.db import Store
    from study.experiment_report import score_rows

    store = Store(home / "refinery.db")
    task = task_store.get_task(store, task_name)
    by_text = {p["text"]: p for p in task_store.list_prompts(store, task["prompt_set"], "train")}
    keys = sorted(k for k in runs["full"]["texts"] if all(k in r["texts"] for r in runs.values()))
    rows = []
    for strategy in sorted({s for s, _ in keys}):
        prompts = [by_text[p] for s, p in keys if s == strategy]
        evals = {f"{strategy} ({name})": [run["texts"][(strategy, p["text"])] for p in prompts] for name, run in runs.items()}
        rows += score_rows(task, prompts, evals, seed=0)[0]
    return rows


README_START, README_END = "<!-- loop-generate-bench:start -->", "<!-- loop-generate-bench:end -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="pirate")
    parser.add_argument("--n", type=int, default=16, help="train prompts (the loop itself generates 40)")
    parser.add_argument("--update-readme", action="store_true", help="rewrite bench/README.md's paragraph with these figures")
    args = parser.parse_args()
    settings = Settings.load()
    machine = f"{cpu_in_words()}, load average {os.getloadavg()[0]:.1f} at the start"
    print(f"CPU: {machine}; int8 pays here: {int8_pays('cpu')}; task {args.task}, {args.n} prompts x 3 strategies")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("full", ["--full-precision"]), ("int8", [])):
            home = Path(tmp) / name
            wall, cpu_s = run_generate(args.task, args.n, home, settings, extra)
            results[name] = {"wall": wall, "cpu": cpu_s, "texts": texts(home), "home": home}
            print(f"{name}: {wall / 60:.1f} min wall, {cpu_s / 60:.1f} CPU min", flush=True)
        full, fast = results["full"]["texts"], results["int8"]["texts"]
        ratio, cpu_ratio = results["full"]["wall"] / results["int8"]["wall"], results["full"]["cpu"] / results["int8"]["cpu"]
        print(f"ratio (full / int8 wall): {ratio:.2f}; per CPU second: {cpu_ratio:.2f}")
        closeness, differing = [], []
        for strategy in sorted({s for s, _ in full}):
            keys = [k for k in full if k[0] == strategy and k in fast]
            same = sum(full[k] == fast[k] for k in keys)
            similarity = statistics.median(difflib.SequenceMatcher(None, full[k], fast[k]).ratio() for k in keys)
            closeness.append(f"{strategy} {same}/{len(keys)} identical (median similarity {similarity:.2f})")
            differing += [k for k in keys if full[k] != fast[k]]
        print("texts: " + "; ".join(closeness))
        table = report.markdown_table(quality_table(args.task, results["full"]["home"], results))
        print(table)
        for key in differing[:4]:
            print(json.dumps({"strategy": key[0], "prompt": key[1], "full": full[key], "int8": fast[key]}, ensure_ascii=False))
    if args.update_readme:
        readme = ROOT / "bench" / "README.md"
        paragraph = (
            f"The product loop's generate phase, measured by `python bench/loop_generate.py --task {args.task} --n {args.n}` "
            f"({machine}; weak, strong-base and icl-refine on {args.n} train prompts, every other flag at its default): "
            f"full precision (`--full-precision`, today's code before int8) {results['full']['wall'] / 60:.1f} min, int8 "
            f"(the default) {results['int8']['wall'] / 60:.1f} min: **{ratio:.2f}x** faster ({cpu_ratio:.2f}x per CPU second). "
            f"Texts: {'; '.join(closeness)}. Greedy decoding turns small numeric differences into other words; how the "
            f"answers of both runs score:\n\n{table}")
        readme.write_text(replace_block(readme.read_text(), paragraph, README_START, README_END))
        print("bench/README.md: loop-generate paragraph updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
