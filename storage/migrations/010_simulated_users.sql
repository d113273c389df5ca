-- Accounts of simulated annotators (the pilot, `python app.py pilot`), not people: their votes are ordinary
-- votes in the same tables, and this flag is what lets an export, the agreement table or `users list`
-- tell them apart.
ALTER TABLE users ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
