-- Each pair's vote count kept on the pair by triggers, so choosing an annotator's next pair reads a
-- column instead of counting votes per pair on every request; served_at indexed for open assignments.
ALTER TABLE pairs ADD COLUMN n_votes INTEGER NOT NULL DEFAULT 0;
UPDATE pairs SET n_votes = (SELECT COUNT(*) FROM votes v WHERE v.pair_id = pairs.id);
CREATE TRIGGER votes_count_insert AFTER INSERT ON votes BEGIN
    UPDATE pairs SET n_votes = n_votes + 1 WHERE id = NEW.pair_id;
END;
CREATE TRIGGER votes_count_delete AFTER DELETE ON votes BEGIN
    UPDATE pairs SET n_votes = n_votes - 1 WHERE id = OLD.pair_id;
END;
CREATE INDEX assignments_served ON assignments (served_at);
