-- Whether an assignment has been answered (a vote by its user on its pair), kept by triggers, so the
-- open assignments (served, unexpired, unskipped, unanswered) are read from a small partial index
-- instead of looking up a vote for every assignment on every request; and a partial index of the
-- pairs that still want votes, so counting an annotator's pairs left reads only those.
ALTER TABLE assignments ADD COLUMN answered INTEGER NOT NULL DEFAULT 0;
UPDATE assignments SET answered = EXISTS (SELECT 1 FROM votes v WHERE v.pair_id = assignments.pair_id AND v.user_id = assignments.user_id);
CREATE TRIGGER votes_answer_insert AFTER INSERT ON votes BEGIN
    UPDATE assignments SET answered = 1 WHERE pair_id = NEW.pair_id AND user_id = NEW.user_id;
END;
CREATE TRIGGER votes_answer_delete AFTER DELETE ON votes BEGIN
    UPDATE assignments SET answered = 0 WHERE pair_id = OLD.pair_id AND user_id = OLD.user_id;
END;
CREATE INDEX assignments_open ON assignments (pair_id, served_at) WHERE answered = 0 AND skipped = 0;
CREATE INDEX pairs_wanting_votes ON pairs (task_id) WHERE n_votes < votes_wanted;
