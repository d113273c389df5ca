"""The sign_in_failures and sign_in_pair_failures tables: the current run of failed sign-ins per
account name, per client address, and per (account name, client address) pair.

The rule that turns failures into a lock lives in feedback.sign_in_throttle; this module only reads
and changes rows, each change in one write transaction so concurrent sign-ins do not lose a count.
"""

from __future__ import annotations

from typing import Callable

from storage.db import Store, one

KINDS = ("account", "address")


def get(store: Store, kind: str, key: str) -> dict | None:
    """The failure row of one account name or address, or None if it has no recent failures."""
    return one(store.read(), "SELECT * FROM sign_in_failures WHERE kind = ? AND key = ?", (kind, key))


def update(store: Store, kind: str, key: str, change: Callable[[dict | None], dict]) -> dict:
    """Replace a row by `change(old row or None)` (a dict with failures, last_failure_at, locked_until)
    inside one write transaction; returns the new row."""
    with store.write() as db:
        old = one(db, "SELECT * FROM sign_in_failures WHERE kind = ? AND key = ?", (kind, key))
        new = change(old)
        db.execute(
            "INSERT OR REPLACE INTO sign_in_failures (kind, key, failures, last_failure_at, locked_until) VALUES (?, ?, ?, ?, ?)",
            (kind, key, new["failures"], new["last_failure_at"], new["locked_until"]),
        )
    return {"kind": kind, "key": key, **new}


def clear(store: Store, kind: str, key: str) -> None:
    """Forget the failures of one account name or address."""
    with store.write() as db:
        db.execute("DELETE FROM sign_in_failures WHERE kind = ? AND key = ?", (kind, key))


def get_pair(store: Store, account: str, address: str) -> dict | None:
    """The failure row of one account name tried from one address, or None if it has no recent failures."""
    return one(store.read(), "SELECT * FROM sign_in_pair_failures WHERE account = ? AND address = ?", (account, address))


def update_pair(store: Store, account: str, address: str, change: Callable[[dict | None], dict]) -> dict:
    """Replace the (account, address) row by `change(old row or None)` inside one write transaction;
    returns the new row with `addresses`: how many addresses have a failure row for this account now."""
    with store.write() as db:
        old = one(db, "SELECT * FROM sign_in_pair_failures WHERE account = ? AND address = ?", (account, address))
        new = change(old)
        db.execute(
            "INSERT OR REPLACE INTO sign_in_pair_failures (account, address, failures, last_failure_at, locked_until) "
            "VALUES (?, ?, ?, ?, ?)",
            (account, address, new["failures"], new["last_failure_at"], new["locked_until"]),
        )
        addresses = one(db, "SELECT COUNT(*) AS n FROM sign_in_pair_failures WHERE account = ?", (account,))["n"]
    return {"account": account, "address": address, **new, "addresses": addresses}


def clear_pair(store: Store, account: str, address: str) -> None:
    """Forget the failures of one account name tried from one address."""
    with store.write() as db:
        db.execute("DELETE FROM sign_in_pair_failures WHERE account = ? AND address = ?", (account, address))


def prune(store: Store, before: float) -> None:
    """Delete rows whose last failure and lock both ended before `before` (they no longer count)."""
    with store.write() as db:
        db.execute("DELETE FROM sign_in_failures WHERE MAX(last_failure_at, locked_until) < ?", (before,))
        db.execute("DELETE FROM sign_in_pair_failures WHERE MAX(last_failure_at, locked_until) < ?", (before,))
