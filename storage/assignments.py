"""The assignments table: which pair was served to which annotator, with which side on the left.

`serve_next` picks and records a pair in one write transaction, so two annotators asking at the
same moment are counted against each other and never overfill a pair.
"""

from __future__ import annotations

from storage.db import Store, one

# A pair's load: votes cast plus other annotators' unexpired, unskipped, unanswered assignments.
# `overlap`: the pair is among its task's first :overlap_pairs pairs and its load is below
# :overlap_votes (and below votes_wanted), so it is still gathering the votes agreement needs.
_CANDIDATES = """
SELECT pair_id, n_votes, n_out, votes_wanted,
       (c.pair_id IN (SELECT p2.id FROM pairs p2 WHERE p2.task_id = c.task_id ORDER BY p2.id LIMIT :overlap_pairs)
        AND n_votes + n_out < MIN(:overlap_votes, votes_wanted)) AS overlap
FROM (
SELECT pr.id AS pair_id, pr.task_id AS task_id,
       (SELECT COUNT(*) FROM votes v WHERE v.pair_id = pr.id) AS n_votes,
       (SELECT COUNT(*) FROM assignments a
          WHERE a.pair_id = pr.id AND a.user_id != :user AND a.skipped = 0 AND a.served_at > :cutoff
            AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.pair_id = a.pair_id AND v.user_id = a.user_id)) AS n_out,
       pr.votes_wanted
FROM pairs pr
WHERE (:task IS NULL OR pr.task_id = :task)
  AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.pair_id = pr.id AND v.user_id = :user)
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.pair_id = pr.id AND a.user_id = :user AND a.skipped = 1)
) c
"""


def serve_next(store: Store, user_id: int, task_id: int | None, now: float, cutoff: float, swap: bool,
               overlap_pairs: int = 0, overlap_votes: int = 2) -> dict | None:
    """Assign the user a pair that still needs votes and record it; None when nothing is left.

    Reuses the user's open assignment if there is one. Otherwise picks, among pairs the user has
    neither voted on nor skipped and whose load is below votes_wanted: first an overlap pair (one of
    its task's first `overlap_pairs` pairs, loaded below `overlap_votes`), the most loaded one, then
    the oldest, so the first annotators meet on the same pairs; else the one with the fewest votes,
    then the lowest load, then at random, which spreads concurrent annotators over pairs.
    `swap` is used only for a pair the user was never served before: the side stays put on re-serve.
    """
    params = {"user": user_id, "task": task_id, "cutoff": cutoff, "overlap_pairs": overlap_pairs,
              "overlap_votes": overlap_votes}
    with store.write() as db:
        open_one = one(
            db,
            """SELECT a.pair_id FROM assignments a JOIN pairs pr ON pr.id = a.pair_id
               WHERE a.user_id = :user AND a.skipped = 0 AND a.served_at > :cutoff AND (:task IS NULL OR pr.task_id = :task)
                 AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.pair_id = a.pair_id AND v.user_id = a.user_id)
               ORDER BY a.served_at LIMIT 1""",
            params,
        )
        if open_one is None:
            open_one = one(
                db,
                f"""SELECT pair_id FROM ({_CANDIDATES}) WHERE n_votes + n_out < votes_wanted
                    ORDER BY overlap DESC, CASE WHEN overlap THEN -(n_votes + n_out) ELSE 0 END,
                             CASE WHEN overlap THEN pair_id ELSE 0 END, n_votes, n_votes + n_out, random() LIMIT 1""",
                params,
            )
            if open_one is None:
                return None
        db.execute(
            """INSERT INTO assignments (pair_id, user_id, swapped, served_at, skipped) VALUES (?, ?, ?, ?, 0)
               ON CONFLICT (pair_id, user_id) DO UPDATE SET served_at = excluded.served_at""",
            (open_one["pair_id"], user_id, int(swap), now),
        )
        return one(db, "SELECT pair_id, user_id, swapped, served_at FROM assignments WHERE pair_id = ? AND user_id = ?",
                   (open_one["pair_id"], user_id))


def skip(store: Store, pair_id: int, user_id: int) -> bool:
    """Mark a served pair as skipped by the user; False if it was never served to them."""
    with store.write() as db:
        return db.execute(
            "UPDATE assignments SET skipped = 1 WHERE pair_id = ? AND user_id = ?", (pair_id, user_id)
        ).rowcount > 0


def remaining_for(store: Store, user_id: int, task_id: int | None, cutoff: float) -> int:
    """How many pairs the user could still be served now (not voted, not skipped, not full)."""
    return one(
        store.read(),
        f"SELECT COUNT(*) AS n FROM ({_CANDIDATES}) WHERE n_votes + n_out < votes_wanted",
        {"user": user_id, "task": task_id, "cutoff": cutoff, "overlap_pairs": 0, "overlap_votes": 0},
    )["n"]
