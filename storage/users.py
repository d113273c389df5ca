"""The users table: accounts with a role, an argon2 password hash, an active flag and a simulated flag (the pilot's).

Only hashes reach this module; hashing and verification live in feedback.accounts.
"""

from __future__ import annotations

import sqlite3

from storage.db import Store, one, rows
from storage.errors import UserError

ROLES = ("annotator", "researcher")


def add_user(store: Store, username: str, password_hash: str, role: str, simulated: bool = False) -> int:
    """Create an active account (`simulated`: a simulated annotator's, not a person's); UserError if the name
    is taken or the role unknown. Returns its id."""
    username = username.strip()
    if not username:
        raise UserError("username is empty")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    try:
        with store.write() as db:
            cur = db.execute(
                "INSERT INTO users (username, password_hash, role, simulated) VALUES (?, ?, ?, ?)",
                (username, password_hash, role, int(simulated)),
            )
            return cur.lastrowid
    except sqlite3.IntegrityError:
        raise UserError(f"user {username!r} already exists; use `users reset` to give them a new password") from None


def get_user(store: Store, username: str) -> dict | None:
    """The account called `username` (with its hash), or None."""
    return one(store.read(), "SELECT * FROM users WHERE username = ?", (username,))


def list_users(store: Store) -> list[dict]:
    """All accounts without their hashes, by name."""
    return rows(store.read(), "SELECT id, username, role, active, simulated, created_at FROM users ORDER BY username")


def count_users(store: Store, role: str | None = None, active_only: bool = False) -> int:
    """How many accounts exist (of one role, and only active ones, if asked)."""
    sql, params = "SELECT COUNT(*) AS n FROM users WHERE 1 = 1", []
    if role is not None:
        sql += " AND role = ?"
        params.append(role)
    if active_only:
        sql += " AND active = 1"
    return one(store.read(), sql, tuple(params))["n"]


def set_active(store: Store, username: str, active: bool) -> None:
    """Enable or disable an account; UserError if there is none."""
    with store.write() as db:
        cur = db.execute("UPDATE users SET active = ? WHERE username = ?", (int(active), username))
        if cur.rowcount == 0:
            raise UserError(f"no user {username!r}; see `python app.py users list`")


def set_password_hash(store: Store, username: str, password_hash: str) -> None:
    """Replace an account's password hash; UserError if there is none."""
    with store.write() as db:
        cur = db.execute("UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username))
        if cur.rowcount == 0:
            raise UserError(f"no user {username!r}; see `python app.py users list`")
