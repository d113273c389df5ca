"""Storage: migrations from empty, WAL store, outputs/pairs/jobs functions, concurrent writers lose nothing."""

import sqlite3
import threading

import pytest

from storage import jobs, migrations, outputs, pairs, users
from storage.db import Store, one, rows
from storage.errors import UserError


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "r.db")
    yield s
    s.close()


def _task_and_prompt(store):
    with store.write() as db:
        t = db.execute("INSERT INTO tasks (name, title, concept, guidelines, prompt_set) VALUES ('t', 'T', 'c', 'g', 'ps')").lastrowid
        p = db.execute("INSERT INTO prompts (prompt_set, ext_id, text, split) VALUES ('ps', 'p1', 'Why?', 'train')").lastrowid
    return t, p


def test_migrations_from_empty_create_every_table(tmp_path):
    s = Store(tmp_path / "new.db")
    names = {r["name"] for r in rows(s.read(), "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "tasks", "prompts", "models", "outputs", "pairs", "votes", "jobs", "metrics"} <= names
    versions = [r["version"] for r in rows(s.read(), "SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [v for v, _ in migrations.available()]
    assert one(s.read(), "PRAGMA journal_mode")["journal_mode"] == "wal"
    s.close()
    assert migrations.migrate(Store(tmp_path / "new.db")._writer) == []  # second open applies nothing


def _old_database(tmp_path, before: int) -> sqlite3.Connection:
    """A database file migrated up to (not including) version `before`, with one pair and two annotators."""
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, path in migrations.available():
        if version < before:
            for statement in migrations._statements(path.read_text()):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
    db.execute("INSERT INTO tasks (name, title, concept, guidelines, prompt_set) VALUES ('t', 'T', 'c', 'g', 'ps')")
    db.execute("INSERT INTO prompts (prompt_set, ext_id, text, split) VALUES ('ps', 'p1', 'Why?', 'train')")
    db.execute("INSERT INTO outputs (task_id, prompt_id, model, strategy, params_hash, text) VALUES (1, 1, 'm', 'a', 'h', 'one')")
    db.execute("INSERT INTO outputs (task_id, prompt_id, model, strategy, params_hash, text) VALUES (1, 1, 'm', 'b', 'h', 'two')")
    db.execute("INSERT INTO pairs (task_id, prompt_id, output_a, output_b) VALUES (1, 1, 1, 2)")
    for name in ("ann", "bob"):
        db.execute("INSERT INTO users (username, password_hash, role) VALUES (?, 'h', 'annotator')", (name,))
    return db


def test_pair_vote_counts_are_backfilled_and_follow_votes(tmp_path):
    # A database from before migration 005, with a vote cast, then opened by this version.
    db = _old_database(tmp_path, before=5)
    db.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (1, 1, 'a', 0)")
    db.close()
    s = Store(tmp_path / "old.db")
    count = lambda: one(s.read(), "SELECT n_votes FROM pairs WHERE id = 1")["n_votes"]  # noqa: E731
    assert count() == 1
    with s.write() as w:
        w.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (1, 2, 'b', 0)")
    assert count() == 2 == pairs.get_pair(s, 1)["n_votes"]
    with s.write() as w:
        w.execute("DELETE FROM votes WHERE user_id = 1")
    assert count() == 1
    s.close()


def test_answered_assignments_are_backfilled_and_follow_votes(tmp_path):
    # A database from before migration 006: a pair served to two annotators, one of whom voted.
    db = _old_database(tmp_path, before=6)
    for user in (1, 2):
        db.execute("INSERT INTO assignments (pair_id, user_id, swapped, served_at) VALUES (1, ?, 0, 1.0)", (user,))
    db.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (1, 1, 'a', 0)")
    db.close()
    s = Store(tmp_path / "old.db")
    answered = lambda: [r["answered"] for r in rows(s.read(), "SELECT answered FROM assignments ORDER BY user_id")]  # noqa: E731
    assert answered() == [1, 0]
    with s.write() as w:
        w.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (1, 2, 'b', 0)")
    assert answered() == [1, 1]
    with s.write() as w:
        w.execute("DELETE FROM votes WHERE user_id = 1")
    assert answered() == [0, 1]
    s.close()


def test_validation_split_migration_keeps_prompts_ids_index_and_foreign_keys(tmp_path):
    # A database from before migration 008 (prompts CHECK allowed only train/eval), with outputs and a pair.
    db = _old_database(tmp_path, before=8)
    db.execute("INSERT INTO prompts (prompt_set, ext_id, text, reference, key_facts, split) VALUES ('ps', 'p2', 'How?', 'R', '[[\"r\"]]', 'eval')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO prompts (prompt_set, ext_id, text, split) VALUES ('ps', 'v', 'V?', 'validation')")
    db.row_factory = sqlite3.Row
    before = [dict(r) for r in db.execute("SELECT * FROM prompts ORDER BY id")]
    db.close()
    s = Store(tmp_path / "old.db")
    assert rows(s.read(), "SELECT * FROM prompts ORDER BY id") == before
    assert [r["prompt_id"] for r in rows(s.read(), "SELECT prompt_id FROM outputs ORDER BY id")] == [1, 1]
    assert one(s.read(), "SELECT prompt_id FROM pairs")["prompt_id"] == 1
    indexes = {r["name"] for r in rows(s.read(), "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'prompts'")}
    assert "prompts_set_split" in indexes and any(n.startswith("sqlite_autoindex_prompts") for n in indexes)
    assert one(s._writer, "PRAGMA foreign_keys")["foreign_keys"] == 1  # restored after the rebuild
    with s.write() as w:
        w.execute("INSERT INTO prompts (prompt_set, ext_id, text, split) VALUES ('ps', 'v', 'V?', 'validation')")
    for bad in (
        "INSERT INTO prompts (prompt_set, ext_id, text, split) VALUES ('ps', 'x', 'X?', 'test')",  # the CHECK still holds
        "INSERT INTO prompts (prompt_set, ext_id, text, split) VALUES ('ps', 'p1', 'again', 'train')",  # and the unique key
        "DELETE FROM prompts WHERE id = 1",  # outputs and pairs still point at it
        "INSERT INTO outputs (task_id, prompt_id, model, strategy, params_hash, text) VALUES (1, 99, 'm', 'c', 'h', 'x')",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            with s.write() as w:
                w.execute(bad)
    assert [r["split"] for r in rows(s.read(), "SELECT split FROM prompts ORDER BY id")] == ["train", "eval", "validation"]
    s.close()


def test_accounts_from_before_the_simulated_flag_are_people(tmp_path):
    # A database from before migration 010: its accounts are people's; the pilot's are marked from then on.
    _old_database(tmp_path, before=10).close()
    s = Store(tmp_path / "old.db")
    assert [(u["username"], u["simulated"]) for u in users.list_users(s)] == [("ann", 0), ("bob", 0)]
    users.add_user(s, "sim-t-1", "h", "annotator", simulated=True)
    assert users.get_user(s, "sim-t-1")["simulated"] == 1
    s.close()


def test_a_migration_that_breaks_a_foreign_key_is_rolled_back(tmp_path, monkeypatch):
    _old_database(tmp_path, before=9).close()  # outputs and a pair point at prompt 1
    bad = tmp_path / "999_bad.sql"
    bad.write_text("DELETE FROM prompts;\n")
    shipped = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [*shipped, (999, bad)])
    with pytest.raises(RuntimeError, match="999_bad.sql would break foreign keys"):
        Store(tmp_path / "old.db")
    monkeypatch.setattr(migrations, "available", lambda: shipped)
    s = Store(tmp_path / "old.db")
    assert one(s.read(), "SELECT COUNT(*) AS n FROM prompts")["n"] == 1
    assert 999 not in {r["version"] for r in rows(s.read(), "SELECT version FROM schema_migrations")}
    s.close()


def test_failed_write_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.write() as db:
            db.execute("INSERT INTO tasks (name, title, concept, guidelines, prompt_set) VALUES ('x', 'X', 'c', 'g', 'ps')")
            raise RuntimeError("boom")
    assert rows(store.read(), "SELECT * FROM tasks") == []


def test_outputs_are_idempotent_and_pairs_skip_identical_texts(store):
    t, p = _task_and_prompt(store)
    a = outputs.add_output(store, t, p, "weak", "weak", {"max_new_tokens": 8}, 0, "Arr, Sydney")
    assert outputs.add_output(store, t, p, "weak", "weak", {"max_new_tokens": 8}, 0, "other text") == a
    b = outputs.add_output(store, t, p, "strong", "strong-base", {"max_new_tokens": 8}, 0, "Canberra")
    c = outputs.add_output(store, t, p, "strong", "icl-refine", {"max_new_tokens": 8}, 0, "Canberra")
    assert outputs.find_output(store, t, p, "weak", "weak", {"max_new_tokens": 8}, 0)["text"] == "Arr, Sydney"
    assert pairs.create_pairs(store, t, [(p, b, c)], 2) == []  # identical texts
    (pair_id,) = pairs.create_pairs(store, t, [(p, a, b)], 2, batch="weak vs strong-base")
    assert pairs.create_pairs(store, t, [(p, b, a)], 2) == []  # same pair, other order
    pair = pairs.get_pair(store, pair_id)
    assert (pair["text_a"], pair["strategy_b"], pair["n_votes"]) == ("Arr, Sydney", "strong-base", 0)
    with pytest.raises(UserError, match="gold answer"):
        pairs.set_gold(store, pair_id, "left")
    with pytest.raises(UserError, match="no pair"):
        pairs.get_pair(store, 999)


def test_votes_are_unique_per_pair_and_annotator(store):
    t, p = _task_and_prompt(store)
    a = outputs.add_output(store, t, p, "m", "weak", {}, 0, "one")
    b = outputs.add_output(store, t, p, "m", "strong-base", {}, 0, "two")
    (pair_id,) = pairs.create_pairs(store, t, [(p, a, b)], 2)
    with store.write() as db:
        u = db.execute("INSERT INTO users (username, password_hash, role) VALUES ('ann', 'h', 'annotator')").lastrowid
        db.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (?, ?, 'a', 0)", (pair_id, u))
    with pytest.raises(sqlite3.IntegrityError):
        with store.write() as db:
            db.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (?, ?, 'b', 1)", (pair_id, u))
    assert [r["choice"] for r in rows(store.read(), "SELECT choice FROM votes")] == ["a"]


def test_twenty_threads_writing_fifty_votes_each_lose_nothing(store):
    t, p = _task_and_prompt(store)
    with store.write() as db:
        users = [db.execute("INSERT INTO users (username, password_hash, role) VALUES (?, 'h', 'annotator')", (f"u{i}",)).lastrowid for i in range(20)]
    pair_ids = []
    for i in range(50):
        a = outputs.add_output(store, t, p, "m", "weak", {"i": i}, 0, f"a{i}")
        b = outputs.add_output(store, t, p, "m", "strong-base", {"i": i}, 0, f"b{i}")
        pair_ids += pairs.create_pairs(store, t, [(p, a, b)], 20)
    errors = []

    def annotate(user_id):
        try:
            for pair_id in pair_ids:
                with store.write() as db:
                    db.execute("INSERT INTO votes (pair_id, user_id, choice, swapped) VALUES (?, ?, 'a', 0)", (pair_id, user_id))
                store.read()  # each thread also reads on its own connection
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=annotate, args=(u,)) for u in users]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    # a second process-level connection sees every committed vote
    other = Store(store.path)
    assert one(other.read(), "SELECT COUNT(*) AS n FROM votes")["n"] == 20 * 50
    other.close()


def test_jobs_claim_is_atomic_and_stale_jobs_are_taken_over(store):
    first = jobs.enqueue(store, "generate", {"n": 1})
    jobs.enqueue(store, "train", {"n": 2})
    claimed = jobs.claim(store, "w1")
    assert claimed["id"] == first and claimed["status"] == "running" and claimed["params"] == {"n": 1}
    assert jobs.claim(store, "w2")["id"] != first  # the running job is not handed out twice
    assert jobs.claim(store, "w3") is None
    # worker w1 dies: its heartbeat goes stale and the next claim takes the job over
    assert jobs.claim(store, "w4", stale_after_s=-1)["attempts"] >= 2
    with pytest.raises(UserError, match="unknown job kind"):
        jobs.enqueue(store, "dance", {})


def test_cancel_queued_job_ends_it(store):
    j = jobs.enqueue(store, "evaluate", {})
    assert jobs.request_cancel(store, j)["status"] == "cancelled"
    with pytest.raises(UserError, match="already ended"):
        jobs.request_cancel(store, j)


def test_background_checkpoint_copies_the_wal_into_the_database_file(tmp_path, monkeypatch):
    import time

    from storage import db as storage_db

    monkeypatch.setattr(storage_db, "CHECKPOINT_EVERY_S", 0.05)
    path = tmp_path / "c.db"
    store = Store(path, background_checkpoint=True)
    assert one(store._writer, "PRAGMA wal_autocheckpoint")["wal_autocheckpoint"] == 0  # no commit checkpoints
    task_id, prompt_id = _task_and_prompt(store)
    size = path.stat().st_size
    for i in range(50):  # 500 kB, far below the 4 MB at which a commit would checkpoint
        outputs.add_output(store, task_id, prompt_id, "m", "s", {}, i, f"text {i} " + "x" * 10_000)
    deadline = time.time() + 10
    while path.stat().st_size < size + 400_000 and time.time() < deadline:  # only a checkpoint writes the file
        time.sleep(0.05)
    assert path.stat().st_size >= size + 400_000
    store.close()
