-- An annotator may skip a pair: it is not served to them again and no longer holds a slot.
ALTER TABLE assignments ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
CREATE INDEX assignments_user ON assignments (user_id);
CREATE INDEX votes_user ON votes (user_id);
