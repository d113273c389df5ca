"""The README's CLI reference is exactly what the CLI prints; `python -m tests.test_cli_readme --write` regenerates it."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- cli:start -->", "<!-- cli:end -->"


def cli_reference() -> str:
    """The README block: one usage line per subcommand, with its help text."""
    sys.path.insert(0, str(ROOT))
    import app

    parser = app.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    lines = ["| command | what it does |", "|---|---|"]
    for name, (_, help_text) in app.COMMANDS.items():
        lines.append(f"| `python app.py {name}` | {help_text} |")
    lines.append("")
    lines.append("```")
    for name, command in sub.choices.items():
        usage = re.sub(r"\s+", " ", command.format_usage().replace("usage: ", "")).strip()
        lines.append(usage)
    lines.append("```")
    return "\n".join(lines)


def _block(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def test_readme_cli_reference_matches_cli():
    text = README.read_text()
    assert START in text and END in text, "README needs the CLI reference markers"
    assert _block(text) == cli_reference(), "README CLI reference drifted: run `python -m tests.test_cli_readme --write`"


def test_every_command_has_help():
    import app

    for name in app.COMMANDS:
        try:
            app.main([name, "--help"])
        except SystemExit as exit_:
            assert exit_.code == 0, name


if __name__ == "__main__" and "--write" in sys.argv:
    text = README.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{cli_reference()}\n{END}{tail}")
    print("README CLI reference rewritten")
