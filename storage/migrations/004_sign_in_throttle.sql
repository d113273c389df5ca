-- Failed sign-ins per account name and per client address, for throttling (feedback.sign_in_throttle).
-- A row holds the current run of failures; a success deletes the account's row, never the address's.
CREATE TABLE sign_in_failures (
    kind TEXT NOT NULL CHECK (kind IN ('account', 'address')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at REAL NOT NULL,
    locked_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, key)
);
