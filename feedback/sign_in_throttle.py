"""Sign-in throttling: after repeated failures an account name, or a client address, must wait.

Failures are counted per account name and per client address in the database (so a restart or a
page reload does not reset them). Once a run of failures reaches the limit, every further attempt
for that account or from that address is refused, the right password included, until the lock
ends: one minute, doubling with each further failure, at most an hour. A success clears the
account's run but not the address's, so one's own valid account cannot wipe an address's record
between guesses at others; successes are never counted, so many people signing in from one
address (a lab behind one router, the votes benchmark) do not trip it.
"""

from __future__ import annotations

import math
import time

from storage import sign_ins
from storage.db import Store

ACCOUNT_LIMIT = 5  # failures in a row on one account name before it is locked
ADDRESS_LIMIT = 20  # higher: people sharing one address each mistype now and then
WINDOW_S = 15 * 60  # a run of failures is forgotten after this long without a failure or a lock
FIRST_LOCK_S = 60
MAX_LOCK_S = 60 * 60

_WHAT = {"account": "for this account", "address": "from your address"}


def lock_seconds(failures: int, limit: int) -> float:
    """How long a run of `failures` locks (0 below the limit): a minute at the limit, doubling after."""
    if failures < limit:
        return 0.0
    return float(min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** min(failures - limit, 16)))


def _after_failure(row: dict | None, now: float, limit: int) -> dict:
    failures = row["failures"] if row and now - max(row["last_failure_at"], row["locked_until"]) <= WINDOW_S else 0
    failures += 1
    wait = lock_seconds(failures, limit)
    return {"failures": failures, "last_failure_at": now, "locked_until": now + wait if wait else 0.0}


def _wait_words(seconds: float) -> str:
    seconds = math.ceil(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refusal(kind: str, wait_s: float) -> str:
    """The message for an attempt refused by a lock: what is locked and when to try again."""
    return (f"Too many failed sign-ins {_WHAT[kind]}. Try again in {_wait_words(wait_s)}; "
            "until then every attempt is refused, even with the right password.")


def locked(store: Store, account: str, address: str, now: float | None = None) -> tuple[str, float] | None:
    """(what is locked, seconds left) if this account name or this address may not try now, else None."""
    now = time.time() if now is None else now
    for kind, key in (("account", account), ("address", address)):
        row = sign_ins.get(store, kind, key)
        if row and row["locked_until"] > now:
            return kind, row["locked_until"] - now
    return None


def record(store: Store, account: str, address: str, success: bool, now: float | None = None) -> tuple[str, float] | None:
    """Count a checked attempt: a success clears the account's run; a failure counts for both the
    account and the address. Returns (what, seconds) if this failure started a lock, else None."""
    now = time.time() if now is None else now
    if success:
        sign_ins.clear(store, "account", account)
        return None
    sign_ins.prune(store, now - WINDOW_S)
    started = None
    for kind, key, limit in (("account", account, ACCOUNT_LIMIT), ("address", address, ADDRESS_LIMIT)):
        row = sign_ins.update(store, kind, key, lambda old, limit=limit: _after_failure(old, now, limit))
        if row["locked_until"] > now and started is None:
            started = kind, row["locked_until"] - now
    return started
