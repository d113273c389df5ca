"""Benchmark: many annotators voting at once through the web app's HTTP API.

Starts `app.py serve --no-worker` on a temporary data directory and a free port, then
1. one annotator casts --baseline-votes votes (the baseline latency; alone, its pause between
   votes does not change its latency, so it pauses only --baseline-think seconds),
2. --annotators annotators cast --votes votes each, all at once,
3. with --during-training, a train job runs in a worker process while the same load is repeated.
Each simulated annotator signs in (Gradio's /login, a session cookie) and calls the Annotate tab's
JSON routes as the page does (ui/annotate_api.py; the client is study/annotate_client.py, the pilot's):
fetches a pair, "reads" for --think seconds on average (people reading two answers take 10-60 s per vote; 5 s is
a fast annotator; with no pause the run would measure the queue of a closed loop that no human
crowd produces, not latency), votes, and with --retry-rate re-sends the same vote as a
client would after a lost response. Prints votes stored / expected, duplicates, p50 and p99 vote
latency, and the ratio p99(N annotators) / p99(1 annotator).

    .venv/bin/python bench/votes.py                      # 50 x 20 votes
    .venv/bin/python bench/votes.py --during-training    # also under a running train job
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback import accounts, assignment  # noqa: E402
from settings import Settings  # noqa: E402
from storage import jobs, outputs, pairs, tasks  # noqa: E402
from storage.db import Store, one  # noqa: E402
from docblocks import replace as replace_block  # noqa: E402
from jobs.worker import stop_child  # noqa: E402
from study.annotate_client import AnnotatePage, free_port, start_app  # noqa: E402
from ui import serve  # noqa: E402

TASK = "bench"
PASSWORD = "bench-password"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def seed_database(store: Store, n_pairs: int, usernames: list[str]) -> None:
    """A bench task with n_pairs pairs (one per prompt, two strategies) and annotator accounts."""
    task_id = tasks.upsert_task(store, {
        "name": TASK, "title": "Benchmark", "concept": "Answer like a pirate.", "guidelines": "Pick the better answer.",
        "prompt_set": TASK, "votes_per_pair": 2,
    })
    tasks.insert_prompts(store, TASK, [
        {"ext_id": f"b{i}", "text": f"Benchmark question {i}: what is {i} plus {i}?", "split": "train"} for i in range(n_pairs)
    ])
    rows = []
    for i, prompt in enumerate(tasks.list_prompts(store, TASK)):
        a = outputs.add_output(store, task_id, prompt["id"], "bench-strong", "icl-refine", {}, 0, f"Arr, {i} plus {i} be {2 * i}, matey.")
        b = outputs.add_output(store, task_id, prompt["id"], "bench-weak", "weak", {}, 0, f"{i} plus {i} is {2 * i + 1}.")
        rows.append((prompt["id"], a, b))
    pairs.create_pairs(store, task_id, rows, votes_wanted=2)
    for name in usernames:
        accounts.create_user(store, name, "annotator", PASSWORD)


def annotate(url: str, name: str, n_votes: int, think: float, retry_rate: float, seed: int, start: threading.Barrier,
             latencies: list[float], fetches: list[float], acks: list[tuple], errors: list[str], retries: list[int],
             calls: list[int]) -> None:
    """One simulated annotator: sign in, then fetch, pause, vote (sometimes twice) n_votes times."""
    rng = random.Random(seed)
    try:
        client = AnnotatePage(url, name, PASSWORD)
    except Exception as err:  # noqa: BLE001 - reported in the summary
        errors.append(f"{name}: sign-in failed: {err}")
        start.wait()
        return
    start.wait()
    for _ in range(n_votes):
        try:
            t0 = time.perf_counter()
            shown = client.next(TASK)
            fetches.append(time.perf_counter() - t0)
            if shown["pair_id"] is None:
                errors.append(f"{name}: ran out of pairs")
                return
            time.sleep(rng.uniform(0, 2 * think))
            verdict = rng.choice(assignment.VERDICTS)
            t0 = time.perf_counter()
            ack = client.vote(TASK, verdict)
            latencies.append(time.perf_counter() - t0)
            acks.append((name, ack))
            if rng.random() < retry_rate:
                client.vote(TASK, verdict)
        except Exception as err:  # noqa: BLE001 - reported in the summary
            errors.append(f"{name}: {err}")
    retries.append(client.retries)
    calls.append(client.calls)
    client.close()


@contextlib.contextmanager
def quiet_client():
    """While the simulated annotators run, this process (all of them at once) neither collects garbage
    nor keeps a thread waiting 5 ms (CPython's default switch interval) for the GIL: a real annotator's
    browser does not stall because 499 others collect theirs. Measured: the bench's own collections
    (gen-2 up to 130 ms with 500 annotator threads) and GIL waits made its slowest latencies, not the server."""
    interval = sys.getswitchinterval()
    gc.collect()
    gc.freeze()
    gc.disable()
    sys.setswitchinterval(serve.GIL_SWITCH_INTERVAL_S)  # as the server sets it
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.enable()
        gc.unfreeze()


def cpu_seconds(server: subprocess.Popen) -> float:
    """CPU time (user + system) the server process has used so far."""
    times = psutil.Process(server.pid).cpu_times()
    return times.user + times.system


def run_load(url: str, server: subprocess.Popen, names: list[str], n_votes: int, think: float, retry_rate: float, seed: int) -> dict:
    """All `names` sign in, then annotate at once; returns latencies, acknowledgements, errors and the
    server's CPU time per API call from the moment all are signed in (sign-in hashing excluded)."""
    latencies: list[float] = []
    fetches: list[float] = []
    acks: list[tuple] = []
    errors: list[str] = []
    retries: list[int] = []
    calls: list[int] = []
    cpu_at_start: list[float] = []
    start = threading.Barrier(len(names), action=lambda: cpu_at_start.extend((cpu_seconds(server), time.perf_counter())))
    threads = [
        threading.Thread(target=annotate, args=(url, n, n_votes, think, retry_rate, seed + i, start, latencies, fetches, acks, errors, retries,
                                           calls))
        for i, n in enumerate(names)
    ]
    t0 = time.perf_counter()
    with quiet_client():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    cpu, voting_s = cpu_seconds(server) - cpu_at_start[0], time.perf_counter() - cpu_at_start[1]
    return {"latencies": latencies, "fetches": fetches, "acks": acks, "errors": errors, "retries": sum(retries), "wall": time.perf_counter() - t0,
            "cpu_ms_per_call": 1000 * cpu / max(1, sum(calls)), "cpu_share": cpu / voting_s}


def stored_votes(store: Store, names: list[str]) -> tuple[int, int, int]:
    """(votes stored by these annotators, duplicate (pair, user) votes, pairs with more votes than wanted)."""
    marks = ",".join("?" for _ in names)
    db = store.read()
    n = one(db, f"SELECT COUNT(*) AS n FROM votes v JOIN users u ON u.id = v.user_id WHERE u.username IN ({marks})", tuple(names))["n"]
    dups = one(db, "SELECT COUNT(*) - COUNT(DISTINCT pair_id || '-' || user_id) AS n FROM votes")["n"]
    over = one(db, "SELECT COUNT(*) AS n FROM pairs p WHERE (SELECT COUNT(*) FROM votes v WHERE v.pair_id = p.id) > p.votes_wanted")["n"]
    return n, dups, over


def report(label: str, result: dict, store: Store, names: list[str], expected: int) -> dict:
    """Print one run's figures; returns them (latencies in milliseconds)."""
    lat = result["latencies"]
    n, dups, over = stored_votes(store, names)
    p50, p99 = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
    fetch_p50, fetch_p99 = (percentile(result["fetches"], q) * 1000 for q in (50, 99))
    print(f"{label}: votes stored {n}/{expected}, duplicates {dups}, overfilled pairs {over}, "
          f"acknowledged {len(result['acks'])}, retried after a dropped connection {result['retries']}, p50 {p50:.0f} ms, p99 {p99:.0f} ms, next pair p50 {fetch_p50:.0f} ms, p99 {fetch_p99:.0f} ms, wall {result['wall']:.1f} s, "
          f"server CPU {result['cpu_ms_per_call']:.1f} ms per call ({result['cpu_share']:.0%} of a core while voting)"
          + (f", errors {len(result['errors'])} (first: {result['errors'][0]})" if result["errors"] else ""), flush=True)
    return {"stored": n, "expected": expected, "duplicates": dups, "p50": p50, "p99": p99,
            "fetch_p50": fetch_p50, "fetch_p99": fetch_p99, **result}


README_START, README_END = "<!-- votes-bench:start -->", "<!-- votes-bench:end -->"


def machine() -> str:
    """The CPU this run had, in words (models.loading.cpu_in_words), with the load before the run."""
    from models.loading import cpu_in_words

    return f"{cpu_in_words()}, load average {os.getloadavg()[0]:.2f} at the start"


def readme_paragraph(args, alone: dict, crowd: dict, where: str) -> str:
    """bench/README.md's paragraph of this run's figures (written by --update-readme)."""
    return (
        f"Votes under load, measured by `python bench/votes.py --annotators {args.annotators} --votes {args.votes}` "
        f"({where}; think time {args.think:g} s, {args.retry_rate:.0%} of votes sent twice): "
        f"{crowd['stored']}/{crowd['expected']} votes stored, {crowd['duplicates']} duplicates; vote latency p50 "
        f"{crowd['p50']:.0f} ms and p99 {crowd['p99']:.0f} ms, against p99 {alone['p99']:.0f} ms for one annotator alone "
        f"(ratio {crowd['p99'] / alone['p99']:.1f}); the server spent {crowd['cpu_ms_per_call']:.1f} ms of CPU per call "
        f"({crowd['cpu_share']:.0%} of one core while they voted). The page's calls go to the Annotate tab's own JSON "
        f"routes (ui/annotate_api.py), not through Gradio's event machinery. Each annotator signs in first; then all ask for a "
        f"pair in the same instant; votes run in threads of their own (ui/lanes.py), so those cast in the first "
        f"seconds do not wait behind that crowd of requests, which wait for their pair instead: next-pair latency "
        f"p50 {crowd['fetch_p50']:.0f} ms, p99 {crowd['fetch_p99']:.0f} ms."
    )


def start_training(home: Path, store: Store, model: str, steps: int) -> tuple[subprocess.Popen, int]:
    """Queue a DPO train job on the bench votes and start a worker for it; returns once the job runs."""
    from training import train_job
    from training.config import TrainConfig

    # A few examples, many steps: training is under way within seconds and lasts through the load.
    config = TrainConfig(model=model, max_steps=steps, batch_size=2, max_examples=32, save_steps=1000)
    job_id = train_job.enqueue(store, TASK, "dpo", config, created_by="bench")
    # Reuse the converted model cache of the default data directory instead of converting again.
    default_home = Settings.load(env={k: v for k, v in os.environ.items() if k != "REFINERY_HOME"})
    os.environ.setdefault("REFINERY_MODEL_CACHE", str(default_home.models_dir))
    worker = serve.start_worker(Settings.load(env={"REFINERY_HOME": str(home)}))  # as `serve` starts it
    deadline = time.time() + 600
    while time.time() < deadline:
        job = jobs.get(store, job_id)
        if job["status"] in ("failed", "cancelled", "done"):
            raise SystemExit(f"train job {job_id} ended before the load ran: {job['status']} {job['message']}")
        if job["status"] == "running" and job["step"] >= 1:  # model loaded, optimizer steps under way
            return worker, job_id
        time.sleep(1)
    raise SystemExit("the train job did not start within 600 s")


def _interrupt(signum, frame) -> None:
    # SIGTERM ends the bench like Ctrl-C, so the app and worker it started are stopped too.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotators", type=int, default=50, help="simulated annotators voting at once (default 50)")
    parser.add_argument("--votes", type=int, default=20, help="votes per annotator (default 20)")
    parser.add_argument("--baseline-votes", type=int, default=100, help="votes of the lone baseline annotator (default 100)")
    parser.add_argument("--baseline-think", type=float, default=0.2, help="mean pause of the baseline annotator (default 0.2)")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds an annotator reads before voting (default 5)")
    parser.add_argument("--retry-rate", type=float, default=0.1, help="share of votes sent twice (default 0.1)")
    parser.add_argument("--during-training", action="store_true", help="repeat the load while a train job runs in a worker")
    parser.add_argument("--train-model", default="smollm2-135m", help="model spec the train job trains (default smollm2-135m)")
    parser.add_argument("--train-steps", type=int, default=200, help="max steps of the train job (it is cancelled after the load)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--update-readme", action="store_true", help="write the figures into bench/README.md's votes paragraph")
    args = parser.parse_args(argv)
    where = machine()
    signal.signal(signal.SIGTERM, _interrupt)

    rounds = 2 if args.during_training else 1
    main_names = [f"ann{i:02d}" for i in range(args.annotators)]
    # Two votes fill a pair; the lone baseline annotator votes once on each, so it needs a pair per vote.
    n_pairs = rounds * args.annotators * args.votes // 2 + args.baseline_votes + args.annotators * 2
    home = Path(tempfile.mkdtemp(prefix="refinery-bench-"))
    settings = Settings.load(env={"REFINERY_HOME": str(home)})
    store = Store(settings.db_path)
    seed_database(store, n_pairs, ["baseline", *main_names])
    port = free_port()
    server = start_app(home, port, home / "serve.log")
    url = f"http://127.0.0.1:{port}"
    worker = None
    print(f"app at {url}, {n_pairs} pairs, think {args.think:.1f} s, retry rate {args.retry_rate}; {where}", flush=True)
    try:
        base = run_load(url, server, ["baseline"], args.baseline_votes, args.baseline_think, args.retry_rate, args.seed)
        alone = report("1 annotator", base, store, ["baseline"], args.baseline_votes)
        load = run_load(url, server, main_names, args.votes, args.think, args.retry_rate, args.seed + 1000)
        crowd = report(f"{args.annotators} annotators", load, store, main_names, args.annotators * args.votes)
        p99_one, p99_many = alone["p99"], crowd["p99"]
        print(f"ratio p99({args.annotators}) / p99(1) = {p99_many / p99_one:.2f}  (target <= 3)", flush=True)
        if args.update_readme:
            readme = ROOT / "bench" / "README.md"
            readme.write_text(replace_block(readme.read_text(), readme_paragraph(args, alone, crowd, where),
                                                     README_START, README_END))
            print("bench/README.md: votes paragraph updated", flush=True)
        if args.during_training:
            worker, job_id = start_training(home, store, args.train_model, args.train_steps)
            before = jobs.get(store, job_id)["step"]
            during = run_load(url, server, main_names, args.votes, args.think, args.retry_rate, args.seed + 2000)
            job = jobs.get(store, job_id)
            p99_train = report(f"{args.annotators} annotators during training", during, store, main_names,
                               2 * args.annotators * args.votes)["p99"]
            print(f"train job {job_id} was {job['status']}, steps {before} -> {job['step']} during the load", flush=True)
            print(f"p99 idle {p99_many:.0f} ms vs during training {p99_train:.0f} ms "
                  f"(ratio {p99_train / p99_many:.2f}); during-training p99 / p99(1) = {p99_train / p99_one:.2f}", flush=True)
            jobs.request_cancel(store, job_id)
    finally:
        for proc in (worker, server):
            stop_child(proc)  # terminate, then kill after 10 s
        store.close()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
