"""Export a task's feedback: majority preferences in TRL's conversational format, or raw votes.

Preference rows are what `trl.DPOTrainer` takes unchanged: `prompt` is a list of messages ending
with the user turn, `chosen`/`rejected` are one-message assistant lists. Extra columns (agreement,
n_votes, votes per choice, pair and output ids, strategies) are carried along for analysis.
"""

from __future__ import annotations

import json
from pathlib import Path

from feedback.preferences import preference_pairs
from storage import tasks, votes as vote_store
from storage.db import Store
from storage.errors import UserError

FORMATS = ("jsonl", "hf")
RAW_COLUMNS = (
    "id", "pair_id", "username", "simulated", "choice", "swapped", "concept_a", "content_a", "concept_b", "content_b",
    "correction", "seconds", "created_at", "gold", "strategy_a", "strategy_b", "model_a", "model_b",
)


def to_trl(pref: dict) -> dict:
    """One preference as a TRL conversational preference row plus extra columns."""
    return {
        "prompt": [{"role": "user", "content": pref["prompt"]}],
        "chosen": [{"role": "assistant", "content": pref["chosen"]}],
        "rejected": [{"role": "assistant", "content": pref["rejected"]}],
        "agreement": pref["agreement"],
        "n_votes": pref["n_votes"],
        **{f"votes_{choice}": n for choice, n in pref["votes"].items()},
        "pair_id": pref["pair_id"],
        "prompt_id": pref["prompt_id"],
        "chosen_strategy": pref["chosen_strategy"],
        "rejected_strategy": pref["rejected_strategy"],
        "split": pref["split"],
    }


def preference_rows(store: Store, task_name: str, min_agreement: float = 0.0, exclude_failed_gold: bool = False) -> list[dict]:
    """The task's majority preferences as TRL rows (ties and both-bad left out)."""
    return [to_trl(p) for p in preference_pairs(store, task_name, min_agreement, exclude_failed_gold)]


def raw_rows(store: Store, task_name: str) -> list[dict]:
    """One row per vote of the task, choice and ratings in pair terms, with prompt and both texts."""
    from storage import pairs as pair_store

    task = tasks.get_task(store, task_name)
    texts = {p["id"]: p for p in pair_store.list_pairs(store, task["id"])}
    out = []
    for vote in vote_store.list_votes(store, task["id"]):
        pair = texts[vote["pair_id"]]
        out.append({**{k: vote[k] for k in RAW_COLUMNS}, "prompt": pair["prompt_text"],
                    "text_a": pair["text_a"], "text_b": pair["text_b"]})
    return out


def vote_shortfall(store: Store, task_name: str) -> dict[str, int]:
    """How many of the task's pairs have fewer votes than they ask for: {pairs, short, none}
    (`none`: not one vote yet, so not in a preference export at all)."""
    from storage import pairs as pair_store

    task = tasks.get_task(store, task_name)
    task_pairs = pair_store.list_pairs(store, task["id"])
    return {
        "pairs": len(task_pairs),
        "short": sum(1 for p in task_pairs if p["n_votes"] < p["votes_wanted"]),
        "none": sum(1 for p in task_pairs if p["n_votes"] == 0),
    }


def shortfall_note(counts: dict[str, int]) -> str:
    """One sentence on vote_shortfall's counts, for the CLI and the Research tab ('' when every pair is full)."""
    if not counts["short"]:
        return ""
    return (f"{counts['short']} of {counts['pairs']} pairs have fewer votes than they ask for: "
            f"{counts['none']} have none (not exported), {counts['short'] - counts['none']} are exported on fewer votes.")


def write(rows: list[dict], fmt: str, out: str | Path) -> Path:
    """Write rows as JSON lines, or as a saved Hugging Face dataset directory (`hf`); returns the path."""
    if fmt not in FORMATS:
        raise UserError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not rows:
        raise UserError("nothing to export: no votes yet, or every pair was a tie, both bad, or filtered out")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        tmp = out.with_name(out.name + ".partial")
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(out)  # a crash leaves no half-written export behind
    else:
        import datasets

        datasets.Dataset.from_list(rows).save_to_disk(str(out))
    return out


def export(store: Store, task_name: str, fmt: str, out: str | Path, min_agreement: float = 0.0,
           exclude_failed_gold: bool = False, raw: bool = False) -> tuple[Path, int]:
    """Export a task's preferences (or raw votes) to `out`; returns (path, rows written)."""
    if not 0.0 <= min_agreement <= 1.0:
        raise UserError("--min-agreement must be between 0 and 1")
    rows = raw_rows(store, task_name) if raw else preference_rows(store, task_name, min_agreement, exclude_failed_gold)
    return write(rows, fmt, out), len(rows)


def cli(parser) -> None:
    """`export --task T --format jsonl|hf --out PATH [--min-agreement X] [--exclude-failed-gold] [--raw]`."""
    parser.add_argument("--task", required=True, help="task name (see `tasks list`)")
    parser.add_argument("--format", choices=FORMATS, default="jsonl", help="jsonl file or saved Hugging Face dataset directory")
    parser.add_argument("--out", required=True, help="output file (jsonl) or directory (hf)")
    parser.add_argument("--min-agreement", type=float, default=0.0, help="keep pairs whose majority has at least this share of votes (0-1)")
    parser.add_argument("--exclude-failed-gold", action="store_true", help="drop votes of annotators below the task's gold accuracy threshold")
    parser.add_argument("--raw", action="store_true", help="one row per vote instead of majority preferences")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Write the export; say how many rows it has and how many pairs are short of votes."""
    store = Store(args.settings.db_path)
    path, n = export(store, args.task, args.format, args.out, args.min_agreement, args.exclude_failed_gold, args.raw)
    print(f"wrote {n} {'votes' if args.raw else 'preference pairs'} to {path}")
    note = shortfall_note(vote_shortfall(store, args.task))
    if note:
        print(note)
    return 0
