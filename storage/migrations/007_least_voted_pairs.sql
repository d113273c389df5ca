-- The pairs still wanting votes indexed by task, vote count and id, so an annotator's next pair is
-- picked from a window of the least-voted ones read off the index (storage/assignments.py), not by
-- looking at every pair; it also serves the count of pairs left, as the index it replaces did.
CREATE INDEX pairs_least_voted ON pairs (task_id, n_votes, id) WHERE n_votes < votes_wanted;
DROP INDEX pairs_wanting_votes;
