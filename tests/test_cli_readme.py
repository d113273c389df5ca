"""The README's CLI reference is exactly what the CLI prints; `python -m tests.test_cli_readme --write` regenerates it."""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- cli:start -->", "<!-- cli:end -->"


def commands(parser=None, path=("app.py",)):
    """(path, parser) of every command and nested subcommand, depth first."""
    if parser is None:
        sys.path.insert(0, str(ROOT))
        import app

        parser = app.build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield (*path, name), command
                yield from commands(command, (*path, name))


def usage(command: argparse.ArgumentParser) -> str:
    """One line: the command's usage with whitespace collapsed."""
    return re.sub(r"\s+", " ", command.format_usage().replace("usage: ", "")).strip()


def cli_reference() -> str:
    """The README block: one row per top-level command with its help text, then every command's usage line."""
    import app

    lines = ["| command | what it does |", "|---|---|"]
    for name, help_text in ((c.name, c.help) for c in app.COMMANDS.values()):
        lines.append(f"| `python app.py {name}` | {help_text} |")
    lines.append("")
    lines.append("```")
    lines.extend(usage(command) for _, command in commands())
    lines.append("```")
    return "\n".join(lines)


def _block(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def test_readme_cli_reference_matches_cli():
    text = README.read_text()
    assert START in text and END in text, "README needs the CLI reference markers"
    assert _block(text) == cli_reference(), "README CLI reference drifted: run `python -m tests.test_cli_readme --write`"


def test_every_flag_of_every_command_is_in_readme_and_has_help():
    block = _block(README.read_text())
    lines = {line.split(" [", 1)[0].split(" -", 1)[0]: line for line in block.splitlines() if line.startswith("app.py ")}
    for path, command in commands():
        prog = usage(command).split(" [", 1)[0].split(" -", 1)[0]
        assert prog in lines, f"README has no usage line for {' '.join(path)}"
        for action in command._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help and action.help.strip(), f"{' '.join(path)} {action.option_strings or action.dest} has no help text"
            for flag in action.option_strings:
                assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", lines[prog]), f"README lacks {flag} of {' '.join(path)}"


if __name__ == "__main__" and "--write" in sys.argv:
    text = README.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{cli_reference()}\n{END}{tail}")
    print("README CLI reference rewritten")
