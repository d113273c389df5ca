"""The votes table: one vote per pair and annotator, choice and ratings in pair terms (a/b, not left/right)."""

from __future__ import annotations

from storage import outputs
from storage.db import Store, one, rows
from storage.errors import UserError
from storage.terms import AXES, CHOICES, CORRECTION, HUMAN, A, B

RATINGS = tuple(f"{axis}_{side}" for side in (A, B) for axis in AXES)  # concept_a, content_a, concept_b, content_b
_OTHER_SIDE = {A: B, B: A}

_VOTE_SELECT = """
SELECT v.*, u.username, u.simulated, pr.task_id, pr.prompt_id, pr.output_a, pr.output_b, pr.gold, pr.votes_wanted,
       oa.strategy AS strategy_a, ob.strategy AS strategy_b, oa.model AS model_a, ob.model AS model_b
FROM votes v
JOIN users u ON u.id = v.user_id
JOIN pairs pr ON pr.id = v.pair_id
JOIN outputs oa ON oa.id = pr.output_a
JOIN outputs ob ON ob.id = pr.output_b
"""


def record_vote(
    store: Store,
    pair_id: int,
    user_id: int,
    choice: str,
    ratings: dict[str, int | None] | None = None,
    correction: str | None = None,
    now: float | None = None,
    as_seen: bool = False,
) -> tuple[dict, bool]:
    """Store the user's vote on a pair served to them; returns (vote row, created).

    A second submission for the same pair and user stores nothing and returns the first vote with
    created=False, so a double click or a retried request is acknowledged identically. A non-empty
    correction is also stored as an output (model 'human', strategy 'correction') in the same
    transaction, so it can serve as a training target. With as_seen, choice and ratings name the sides
    as the annotator saw them (a = left) and the assignment's swap is undone here.
    """
    if choice not in CHOICES:
        raise UserError(f"choice must be one of {', '.join(CHOICES)}, not {choice!r}")
    ratings = {k: v for k, v in (ratings or {}).items() if v is not None}
    for key, value in ratings.items():
        if key not in RATINGS or not isinstance(value, int) or not 1 <= value <= 5:
            raise UserError(f"rating {key} must be a whole number from 1 to 5")
    correction = (correction or "").strip() or None
    with store.write() as db:
        existing = one(db, "SELECT * FROM votes WHERE pair_id = ? AND user_id = ?", (pair_id, user_id))
        if existing is not None:
            return existing, False
        assignment = one(db, "SELECT * FROM assignments WHERE pair_id = ? AND user_id = ?", (pair_id, user_id))
        if assignment is None:
            raise UserError(f"pair {pair_id} was not served to you; ask for the next pair")
        if as_seen and assignment["swapped"]:
            choice = _OTHER_SIDE.get(choice, choice)
            ratings = {f"{key[:-1]}{_OTHER_SIDE[key[-1]]}": value for key, value in ratings.items()}
        seconds = None if now is None else max(0.0, now - assignment["served_at"])
        cols = ["pair_id", "user_id", "choice", "swapped", "correction", "seconds", *ratings]
        values = [pair_id, user_id, choice, assignment["swapped"], correction, seconds, *ratings.values()]
        cur = db.execute(
            f"INSERT INTO votes ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", tuple(values)
        )
        if correction:
            pair = one(db, "SELECT task_id, prompt_id FROM pairs WHERE id = ?", (pair_id,))
            outputs.add_output(
                store, pair["task_id"], pair["prompt_id"], model=HUMAN, strategy=CORRECTION,
                params={"pair_id": pair_id, "user_id": user_id}, seed=0, text=correction, source="human",
            )
        return one(db, "SELECT * FROM votes WHERE id = ?", (cur.lastrowid,)), True


def list_votes(store: Store, task_id: int | None = None, split: str | None = None) -> list[dict]:
    """Votes with the annotator's name and simulated flag and both sides' strategy and model (of one task, one
    prompt split, if given)."""
    where, params = [], []
    if task_id is not None:
        where.append("pr.task_id = ?")
        params.append(task_id)
    if split is not None:
        where.append("pr.prompt_id IN (SELECT id FROM prompts WHERE split = ?)")
        params.append(split)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return rows(store.read(), f"{_VOTE_SELECT} {clause} ORDER BY v.id", tuple(params))


def shared_choices(store: Store, user_id: int, task_id: int | None = None) -> list[dict]:
    """Every vote (pair_id, user_id, choice) on the pairs the user voted on that others voted on too
    (of one task, if given): what that user's agreement with the majority needs, read without the
    joins of list_votes, since the Annotate tab asks for it after every vote."""
    sql = """SELECT v.pair_id, v.user_id, v.choice FROM votes v JOIN pairs pr ON pr.id = v.pair_id
             WHERE v.pair_id IN (SELECT pair_id FROM votes WHERE user_id = :user) AND pr.n_votes > 1
               AND (:task IS NULL OR pr.task_id = :task)"""
    return rows(store.read(), sql, {"user": user_id, "task": task_id})


def count_votes(store: Store, user_id: int | None = None, task_id: int | None = None) -> int:
    """How many votes are stored (by one user, in one task, if given)."""
    sql = "SELECT COUNT(*) AS n FROM votes v JOIN pairs pr ON pr.id = v.pair_id WHERE (:user IS NULL OR v.user_id = :user) AND (:task IS NULL OR pr.task_id = :task)"
    return one(store.read(), sql, {"user": user_id, "task": task_id})["n"]
