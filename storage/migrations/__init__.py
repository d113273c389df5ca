"""Numbered SQL migrations (NNN_name.sql beside this file), applied in order, each once."""

from __future__ import annotations

import re
from pathlib import Path

import sqlite_utils

HERE = Path(__file__).parent


def available() -> list[tuple[int, Path]]:
    """All migration files as (version, path), sorted by version."""
    found = []
    for path in HERE.glob("*.sql"):
        m = re.match(r"(\d{3})_", path.name)
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found)


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply every migration not yet recorded in schema_migrations; return the versions applied.

    Foreign keys are off while migrations run, because a migration may rebuild a table that others
    point at (SQLite changes a CHECK only by copying the table, e.g. 008); each migration then runs
    PRAGMA foreign_key_check and is rolled back if any reference broke. The connection's setting is
    restored afterwards (PRAGMA foreign_keys cannot change inside a transaction, hence out here).
    """
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT DEFAULT CURRENT_TIMESTAMP)")
    done = {r[0] for r in db.execute("SELECT version FROM schema_migrations").fetchall()}
    pending = [(version, path) for version, path in available() if version not in done]
    if not pending:
        return []
    foreign_keys = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys = OFF")
    applied = []
    try:
        for version, path in pending:
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(path.read_text()):
                    db.execute(statement)
                broken = db.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration {path.name} would break foreign keys (table, rowid, parent): {broken[:5]}")
                db.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            applied.append(version)
    finally:
        db.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    return applied


def _statements(sql: str) -> list[str]:
    import sqlite3

    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
