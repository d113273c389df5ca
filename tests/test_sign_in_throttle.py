"""Sign-in throttling: a locked account or address is refused, the right password included, with a
message saying when to try again; others are not affected; successes are never counted."""

import httpx

from feedback import accounts, sign_in_throttle as throttle
from tests.fixtures_app import PASSWORDS, running_app


def test_fifty_wrong_passwords_lock_the_account_and_address_but_not_others(tmp_path):
    with running_app(tmp_path / "home", n_pairs=1) as (url, store):
        with httpx.Client(base_url=url) as attacker:
            replies = [attacker.post("/login", data={"username": "ann", "password": f"guess-{i}"}) for i in range(50)]
            assert all(r.status_code == 400 for r in replies)
            assert "Incorrect credentials" in replies[0].json()["detail"]
            refused = replies[-1].json()["detail"]
            assert "Too many failed sign-ins for this account" in refused and "Try again in 1 minute" in refused
            right = attacker.post("/login", data={"username": "ann", "password": PASSWORDS["ann"]})
            assert right.status_code == 400 and "Try again in" in right.json()["detail"]
            assert int(right.headers["Retry-After"]) > 0
            # Same address, another account: only 5 failures were checked, below the address limit.
            assert attacker.post("/login", data={"username": "ann2", "password": PASSWORDS["ann2"]}).status_code == 200
        # Another account from another address (all of 127/8 reaches the server on loopback).
        other = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=url, transport=other) as elsewhere:
            assert elsewhere.post("/login", data={"username": "res", "password": PASSWORDS["res"]}).status_code == 200
            # The lock is on the account, whatever the address.
            assert elsewhere.post("/login", data={"username": "ann", "password": PASSWORDS["ann"]}).status_code == 400


def test_an_address_spraying_many_accounts_is_locked_and_successes_never_count(store):
    for i in range(30):
        accounts.create_user(store, f"u{i}", "annotator", "right-password")
    now = 1000.0
    for i in range(40):  # one sign-in each from one address, as the votes benchmark does
        assert throttle.locked(store, f"u{i % 30}", "10.0.0.1", now) is None
        assert throttle.record(store, f"u{i % 30}", "10.0.0.1", True, now) is None
    for i in range(throttle.ADDRESS_LIMIT - 1):  # one wrong guess per account stays under each account's limit
        assert throttle.record(store, f"u{i}", "10.0.0.9", False, now) is None
    assert throttle.record(store, "u29", "10.0.0.9", False, now) == ("address", 60.0)
    assert throttle.locked(store, "u0", "10.0.0.9", now + 1)[0] == "address"
    assert throttle.locked(store, "u0", "10.0.0.1", now + 1) is None
    assert throttle.locked(store, "u0", "10.0.0.9", now + 61) is None


def test_the_lock_grows_with_each_failure_and_a_success_resets_the_account(store):
    now = 0.0
    for _ in range(throttle.ACCOUNT_LIMIT - 1):
        assert throttle.record(store, "ann", "a", False, now) is None
    assert throttle.record(store, "ann", "a", False, now) == ("account", 60.0)
    now += 61
    assert throttle.locked(store, "ann", "a", now) is None
    assert throttle.record(store, "ann", "a", False, now) == ("account", 120.0)
    now += 121
    assert throttle.record(store, "ann", "a", False, now) == ("account", 240.0)
    assert throttle.lock_seconds(100, throttle.ACCOUNT_LIMIT) == throttle.MAX_LOCK_S
    now += 241
    throttle.record(store, "ann", "a", True, now)
    assert throttle.locked(store, "ann", "a", now) is None
    for _ in range(throttle.ACCOUNT_LIMIT - 1):  # a fresh run: the limit again before any lock
        assert throttle.record(store, "ann", "a", False, now) is None
    # A run is forgotten after a quiet window.
    assert throttle.record(store, "ann", "a", False, now + throttle.WINDOW_S + 1) is None


def test_the_message_says_when_to_try_again():
    assert throttle.refusal("account", 29.2).startswith("Too many failed sign-ins for this account. Try again in 30 s;")
    assert "Try again in 1 minute;" in throttle.refusal("account", 59.2)
    assert "Try again in 2 minutes" in throttle.refusal("address", 61)
    assert "from your address" in throttle.refusal("address", 61)
