"""Config dataclasses to command-line flags, TOML and checked values, as TRL's scripts do with theirs.

A config is a dataclass whose fields carry `metadata={"help": ...}` (and optionally `choices`).
`add_arguments` gives one --flag per field, `typed_flags` reads back only the flags the user typed,
`from_dict` builds the config from any mapping (TOML table, env vars, job params) with a UserError
naming an unknown key or a bad value, and `read_toml` is the one TOML loader. TrainConfig,
EvalJob's generation settings and Settings all go through here.
"""

from __future__ import annotations

import argparse
import dataclasses
import tomllib
from pathlib import Path

from storage.errors import UserError

_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "Path": Path}


def _kind(f: dataclasses.Field) -> type:
    # fields are annotated with plain names (postponed annotations are strings); "int | None" counts as int
    name = f.type if isinstance(f.type, str) else f.type.__name__
    return _TYPES[name.split("|")[0].strip()]


def coerce(f: dataclasses.Field, value, where: str = "", name: str | None = None):
    """`value` as the field's type (strings from env vars and flags included); UserError when it is not one.

    The message calls the value `where` + `name` (default: the field's name).
    """
    kind = _kind(f)
    label = f"{where}{name or f.name}"
    if value is None and "None" in str(f.type):
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"1", "true", "yes", "on"}:
            return True
        if str(value).lower() in {"0", "false", "no", "off"}:
            return False
        raise UserError(f"{label} must be true or false, not {value!r}")
    if kind is Path:
        return Path(str(value)).expanduser()
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UserError(f"{label} must be {kind.__name__}, not {value!r}") from None


def from_dict(cls, values: dict, what: str, hint: str = "", where: str = ""):
    """An instance of dataclass `cls` from `values`; UserError names unknown keys (`what`: 'training settings')."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise UserError(f"unknown {what}: {', '.join(unknown)}" + (f"; {hint}" if hint else ""))
    return cls(**{k: coerce(names[k], v, where) for k, v in values.items()})


def read_toml(path: str | Path, what: str = "config file") -> dict:
    """The tables of a TOML file; UserError when the file is missing or not TOML."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UserError(f"{what} {path}: no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{what} {path}: invalid TOML: {err}") from None


def add_arguments(parser, cls, prefix: str, title: str | None = None, only: tuple[str, ...] | None = None,
                  defaults: dict | None = None) -> None:
    """One --flag per field of `cls` (or of the fields in `only`), stored as `<prefix><name>`.

    Unset flags stay out of the namespace (SUPPRESS), so a TOML file or the dataclass default
    decides; `defaults` only changes the value the help text shows.
    """
    group = parser.add_argument_group(title) if title else parser
    for f in dataclasses.fields(cls):
        if only is not None and f.name not in only:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = _kind(f)
        default = (defaults or {}).get(f.name, f.default)
        help_text = f.metadata["help"] + (f" (default: {default})" if default not in ("", None) else "")
        if kind is bool:
            group.add_argument(flag, dest=prefix + f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(
                flag, dest=prefix + f.name, type=kind, default=argparse.SUPPRESS, help=help_text,
                choices=f.metadata.get("choices"), metavar=kind.__name__.upper(),
            )


def typed_flags(args: argparse.Namespace, cls, prefix: str) -> dict:
    """{field: value} of the flags of `cls` the user gave on the command line."""
    return {f.name: getattr(args, prefix + f.name) for f in dataclasses.fields(cls) if hasattr(args, prefix + f.name)}
