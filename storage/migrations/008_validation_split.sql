-- A third prompt split, 'validation', for choosing rows, learning rates and steps without looking at
-- the eval split. SQLite cannot change a CHECK constraint in place, so the prompts table is rebuilt
-- (SQLite's documented recipe): same columns, ids, unique key and index; outputs and pairs keep
-- pointing at the same ids. migrate() turns foreign keys off for the rebuild and runs
-- PRAGMA foreign_key_check before it commits.
CREATE TABLE prompts_new (
    id INTEGER PRIMARY KEY,
    prompt_set TEXT NOT NULL,
    ext_id TEXT NOT NULL,             -- id in the source file
    text TEXT NOT NULL,
    reference TEXT,                   -- short reference answer
    key_facts TEXT NOT NULL DEFAULT '[]',  -- JSON list of alias lists
    answer TEXT,                      -- exact answer (math)
    split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'eval')),
    UNIQUE (prompt_set, ext_id)
);
INSERT INTO prompts_new (id, prompt_set, ext_id, text, reference, key_facts, answer, split)
    SELECT id, prompt_set, ext_id, text, reference, key_facts, answer, split FROM prompts ORDER BY id;
DROP TABLE prompts;
ALTER TABLE prompts_new RENAME TO prompts;
CREATE INDEX prompts_set_split ON prompts (prompt_set, split);
