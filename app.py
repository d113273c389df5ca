"""Refinery's command line: `python app.py COMMAND --help`.

Each command lives in the module named below; the module defines `cli(parser)`, which adds the
command's arguments and sets `func` (called with the parsed args; `args.settings` is loaded).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass

from registry import Registry
from settings import Settings, help_epilog
from storage.errors import UserError


@dataclass(frozen=True)
class Command:
    """A top-level command: its name, the module whose cli(parser) adds its flags and sets its func, and its help."""

    name: str
    module: str
    help: str


COMMANDS: Registry[Command] = Registry("command", (
    Command("serve", "ui.serve", "start the web app (and a background worker)"),
    Command("worker", "jobs.worker", "run the background job worker"),
    Command("jobs", "jobs.cli", "list or cancel jobs of every kind"),
    Command("users", "feedback.accounts", "add, list, disable and reset user accounts"),
    Command("tasks", "feedback.tasks", "list, show, load and add tasks"),
    Command("prompts", "feedback.prompt_import", "import prompts from JSONL, CSV or a saved HF dataset"),
    Command("models", "models.models_cli", "list model specs and versions, install embedded models"),
    Command("generate", "models.generate_cli", "generate candidate outputs with named strategies"),
    Command("pairs", "feedback.scheduling", "schedule pairs of outputs for annotation"),
    Command("pilot", "study.pilot", "dry-run a task: simulated weak annotators vote through the web app"),
    Command("train", "training.train_job", "train a LoRA adapter with DPO or SFT"),
    Command("evaluate", "study.evaluate_job", "score a model version on a task's eval split"),
    Command("scorers", "judging.scorers_cli", "calibrate the scorers (heuristic, LLM judge, length baseline) on hand labels and votes"),
    Command("experiment", "study.experiment", "run the paper's weak-to-strong comparison"),
    Command("export", "feedback.export", "export preference pairs or raw votes"),
    Command("import", "feedback.preference_import", "import a preference dataset as pairs to annotate (and votes)"),
))


def build_parser() -> argparse.ArgumentParser:
    """The full argparse tree; used by main() and by the README drift test."""
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="Refinery: a weak-to-strong alignment studio.",
        epilog=help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="TOML settings file (default: $REFINERY_CONFIG)")
    parser.add_argument("--home", help="data directory (default: $REFINERY_HOME or ~/.local/share/refinery)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for c in COMMANDS.values():
        command = sub.add_parser(c.name, help=c.help, description=c.help)
        importlib.import_module(c.module).cli(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse argv, load settings and run the chosen command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(args.config)
        if args.home:
            from pathlib import Path

            settings.home = Path(args.home).expanduser()
        args.settings = settings
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
