-- Failed sign-ins per (account name, client address) pair, for throttling (feedback.sign_in_throttle):
-- a guesser at one address locks the account for that address only; the account is locked for
-- everyone only when its failures come from many addresses (counted from these rows).
CREATE TABLE sign_in_pair_failures (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at REAL NOT NULL,
    locked_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (account, address)
);
