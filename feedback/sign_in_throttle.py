"""Sign-in throttling: after repeated failures an account tried from one address, an account tried
from many addresses, or a client address must wait.

Why per (account, address) first. OWASP's Authentication Cheat Sheet (account lockout) warns that
locking an account after a few failures lets anyone who knows a user name lock that user out: a
denial of service that costs the attacker five requests. It suggests throttling that makes guessing
slow without handing out that weapon. So failures are counted per (account name, client address)
pair, and a run of PAIR_LIMIT failures locks only that pair: the guesser waits, the account's owner
signing in from their own address does not. A guesser that spreads its attempts over many
addresses is caught by the account-wide rule: once failures on one account come from
SPREAD_LIMIT distinct addresses within the window, the account is locked for everyone (an attacker
now needs that many addresses to lock a victim out, and a distributed guesser gets at most
SPREAD_LIMIT * (PAIR_LIMIT - 1) guesses before it). A single address that sprays many accounts is
locked after ADDRESS_LIMIT failures, whatever the accounts.

Every lock lasts a minute, doubling with each further failure (or, for the account-wide lock, each
further address), at most an hour; while it lasts every attempt it covers is refused, the right
password included, and not counted. Counts live in the database, so a restart or a reload does not
reset them, and a run is forgotten after WINDOW_S without a failure or a lock. A success clears its
own (account, address) run only: neither the address's run (one's own valid account cannot wipe an
address's record between guesses at others) nor other addresses' runs on the account. Successes are
never counted, so many people signing in from one address (a lab behind one router, the votes
benchmark) do not trip anything.
"""

from __future__ import annotations

import math
import time

from storage import sign_ins
from storage.db import Store

PAIR_LIMIT = 5  # failures in a row on one account name from one address before that pair is locked
SPREAD_LIMIT = 10  # distinct addresses failing on one account before it is locked for everyone
ADDRESS_LIMIT = 20  # higher than PAIR_LIMIT: people sharing one address each mistype now and then
WINDOW_S = 15 * 60  # a run of failures is forgotten after this long without a failure or a lock
FIRST_LOCK_S = 60
MAX_LOCK_S = 60 * 60

_WHAT = {"pair": "for this account from your address", "account": "for this account from many addresses",
         "address": "from your address"}


def lock_seconds(failures: int, limit: int) -> float:
    """How long a run of `failures` locks (0 below the limit): a minute at the limit, doubling after."""
    if failures < limit:
        return 0.0
    return float(min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** min(failures - limit, 16)))


def _recent(row: dict | None, now: float) -> bool:
    return bool(row) and now - max(row["last_failure_at"], row["locked_until"]) <= WINDOW_S


def _after_failure(row: dict | None, now: float, limit: int) -> dict:
    failures = (row["failures"] if _recent(row, now) else 0) + 1
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
    """(what is locked: 'pair', 'account' or 'address'; seconds left) if this account name may not be
    tried from this address now, else None."""
    now = time.time() if now is None else now
    rows = (("pair", sign_ins.get_pair(store, account, address)), ("account", sign_ins.get(store, "account", account)),
            ("address", sign_ins.get(store, "address", address)))
    for kind, row in rows:
        if row and row["locked_until"] > now:
            return kind, row["locked_until"] - now
    return None


def record(store: Store, account: str, address: str, success: bool, now: float | None = None) -> tuple[str, float] | None:
    """Count a checked attempt: a success clears its (account, address) run; a failure counts for the
    pair, the address, and (through the pair rows) the account's spread of addresses.
    Returns (what, seconds) if this failure started a lock, else None."""
    now = time.time() if now is None else now
    if success:
        sign_ins.clear_pair(store, account, address)
        return None
    sign_ins.prune(store, now - WINDOW_S)
    pair = sign_ins.update_pair(store, account, address, lambda old: _after_failure(old, now, PAIR_LIMIT))
    started = [("pair", pair["locked_until"] - now)] if pair["locked_until"] > now else []
    spread_wait = lock_seconds(pair["addresses"], SPREAD_LIMIT)
    if spread_wait:
        sign_ins.update(store, "account", account, lambda old: {
            "failures": pair["addresses"], "last_failure_at": now, "locked_until": now + spread_wait})
        started.append(("account", spread_wait))
    address_row = sign_ins.update(store, "address", address, lambda old: _after_failure(old, now, ADDRESS_LIMIT))
    if address_row["locked_until"] > now:
        started.append(("address", address_row["locked_until"] - now))
    return max(started, key=lambda lock: lock[1]) if started else None
