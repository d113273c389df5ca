"""The product loop, measured: README's session commands at their defaults in a fresh data directory.

    .venv/bin/python -m study.loop_run --task pirate

Runs, each as `python app.py ...` in a fresh REFINERY_HOME (the embedded model cache is shared, nothing else):
generate (README's strategies and prompt count), pairs (the default recipe's plan), pilot (simulated weak annotators
voting through the Annotate routes), train (the default recipe, through the job queue), then evaluate on the eval
split: the trained version, the strong base and the weak model. Each phase's command, wall time and output tail go
to results/loop-<task>-<strong>/record.json as it ends, so a killed run resumes at the first unfinished phase.
answers.json keeps every row's eval answers by prompt, votes.json every vote (annotator, pair sides, choice);
loop.md then scores the stored eval answers as the experiment does (concept, formula share, content, repetition,
concept transferred and content kept; study.experiment_report.score_rows), says which CPU ran it (and whether it has
native bf16), the votes, and quotes three answers of every row chosen by a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from models.strategies import ICL_REFINE, STRONG_BASE, WEAK
from settings import Settings
from storage.terms import MODEL_PREFIX

ROOT = Path(__file__).resolve().parent.parent


def cpu() -> dict:
    """The CPU model, core count and whether it has native bf16 (AVX512-BF16 or AMX), from /proc/cpuinfo."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    name = re.search(r"model name\s*:\s*(.+)", info)
    flags = re.search(r"flags\s*:\s*(.+)", info)
    flags = set(flags.group(1).split()) if flags else set()
    return {"model": name.group(1).strip() if name else platform.processor(), "cores": os.cpu_count(),
            "native_bf16": bool({"avx512_bf16", "amx_bf16"} & flags)}


def phases(task: str, weak: str, strong: str, more: dict[str, list[str]] | None = None) -> list[tuple[str, list[str]]]:
    """(name, app.py arguments) of every phase, in order; `{version}` is filled with the trained version's name.
    `more`: extra arguments by phase (the tiny end-to-end test's shorter answers); the measured run has none."""
    listed = [
        ("generate", ["generate", "--task", task, "--strategies", ",".join((WEAK, STRONG_BASE, ICL_REFINE)), "--n", "40", "--wait"]),
        ("pairs", ["pairs", "--task", task, "--n", "40"]),
        ("pilot", ["pilot", "--task", task]),
        ("train", ["train", "--task", task, "--wait"]),
        ("evaluate-version", ["evaluate", "--task", task, "--model", "{version}", "--wait"]),
        ("evaluate-strong-base", ["evaluate", "--task", task, "--model", strong, "--wait"]),
        ("evaluate-weak", ["evaluate", "--task", task, "--model", weak, "--strategy", WEAK, "--wait"]),
    ]
    return [(name, argv + (more or {}).get(name, [])) for name, argv in listed]


def run_phases(task: str, home: Path, out: Path, settings: Settings, env: dict | None = None,
               more: dict[str, list[str]] | None = None) -> dict:
    """Run every phase not yet in out/record.json (`env`: more REFINERY_* variables for every phase; `more`: see
    phases); returns the record."""
    record_path = out / "record.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {"task": task, "home": str(home), "cpu": cpu(), "phases": {}}
    env = {**os.environ, "REFINERY_HOME": str(home), "REFINERY_MODEL_CACHE": str(settings.models_dir), **(env or {})}
    for name, argv in phases(task, settings.weak_model, settings.strong_model, more):
        if record["phases"].get(name, {}).get("done"):
            continue
        argv = [a.replace("{version}", record.get("version", "")) for a in argv]
        print(f"== {name}: python app.py {' '.join(argv)}", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "app.py"), *argv], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seconds = round(time.perf_counter() - start, 1)
        print(done.stdout[-2000:], flush=True)
        if done.returncode != 0:
            raise SystemExit(f"{name} failed ({done.returncode}); see the output above")
        record["phases"][name] = {"command": "python app.py " + " ".join(argv), "seconds": seconds, "done": True,
                                  "output_tail": done.stdout[-1500:]}
        if name == "train":
            record["version"] = re.search(r'"model": "([^"]+)"', done.stdout).group(1)
        out.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=1))
    return record


def write_report(record: dict, home: Path, out: Path, settings: Settings) -> str:
    """loop.md: the rows' scores on the eval split, the votes, the phase times and three answers of every row; beside
    it answers.json (every row's eval answers) and votes.json (every vote), so the run can be read and relabelled
    after its data directory is gone."""
    from storage import evaluations as eval_store
    from storage import models as model_store
    from storage import outputs, votes
    from storage import tasks as task_store
    from storage.db import Store
    from study import report
    from study.experiment_report import N_SAMPLES, sample_indices, samples, score_rows

    store = Store(home / "refinery.db")
    task = task_store.get_task(store, record["task"])
    version = record["version"]
    adapter = MODEL_PREFIX + version
    names = {adapter: f"loop adapter ({version})", STRONG_BASE: STRONG_BASE, WEAK: WEAK}
    latest = {}
    for e in eval_store.list_evaluations(store, task["id"]):  # oldest first: the newest of each row wins
        if e["split"] == "eval" and e["strategy"] in names:
            latest[names[e["strategy"]]] = e
    prompts = {p["id"]: p for p in task_store.list_prompts(store, task["prompt_set"])}  # the votes' prompts too
    evals, order = {}, None
    for key in (WEAK, STRONG_BASE, names[adapter]):
        found = [outputs.get_output(store, i) for i in latest[key]["details"]["output_ids"]]
        order = order or [o["prompt_id"] for o in found]
        by_prompt = {o["prompt_id"]: o["text"] for o in found}
        evals[key] = [by_prompt[i] for i in order]
    eval_prompts = [prompts[i] for i in order]
    rows, _ = score_rows(task, eval_prompts, evals, seed=0)
    voted = votes.list_votes(store, task["id"])
    (out / "answers.json").write_text(json.dumps(
        {"prompts": [{"id": p["ext_id"], "prompt": p["text"]} for p in eval_prompts], "rows": evals}, indent=1))
    (out / "votes.json").write_text(json.dumps(
        [{"prompt": prompts[v["prompt_id"]]["ext_id"], **{k: v[k] for k in ("username", "simulated", "strategy_a", "strategy_b", "choice", "swapped")}}
         for v in voted], indent=1))
    recipe = model_store.get_model(store, version)["recipe"]
    c = record["cpu"]
    lines = [
        f"### The product loop on {record['task']}: {settings.weak_model} → {settings.strong_model}, every command at its defaults",
        "",
        f"Fresh data directory; recipe {recipe.get('name', '?')} (changed: {recipe.get('changed') or 'nothing'}); "
        f"{len(eval_prompts)} eval prompts; CPU {c['model']} ({c['cores']} cores, "
        f"{'native bf16' if c['native_bf16'] else 'no native bf16: fp32'}). Generated by `python -m study.loop_run`.",
        "",
        report.markdown_table(rows),
        "",
        "| phase | command | wall time |",
        "|---|---|---|",
        *[f"| {n} | `{p['command']}` | {p['seconds'] / 60:.1f} min |" for n, p in record["phases"].items()],
        "",
        f"Votes: {len(voted)} in the votes table (the pilot's simulated annotators).",
        "",
        f"#### {N_SAMPLES} eval prompts chosen with seed 0, every row's answer",
    ]
    for i in sample_indices(len(eval_prompts), 0):
        lines += samples(eval_prompts[i], {k: v[i] for k, v in evals.items()})
    text = "\n".join(lines) + "\n"
    (out / "loop.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="pirate")
    parser.add_argument("--home", help="fresh data directory (default: /tmp/refinery-loop-<task>)")
    parser.add_argument("--out", help="results folder (default: results/loop-<task>-<strong>)")
    args = parser.parse_args(argv)
    settings = Settings.load()
    from study.experiment_report import slug

    home = Path(args.home or f"/tmp/refinery-loop-{args.task}")
    out = Path(args.out or ROOT / "results" / f"loop-{args.task}-{slug(settings.strong_model)}")
    record = run_phases(args.task, home, out, settings)
    print(write_report(record, home, out, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
