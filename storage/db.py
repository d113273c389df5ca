"""Connections to Refinery's SQLite file: WAL, busy timeout, per-thread readers, one serialized writer."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from storage import migrations

BUSY_TIMEOUT_MS = 30_000  # worker and web app are separate processes; wait rather than fail on a lock
CHECKPOINT_EVERY_S = 1.0  # how often a background checkpointer copies the WAL into the database file


def _connect(path: Path) -> sqlite_utils.Database:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so a write is all-or-nothing.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


class Store:
    """The one way into the database: `read()` gives this thread's connection, `write()` a transaction.

    Writes from all threads of a process go through one connection under one lock, in
    `BEGIN IMMEDIATE` transactions, so concurrent handlers never interleave half-writes and
    another process (the worker) waits on the busy timeout instead of failing.

    With background_checkpoint, the WAL is copied into the database file by a thread of its own
    instead of by whichever commit crosses SQLite's 1000-page mark. That commit took 3-6 ms (it syncs
    both files) while holding the write lock every other vote waits on; at 500 annotators (bench/votes.py)
    those waits made the slowest votes. A passive checkpoint does not take the write lock.
    """

    def __init__(self, path: str | Path, background_checkpoint: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._writer = _connect(self.path)
        self._depth = 0
        with self._write_lock:
            migrations.migrate(self._writer)
        self._stop = threading.Event()
        if background_checkpoint:
            self._writer.execute("PRAGMA wal_autocheckpoint = 0")
            threading.Thread(target=self._checkpoint_loop, name="wal-checkpoint", daemon=True).start()

    def _checkpoint_loop(self) -> None:
        db = _connect(self.path)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY_S):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.conn.close()

    def read(self) -> sqlite_utils.Database:
        """This thread's read connection (sees every committed write)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path)
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock:
            if self._depth:  # nested: join the outer transaction
                self._depth += 1
                try:
                    yield self._writer
                finally:
                    self._depth -= 1
                return
            self._writer.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            else:
                self._writer.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        """Close the writer and this thread's reader, and stop the checkpointer if one runs."""
        self._stop.set()
        self._writer.conn.close()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None


def rows(db: sqlite_utils.Database, sql: str, params: tuple | dict = ()) -> list[dict]:
    """Run a query and return its rows as dicts."""
    return list(db.query(sql, params))


def one(db: sqlite_utils.Database, sql: str, params: tuple | dict = ()) -> dict | None:
    """Run a query and return its first row as a dict, or None."""
    for row in db.query(sql, params):
        return row
    return None
