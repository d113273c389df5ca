"""20 annotators at once on 30 pairs with k=2: every pair ends with exactly 2 votes from distinct annotators."""

import random
import threading
from collections import defaultdict

from feedback import assignment
from storage import votes
from storage.db import Store
from tests.fixtures_annotation import make_pairs, make_task, make_users


def test_twenty_annotators_thirty_pairs(settings):
    setup = Store(settings.db_path)
    task = make_task(setup)
    pair_ids = make_pairs(setup, task, 30, votes_wanted=2)
    user_ids = make_users(setup, 20)
    store = Store(settings.db_path)  # the app's store, shared by all handler threads
    acked = defaultdict(list)
    errors = []
    start = threading.Barrier(len(user_ids))

    def annotate(user_id: int) -> None:
        rng = random.Random(user_id)
        start.wait()
        try:
            while True:
                view = assignment.next_pair(store, user_id, task, timeout_s=600, rng=rng)
                if view is None:
                    return
                vote, _ = assignment.submit(store, user_id, view["pair_id"], rng.choice(assignment.VERDICTS))
                acked[user_id].append(vote["id"])
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=annotate, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    stored = votes.list_votes(Store(settings.db_path), task)
    assert sum(len(v) for v in acked.values()) == len(stored) == 60  # every acknowledged vote is committed
    by_pair = defaultdict(list)
    for v in stored:
        by_pair[v["pair_id"]].append(v["user_id"])
    assert set(by_pair) == set(pair_ids)
    assert all(len(u) == 2 and len(set(u)) == 2 for u in by_pair.values())
