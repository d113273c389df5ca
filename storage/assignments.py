"""The assignments table: which pair was served to which annotator, with which side on the left.

`serve_next` picks a pair on a read snapshot and records it in a write transaction that first checks
the pair is still free, so two annotators asking at the same moment are counted against each other
and never overfill a pair. The pick reads each pair's vote count from `pairs.n_votes` (kept by
triggers, migration 005) and counts other annotators' open assignments once per call from the
partial index of unanswered, unskipped ones (`assignments.answered`, kept by triggers, migration
006), instead of counting votes and looking up a vote per assignment.
"""

from __future__ import annotations

from storage.db import Store, one, rows

# Other annotators' open promises per pair: served, unexpired, unskipped, unanswered.
_OPEN = """
SELECT a.pair_id, COUNT(*) AS n_out FROM assignments a
WHERE a.answered = 0 AND a.skipped = 0 AND a.served_at > :cutoff AND a.user_id != :user
GROUP BY a.pair_id
"""

# Pairs the user may still be served, with their load (votes cast plus others' open promises)
# below votes_wanted: not full, neither voted on nor skipped by the user.
_CANDIDATES = f"""
SELECT pr.id AS pair_id, pr.task_id, pr.n_votes, pr.n_votes + COALESCE(o.n_out, 0) AS load, pr.votes_wanted
FROM pairs pr LEFT JOIN ({_OPEN}) o ON o.pair_id = pr.id
WHERE (:task IS NULL OR pr.task_id = :task) AND pr.n_votes < pr.votes_wanted
  AND pr.n_votes + COALESCE(o.n_out, 0) < pr.votes_wanted
  AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.pair_id = pr.id AND v.user_id = :user)
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.pair_id = pr.id AND a.user_id = :user AND a.skipped = 1)
"""

# Assignment `a` is the user's own, open: served, unexpired, unskipped, unanswered.
_OWN_OPEN = "a.user_id = :user AND a.answered = 0 AND a.skipped = 0 AND a.served_at > :cutoff"

# A window of the pairs wanting votes: the :window with the fewest votes, from a random pair id on
# (wrapping around), read off the pairs_least_voted index. Every pair with fewer votes than the window's
# most voted one is in it, so picking the least voted candidate in it is picking the least voted
# candidate of all, unless none in it is open to the user (then every pair is looked at). Concurrent
# annotators start from different ids, so they spread over the task as the random tie-break did.
_WINDOW = """
SELECT id FROM pairs WHERE (:task IS NULL OR task_id = :task) AND n_votes < votes_wanted
ORDER BY n_votes, id < (SELECT abs(random()) % (MAX(id) + 1) FROM pairs), id LIMIT :window
"""
PICK_WINDOW = 64

# Each task's first :overlap_pairs pairs (those every annotator meets first).
_FIRST_PAIRS = """
SELECT p.id FROM tasks t JOIN pairs p
  ON p.id IN (SELECT p2.id FROM pairs p2 WHERE p2.task_id = t.id ORDER BY p2.id LIMIT :overlap_pairs)
WHERE :task IS NULL OR t.id = :task
"""


def _pick(db, params: dict) -> dict | None:
    """The pair serve_next would give the user now: their open assignment, else an overlap pair, else the least voted
    (looked for in a window of the least voted pairs first)."""
    chosen = one(
        db,
        f"""SELECT a.pair_id FROM assignments a JOIN pairs pr ON pr.id = a.pair_id
            WHERE {_OWN_OPEN} AND (:task IS NULL OR pr.task_id = :task) ORDER BY a.served_at LIMIT 1""",
        params,
    )
    if chosen is None and params["overlap_pairs"]:
        chosen = one(
            db,
            f"""SELECT pair_id FROM ({_CANDIDATES}) WHERE pair_id IN ({_FIRST_PAIRS}) AND load < MIN(:overlap_votes, votes_wanted)
                ORDER BY load DESC, pair_id LIMIT 1""",
            params,
        )
    if chosen is None:  # the window keeps the pick's cost from growing with the task (1.6 ms at 2100 pairs, 0.6 in a window)
        chosen = one(db, f"SELECT pair_id FROM ({_CANDIDATES} AND pr.id IN ({_WINDOW})) ORDER BY n_votes, load, random() LIMIT 1",
                     {**params, "window": PICK_WINDOW})
    if chosen is None:
        chosen = one(db, f"SELECT pair_id FROM ({_CANDIDATES}) ORDER BY n_votes, load, random() LIMIT 1", params)
    return chosen


def _still_free(db, pair_id: int, params: dict) -> bool:
    """Whether the pair is still the user's open assignment, or still a candidate for them (not full, not voted, not skipped)."""
    return one(
        db,
        f"""SELECT 1 AS ok FROM assignments a WHERE a.pair_id = :pair AND {_OWN_OPEN}
            UNION ALL SELECT 1 FROM ({_CANDIDATES}) WHERE pair_id = :pair LIMIT 1""",
        {**params, "pair": pair_id},
    ) is not None


PICK_ATTEMPTS = 3  # picks on a read snapshot taken by another annotator first before picking under the lock


def serve_next(store: Store, user_id: int, task_id: int | None, now: float, cutoff: float, swap: bool,
               overlap_pairs: int = 0, overlap_votes: int = 2) -> dict | None:
    """Assign the user a pair that still needs votes and record it; None when nothing is left.

    Reuses the user's open assignment if there is one. Otherwise picks, among pairs the user has
    neither voted on nor skipped and whose load is below votes_wanted: first an overlap pair (one of
    its task's first `overlap_pairs` pairs, loaded below `overlap_votes`), the most loaded one, then
    the oldest, so the first annotators meet on the same pairs; else the one with the fewest votes,
    then the lowest load, then at random within a window (_WINDOW), which spreads concurrent annotators over pairs.
    `swap` is used only for a pair the user was never served before: the side stays put on re-serve.

    The pick scans the task's pairs, so it runs on this thread's read connection, outside the
    write lock every vote waits on; the write transaction only checks that the pair is still free
    (no pair is ever overfilled) and records the assignment. After PICK_ATTEMPTS lost races the
    pick runs inside the transaction.
    """
    params = {"user": user_id, "task": task_id, "cutoff": cutoff, "overlap_pairs": overlap_pairs,
              "overlap_votes": overlap_votes}
    for _ in range(PICK_ATTEMPTS):
        chosen = _pick(store.read(), params)
        if chosen is None:
            return None
        with store.write() as db:
            if _still_free(db, chosen["pair_id"], params):
                return _record(db, chosen["pair_id"], user_id, swap, now)
    with store.write() as db:
        chosen = _pick(db, params)
        return None if chosen is None else _record(db, chosen["pair_id"], user_id, swap, now)


def _record(db, pair_id: int, user_id: int, swap: bool, now: float) -> dict:
    db.execute(
        """INSERT INTO assignments (pair_id, user_id, swapped, served_at, skipped) VALUES (?, ?, ?, ?, 0)
           ON CONFLICT (pair_id, user_id) DO UPDATE SET served_at = excluded.served_at""",
        (pair_id, user_id, int(swap), now),
    )
    return one(db, "SELECT pair_id, user_id, swapped, served_at FROM assignments WHERE pair_id = ? AND user_id = ?", (pair_id, user_id))


def skip(store: Store, pair_id: int, user_id: int) -> bool:
    """Mark a served pair as skipped by the user; False if it was never served to them."""
    with store.write() as db:
        return db.execute(
            "UPDATE assignments SET skipped = 1 WHERE pair_id = ? AND user_id = ?", (pair_id, user_id)
        ).rowcount > 0


def remaining_for(store: Store, user_id: int, task_id: int | None) -> int:
    """How many pairs still want votes that the user has neither voted on nor skipped.

    Pairs promised to other annotators right now count: they come back if those annotators do not
    answer. Counted from the partial index of pairs wanting votes, minus the user's own votes and
    skips on them, so the count costs little however many pairs a task has."""
    db, params = store.read(), {"user": user_id, "task": task_id}
    wanting = "pr.n_votes < pr.votes_wanted AND (:task IS NULL OR pr.task_id = :task)"
    total = one(db, f"SELECT COUNT(*) AS n FROM pairs pr WHERE {wanting}", params)["n"]
    done = one(db, f"""SELECT COUNT(*) AS n FROM pairs pr WHERE {wanting} AND pr.id IN (
                           SELECT pair_id FROM votes WHERE user_id = :user
                           UNION SELECT pair_id FROM assignments WHERE user_id = :user AND skipped = 1)""", params)["n"]
    return total - done


def open_slots(store: Store, task_id: int, user_ids: list[int], n_users: int) -> int:
    """How many more votes `n_users` annotators (the accounts among them that exist: `user_ids`) could give the
    task's pairs: per pair wanting votes, the votes it still wants, at most the annotators who have neither
    voted on nor skipped it."""
    marks = ",".join("?" for _ in user_ids) or "NULL"
    wanting = rows(store.read(), f"""
        SELECT pr.votes_wanted - pr.n_votes AS wanted,
               (SELECT COUNT(*) FROM (SELECT user_id FROM votes WHERE pair_id = pr.id AND user_id IN ({marks})
                                      UNION SELECT user_id FROM assignments
                                            WHERE pair_id = pr.id AND skipped = 1 AND user_id IN ({marks}))) AS done
        FROM pairs pr WHERE pr.task_id = ? AND pr.n_votes < pr.votes_wanted""", (*user_ids, *user_ids, task_id))
    return sum(min(r["wanted"], n_users - r["done"]) for r in wanting)
