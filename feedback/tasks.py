"""Tasks: a concept instruction, annotator guidelines, a prompt set and scorer names, shipped as TOML in data/tasks.

A task file data/tasks/<name>.toml holds the keys of `Task`; the prompt set it names is
data/prompts/<prompt_set>.jsonl for shipped tasks, or a set imported with
`python app.py prompts import`. `sync_shipped` loads every shipped task and prompt set into the
database at each app start; it only writes what changed, so it is cheap when all is loaded.
Shipped tasks are reloaded from their files, so a researcher's own task needs a name of its own.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

import confargs
from feedback import prompt_import
from scoring import scorers
from storage import tasks as task_store
from storage.db import Store
from storage.errors import UserError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TASKS_DIR = DATA_DIR / "tasks"
PROMPTS_DIR = DATA_DIR / "prompts"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Task:
    """One task as researchers write it in TOML and as the rest of Refinery reads it."""

    name: str  # lowercase slug, unique; used on the CLI and in URLs
    title: str  # one line shown in the UI
    concept: str  # the instruction that asks a model for the concept
    guidelines: str  # Markdown for annotators: what to prefer, concept vs content, examples
    prompt_set: str  # name of the prompt set the task draws prompts from
    concept_scorer: str | None = None  # key of scoring.scorers.CONCEPT
    content_scorer: str | None = None  # key of scoring.scorers.CONTENT
    votes_per_pair: int = 2  # distinct annotators wanted per pair
    gold_threshold: float = 0.7  # share of gold pairs an annotator must get right to count as trusted
    # How the weak model is asked for weak labels. A small model ignores a long instruction on its
    # own; a short cue before the question and a few demonstrations make it take on the concept.
    weak_cue: str = ""  # text put before each question given to the weak model
    weak_examples: tuple[tuple[str, str], ...] = ()  # (prompt, answer) demonstrations of the concept

    @classmethod
    def from_row(cls, row: dict) -> "Task":
        """A Task from a tasks-table row (extra columns such as id are ignored)."""
        values = {f.name: row[f.name] for f in dataclasses.fields(cls)}
        values["weak_examples"] = tuple(tuple(e) for e in json.loads(values["weak_examples"]))
        return cls(**values)

    def as_dict(self) -> dict:
        """The task's fields as a plain dict (what storage.tasks.upsert_task takes)."""
        return {**dataclasses.asdict(self), "weak_examples": json.dumps(self.weak_examples)}


def validate(values: dict, source: str = "task") -> Task:
    """Check a task dict (types, required keys, known scorers) and build a Task; UserError names the key at fault."""
    fields = {f.name: f for f in dataclasses.fields(Task)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(fields)}")
    for key in ("name", "title", "concept", "guidelines", "prompt_set"):
        if key not in values:
            raise UserError(f"{source}: missing required key {key!r}")
        if not isinstance(values[key], str) or not values[key].strip():
            raise UserError(f"{source}: {key!r} must be non-empty text")
    if not NAME_RE.match(values["name"]):
        raise UserError(f"{source}: name {values['name']!r} must be a lowercase slug (letters, digits, '-', '_')")
    for key, registry in (("concept_scorer", scorers.CONCEPT), ("content_scorer", scorers.CONTENT)):
        if values.get(key) is not None and values[key] not in registry:
            raise UserError(f"{source}: {key} {values[key]!r} is not a known scorer; known: {', '.join(registry.names)}")
    votes = values.get("votes_per_pair", 2)
    if not isinstance(votes, int) or isinstance(votes, bool) or not 1 <= votes <= 20:
        raise UserError(f"{source}: votes_per_pair must be a whole number from 1 to 20, not {votes!r}")
    gold = values.get("gold_threshold", 0.7)
    if not isinstance(gold, (int, float)) or isinstance(gold, bool) or not 0 < gold <= 1:
        raise UserError(f"{source}: gold_threshold must be a number in (0, 1], not {gold!r}")
    cue = values.get("weak_cue", "")
    if not isinstance(cue, str):
        raise UserError(f"{source}: weak_cue must be text, not {cue!r}")
    examples = values.get("weak_examples", [])
    if not isinstance(examples, list) or not all(
        isinstance(e, dict) and set(e) == {"prompt", "answer"} and all(isinstance(v, str) and v.strip() for v in e.values())
        for e in examples
    ):
        raise UserError(f"{source}: weak_examples must be a list of tables each with non-empty 'prompt' and 'answer' text")
    weak_examples = tuple((e["prompt"], e["answer"]) for e in examples)
    return Task(**{**values, "gold_threshold": float(gold), "weak_examples": weak_examples})


def load_task_file(path: str | Path) -> Task:
    """Read and validate one task TOML file; UserError says which file and what is wrong."""
    path = Path(path)
    return validate(confargs.read_toml(path, "task file"), str(path))


def shipped_tasks() -> list[Task]:
    """Every task in data/tasks, by name."""
    return sorted((load_task_file(p) for p in TASKS_DIR.glob("*.toml")), key=lambda t: t.name)


def shipped_prompt_sets() -> dict[str, Path]:
    """{set name: file} for every data/prompts/*.jsonl."""
    return {p.stem: p for p in sorted(PROMPTS_DIR.glob("*.jsonl"))}


def sync_shipped(store: Store) -> dict[str, int]:
    """Load every shipped task and prompt set into the database, writing only what changed.

    Idempotent; reads the files and compares with the database first, so when all is loaded
    it takes no write lock. Returns counts {"tasks": written, "prompts": written}.
    """
    written = {"tasks": 0, "prompts": 0}
    for path in shipped_prompt_sets().values():
        rows = prompt_import.read_prompts(path, "jsonl")
        current = task_store.prompt_snapshot(store, path.stem)
        if any(current.get(r["ext_id"]) != task_store.clean_prompt(r)[1:] for r in rows):
            counts = task_store.insert_prompts(store, path.stem, rows)
            written["prompts"] += counts["added"] + counts["updated"]
    stored = {t["name"]: Task.from_row(t) for t in task_store.list_tasks(store)}
    for task in shipped_tasks():
        if stored.get(task.name) != task:
            task_store.upsert_task(store, task.as_dict())
            written["tasks"] += 1
    return written


def get(store: Store, name: str) -> Task:
    """The stored task `name` as a Task; UserError listing the known tasks if unknown."""
    return Task.from_row(task_store.get_task(store, name))


def add_task_file(store: Store, path: str | Path) -> tuple[Task, bool]:
    """Validate a researcher's task file and store it; returns (task, created). Refuses shipped names."""
    task = load_task_file(path)
    if (TASKS_DIR / f"{task.name}.toml").exists():
        raise UserError(f"task {task.name!r} is shipped with Refinery and reloaded from data/tasks at every start; give your task another name")
    created = task.name not in {t["name"] for t in task_store.list_tasks(store)}
    task_store.upsert_task(store, task.as_dict())
    return task, created


def cli(parser) -> None:
    """`tasks list`, `tasks show NAME`, `tasks load` (shipped tasks) and `tasks add FILE.toml`."""
    sub = parser.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="list tasks with their prompt counts").set_defaults(func=_run_list)
    show = sub.add_parser("show", help="show a task's concept, scorers, prompt counts and guidelines")
    show.add_argument("name", help="task name (see `tasks list`)")
    show.set_defaults(func=_run_show)
    sub.add_parser("load", help="load the shipped tasks and prompt sets (done at every app start too)").set_defaults(func=_run_load)
    add = sub.add_parser("add", help="create or update a task from a TOML file (see data/tasks/*.toml for the format)")
    add.add_argument("file", help="task TOML file (see data/tasks/ for the format)")
    add.set_defaults(func=_run_add)


def _open(args) -> Store:
    store = Store(args.settings.db_path)
    sync_shipped(store)
    return store


def _counts(store: Store, prompt_set: str) -> str:
    return " / ".join(f"{task_store.count_prompts(store, prompt_set, split)} {split}" for split in task_store.SPLITS)


def _run_list(args) -> int:
    store = _open(args)
    for t in task_store.list_tasks(store):
        print(f"{t['name']:<16} {t['title']:<40} {t['prompt_set']:<10} {_counts(store, t['prompt_set']):<36} {t['concept_scorer']} / {t['content_scorer']}")
    return 0


def _run_show(args) -> int:
    store = _open(args)
    task = get(store, args.name)
    print(f"name:        {task.name}\ntitle:       {task.title}\nprompt set:  {task.prompt_set} ({_counts(store, task.prompt_set)})")
    print(f"scorers:     concept={task.concept_scorer} content={task.content_scorer}\nvotes/pair:  {task.votes_per_pair}")
    print(f"concept:     {task.concept}\n\n{task.guidelines.strip()}")
    return 0


def _run_load(args) -> int:
    written = sync_shipped(Store(args.settings.db_path))
    print(f"shipped tasks loaded: {written['tasks']} task(s) and {written['prompts']} prompt(s) written")
    return 0


def _run_add(args) -> int:
    store = _open(args)
    task, created = add_task_file(store, args.file)
    print(f"task {task.name!r} {'created' if created else 'updated'}")
    if not task_store.count_prompts(store, task.prompt_set):
        print(f"note: prompt set {task.prompt_set!r} has no prompts yet; import some with "
              f"`python app.py prompts import --set {task.prompt_set} FILE`")
    return 0
