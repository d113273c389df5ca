"""One shape for every registry keyed by name: methods, strategies, pair plans, scorers, experiment rows,
job kinds, CLI commands and tabs.

A Registry is a read-only mapping of name -> entry, in the order entries were added; `get` is the
lookup a user's input goes through and raises UserError naming the choices. Each entry carries its
own facts (a scorer its threshold, a row its comparison baseline), so nothing restates a registry
beside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Callable, Generic, Iterable, TypeVar

from storage.errors import UserError

T = TypeVar("T")


class Registry(Mapping, Generic[T]):
    """Entries of one kind by name; `kind` names them in errors ("method", "strategy", "pair plan")."""

    def __init__(self, kind: str, entries: Iterable[T] = (), name_of: Callable[[T], str] = lambda e: e.name):
        self.kind = kind
        self._name_of = name_of
        self._entries: dict[str, T] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: T) -> T:
        """Register `entry` under its name (ValueError on a duplicate name); returns it, so it can decorate."""
        name = self._name_of(entry)
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def get(self, name: str, hint: str = "") -> T:  # type: ignore[override]
        """The entry called `name`; UserError naming the choices (and `hint`, e.g. an accepted pattern) otherwise."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            choices = ", ".join(self._entries) + (f", {hint}" if hint else "")
            raise UserError(f"unknown {self.kind} {name!r}; choose one of {choices}") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Every registered name, in the order added."""
        return tuple(self._entries)

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"
