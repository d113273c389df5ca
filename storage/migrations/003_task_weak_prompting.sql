-- How the weak model is prompted for a task's weak labels: a cue before each question and
-- demonstrations given as prior chat turns (JSON [[prompt, answer], ...]).
ALTER TABLE tasks ADD COLUMN weak_cue TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN weak_examples TEXT NOT NULL DEFAULT '[]';
