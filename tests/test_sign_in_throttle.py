"""Sign-in throttling: a locked (account, address) pair, account or address is refused, the right
password included, with a message saying when to try again; a guesser at one address cannot lock
the account's owner out elsewhere; others are not affected; successes are never counted."""

import httpx

from feedback import accounts, sign_in_throttle as throttle
from tests.fixtures_app import PASSWORDS, running_app


def test_fifty_wrong_passwords_lock_the_account_from_that_address_only(tmp_path):
    with running_app(tmp_path / "home", n_pairs=1) as (url, store):
        with httpx.Client(base_url=url) as attacker:
            replies = [attacker.post("/login", data={"username": "ann", "password": f"guess-{i}"}) for i in range(50)]
            assert all(r.status_code == 400 for r in replies)
            assert "Incorrect credentials" in replies[0].json()["detail"]
            refused = replies[-1].json()["detail"]
            assert "Too many failed sign-ins for this account from your address" in refused and "Try again in 1 minute" in refused
            right = attacker.post("/login", data={"username": "ann", "password": PASSWORDS["ann"]})
            assert right.status_code == 400 and "Try again in" in right.json()["detail"]
            assert int(right.headers["Retry-After"]) > 0
            # Same address, another account: only 5 failures were checked, below the address limit.
            assert attacker.post("/login", data={"username": "ann2", "password": PASSWORDS["ann2"]}).status_code == 200
        # The owner, at another address (all of 127/8 reaches the server on loopback), is not locked out.
        other = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=url, transport=other) as owner:
            assert owner.post("/login", data={"username": "ann", "password": PASSWORDS["ann"]}).status_code == 200
            assert owner.post("/login", data={"username": "res", "password": PASSWORDS["res"]}).status_code == 200


def test_failures_from_many_addresses_lock_the_account_for_everyone(store):
    now = 1000.0
    for i in range(throttle.SPREAD_LIMIT - 1):  # under the pair limit at each address
        for _ in range(throttle.PAIR_LIMIT - 1):
            assert throttle.record(store, "res", f"10.0.1.{i}", False, now) is None
    assert throttle.locked(store, "res", "10.0.9.9", now) is None
    assert throttle.record(store, "res", "10.0.1.99", False, now) == ("account", 60.0)
    assert throttle.locked(store, "res", "192.168.0.1", now + 1)[0] == "account"  # any address, the owner's too
    assert throttle.locked(store, "ann", "10.0.1.0", now + 1) is None  # other accounts from those addresses
    assert throttle.locked(store, "res", "192.168.0.1", now + 61) is None
    # One more address after the lock: twice as long.
    assert throttle.record(store, "res", "10.0.2.1", False, now + 61) == ("account", 120.0)
    # Failures spread in time are forgotten: a window later the addresses no longer count.
    later = now + 61 + 120 + throttle.WINDOW_S + 1
    assert throttle.record(store, "res", "10.0.3.1", False, later) is None


def test_a_success_clears_only_its_own_address(store):
    now = 0.0
    for _ in range(throttle.PAIR_LIMIT - 1):
        throttle.record(store, "ann", "attacker", False, now)
        throttle.record(store, "ann", "owner", False, now)
    throttle.record(store, "ann", "owner", True, now)
    assert throttle.record(store, "ann", "owner", False, now) is None  # the owner's run starts again
    assert throttle.record(store, "ann", "attacker", False, now) == ("pair", 60.0)  # the attacker's does not


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


def test_the_lock_grows_with_each_failure_and_a_success_resets_the_pair(store):
    now = 0.0
    for _ in range(throttle.PAIR_LIMIT - 1):
        assert throttle.record(store, "ann", "a", False, now) is None
    assert throttle.record(store, "ann", "a", False, now) == ("pair", 60.0)
    now += 61
    assert throttle.locked(store, "ann", "a", now) is None
    assert throttle.record(store, "ann", "a", False, now) == ("pair", 120.0)
    now += 121
    assert throttle.record(store, "ann", "a", False, now) == ("pair", 240.0)
    assert throttle.lock_seconds(100, throttle.PAIR_LIMIT) == throttle.MAX_LOCK_S
    now += 241
    throttle.record(store, "ann", "a", True, now)
    assert throttle.locked(store, "ann", "a", now) is None
    for _ in range(throttle.PAIR_LIMIT - 1):  # a fresh run: the limit again before any lock
        assert throttle.record(store, "ann", "a", False, now) is None
    # A run is forgotten after a quiet window.
    assert throttle.record(store, "ann", "a", False, now + throttle.WINDOW_S + 1) is None


def test_the_message_says_when_to_try_again():
    assert throttle.refusal("pair", 29.2).startswith("Too many failed sign-ins for this account from your address. Try again in 30 s;")
    assert "Try again in 1 minute;" in throttle.refusal("pair", 59.2)
    assert "for this account from many addresses" in throttle.refusal("account", 61)
    assert "Try again in 2 minutes" in throttle.refusal("address", 61)
    assert "from your address" in throttle.refusal("address", 61)
