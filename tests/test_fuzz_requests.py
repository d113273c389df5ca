"""Every bad request is a 4xx, never a 500, and stores nothing: the Annotate tab's JSON routes and
Gradio's (queue, cancel, reset, run, call) over real HTTP, and the two import commands (`prompts
import`, `import`) through app.py, fed deep nesting, huge numbers, NaN and Infinity, wrong types and
oversized bodies."""

import csv
import json

import pytest

import app
from storage import jobs, users, votes
from storage import tasks as task_store
from storage.db import Store
from tests.fixtures_annotation import make_task
from tests.fixtures_app import AnnotatePage, running_app

DEEP = "[" * 30_000 + "]" * 30_000  # 60 KB: past the depth Python's json parser can reach
HUGE = ["2" * 5000, str(2**63), str(10**30), str(-(2**63) - 1), "1e999", "-1e999", "NaN", "Infinity", "-Infinity"]
WRONG = ["true", "null", "[]", "{}", '"x"', "1.5", "-1", "0", '{"a": [1, {"b": null}]}', '"' + "é" * 50 + '"']
ROUTES = ("open", "next", "skip", "vote")
FIELDS = ("pair_id", "task", "verdict", "correction", "ratings")
FINE = {"task": {"null"}, "correction": {"null", '"x"', WRONG[-1]}, "ratings": {"null", "{}", WRONG[-2]}}  # valid votes


def bad_bodies(pair_id: int) -> list[str]:
    """Raw JSON bodies: a valid vote with one field replaced by each bad value, and whole-body oddities."""
    good = {"pair_id": pair_id, "task": "toy", "verdict": "A is better", "correction": "", "ratings": {}}
    bodies = [DEEP, '{"task": ' + DEEP + "}", "NaN", "[1, 2]", '"text"', "{", "\x00", "{}" + " " * 300_000,
              json.dumps({**good, "correction": "x" * 300_000})]
    for field in FIELDS:
        for value in [DEEP, *HUGE, *(w for w in WRONG if w not in FINE.get(field, ()))]:
            parts = [f'"{k}": {value if k == field else json.dumps(v)}' for k, v in good.items()]
            bodies.append("{" + ", ".join(parts) + "}")
    for rating in ("left_concept", "right_content"):
        for value in [DEEP, *HUGE, '"7"', "7", "0", "true", "[3]", '"3.0"']:
            bodies.append(json.dumps({**good, "ratings": "X"}).replace('"X"', "{" + f'"{rating}": {value}' + "}"))
    return bodies


def test_no_json_route_answers_500_and_bad_votes_store_nothing(tmp_path):
    with running_app(tmp_path / "home", n_pairs=2) as (url, store):
        page = AnnotatePage(url, "ann")
        pair_id = page.call("next", task="toy")["pair_id"]
        before = votes.count_votes(store)
        statuses = {}
        for route in ROUTES:
            for body in bad_bodies(pair_id):
                response = page.http.post(f"/refinery/annotate/{route}", content=body.encode("utf-8", "surrogatepass"),
                                          headers={"Content-Type": "application/json"})
                statuses.setdefault(response.status_code, []).append((route, body[:80]))
                assert response.status_code < 500, (route, body[:200], response.text[:300])
                if route == "vote":
                    assert response.status_code >= 400, (body[:200], response.text[:300])
                    assert "error" in response.json()
        assert 500 not in statuses
        assert votes.count_votes(store) == before  # no bad vote was stored
        assert len(statuses[400]) > len(ROUTES) * len(FIELDS) * 10
        # the pair is still on screen and still takes a good vote
        assert page.call("vote", task="toy", verdict="Tie", ratings={"left_concept": 3, "right_content": "4"})["reveal"]


GRADIO_ROUTES = ("/gradio_api/queue/join", "/gradio_api/cancel", "/gradio_api/reset", "/gradio_api/run/research_export",
                 "/gradio_api/call/research_export")


def test_no_gradio_json_route_answers_500_or_drops_the_connection(tmp_path):
    with running_app(tmp_path / "home", n_pairs=1) as (url, store):
        before = (users.list_users(store), jobs.list_jobs(store), votes.count_votes(store))
        for name in ("ann", "res"):
            page = AnnotatePage(url, name)
            for path in GRADIO_ROUTES:
                for value in [DEEP, *HUGE, *WRONG]:
                    for body in (value, '{"data": [' + value + '], "fn_index": 0, "session_hash": "fuzz"}',
                                 '{"data": [], "fn_index": ' + value + ', "session_hash": "fuzz"}'):
                        response = page.http.post(path, content=body, headers={"Content-Type": "application/json"})
                        assert response.status_code < 500, (name, path, body[:100], response.text[:300])
        assert (users.list_users(store), jobs.list_jobs(store), votes.count_votes(store)) == before


BAD_LINES = [
    '{"prompt": ' + DEEP + "}",
    DEEP,
    '{"prompt": "q", "answer": NaN}',
    '{"prompt": "q", "answer": Infinity}',
    '{"prompt": "q", "answer": -Infinity}',
    '{"prompt": "q", "answer": 1e999}',
    '{"prompt": "q", "answer": ' + "9" * 5000 + "}",
    '{"prompt": "q", "answer": true}',
    '{"prompt": "q", "answer": [1]}',
    '{"prompt": "q", "key_facts": ' + DEEP + "}",
    '{"prompt": "q", "key_facts": [[' + "[" * 900 + "]" * 900 + "]]}",
    '{"prompt": 10000000000000000000000000000000}',
    '{"prompt": {"a": NaN}}',
    '{"prompt": "q", "split": []}',
    '{"prompt": "q", "reference": 2e308}',
    '{"prompt": "' + "x" * 30_000 + '"}',
]
BAD_PREFERENCES = [
    '{"prompt": "q", "chosen": "a", "rejected": ' + DEEP + "}",
    '{"prompt": ' + DEEP + ', "chosen": "a", "rejected": "b"}',
    '{"prompt": "q", "chosen": NaN, "rejected": "b"}',
    '{"prompt": "q", "chosen": [{"role": "assistant", "content": ' + "1" * 5000 + '}], "rejected": "b"}',
    '{"prompt": "q", "chosen": "a", "rejected": "b", "split": 1e999}',
    '{"prompt": "q", "chosen": "a", "rejected": "b", "id": Infinity}',
]


@pytest.mark.parametrize("line", BAD_LINES, ids=range(len(BAD_LINES)))
def test_prompts_import_refuses_every_bad_line_with_its_number(tmp_path, capsys, line):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "a good first line"}\n' + line + "\n")
    code = app.main(["--home", str(tmp_path / "home"), "prompts", "import", "--set", "fuzz", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "p.jsonl line 2" in err and "Traceback" not in err, err[:500]
    assert len(err) < 1000  # the message names the fault; it does not echo the file
    assert task_store.count_prompts(Store(tmp_path / "home" / "refinery.db"), "fuzz") == 0


@pytest.mark.parametrize("line", BAD_PREFERENCES, ids=range(len(BAD_PREFERENCES)))
def test_preference_import_refuses_every_bad_line_with_its_number(tmp_path, capsys, line):
    home = tmp_path / "home"
    store = Store(home / "refinery.db")
    make_task(store)
    path = tmp_path / "prefs.jsonl"
    path.write_text('{"prompt": "q0", "chosen": "a", "rejected": "b"}\n' + line + "\n")
    code = app.main(["--home", str(home), "import", "--task", "toy", "--file", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "prefs.jsonl line 2" in err and "Traceback" not in err, err[:500]
    assert len(err) < 1000
    assert task_store.count_prompts(store, "toy-imported") == 0


@pytest.mark.parametrize("cell", ["[" * 30_000, "[" * 30_000 + "]" * 30_000, "[[NaN]]", '[["a", 1e999]]', "[[" + "9" * 5000 + "]]"])
def test_prompts_import_refuses_a_bad_key_facts_cell_in_csv(tmp_path, capsys, cell):
    path = tmp_path / "p.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([["prompt", "key_facts"], ["fine", "Canberra"], ["q", cell]])
    code = app.main(["--home", str(tmp_path / "home"), "prompts", "import", "--set", "fuzz", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "p.csv line 3, field 'key_facts'" in err and "Traceback" not in err and len(err) < 1000, err[:500]
    assert task_store.count_prompts(Store(tmp_path / "home" / "refinery.db"), "fuzz") == 0

