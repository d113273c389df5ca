"""Handlers against the app launched on a free port (gradio_client for the Gradio events, HTTP for the
Annotate tab's routes): sign-in, votes, dedupe, bad input, role refusal."""

import json

import httpx
import pytest

from storage import users, votes
from tests.fixtures_app import AnnotatePage, Refused, running_app, signed_in


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("ui") / "home") as (url, store):
        yield url, store


client = signed_in


def test_unauthenticated_requests_are_refused(app):
    url, store = app
    before = votes.count_votes(store)
    for path in ("/config", "/gradio_api/info"):
        assert httpx.get(url + path).status_code == 401
    response = httpx.post(url + "/refinery/annotate/next", json={"task": "toy"})
    assert response.status_code == 401 and "sign in" in response.json()["error"]
    response = httpx.post(url + "/refinery/annotate/vote", json={"pair_id": 1, "verdict": "Tie"})
    assert response.status_code == 401
    response = httpx.post(url + "/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"})
    assert response.status_code == 401
    assert httpx.post(url + "/login", data={"username": "ann", "password": "wrong"}).status_code == 400
    assert votes.count_votes(store) == before


def test_vote_reveal_and_progress(app):
    url, store = app
    ann = AnnotatePage(url, "ann")
    shown = ann.call("next", task="toy")
    assert "Question" in shown["prompt"] and "pairs left for you: <b>4</b>" in shown["progress"]
    assert "Guidelines: Toy task toy" in shown["guidelines"]
    assert set(shown) == {"pair_id", "prompt", "left", "right", "progress", "guidelines"}  # no authors: blind until the vote
    answer = ann.call("vote", task="toy", verdict="A is better", correction="",
                      ratings={"left_concept": "5", "left_content": None, "right_concept": None, "right_content": "2"})
    assert "icl-refine" in answer["reveal"] and "weak" in answer["reveal"]
    assert "votes done: <b>1</b>" in answer["progress"] and "pairs left for you: <b>3</b>" in answer["progress"]
    user = users.get_user(store, "ann")
    (vote,) = [v for v in votes.list_votes(store) if v["user_id"] == user["id"]]
    left = "b" if vote["swapped"] else "a"
    right = "a" if left == "b" else "b"
    assert vote["choice"] == left and vote[f"concept_{left}"] == 5 and vote[f"content_{right}"] == 2


def test_double_submit_stores_one_vote(app):
    url, store = app
    ann = AnnotatePage(url, "ann2")
    ann.call("next", task="toy")
    first = ann.call("vote", task="toy", verdict="Tie")["reveal"]
    second = ann.call("vote", task="toy", verdict="A is better")["reveal"]
    assert "You voted: **a tie**" in first and "Already recorded" not in first
    assert "**Already recorded:** you voted **a tie**" in second and "changed nothing" in second
    user = users.get_user(store, "ann2")
    assert votes.count_votes(store, user_id=user["id"]) == 1


def test_bad_calls_are_refused_with_a_message_and_store_nothing(app):
    # The page sends JSON; the handlers check every value themselves.
    url, store = app
    ann = AnnotatePage(url, "ann")
    ann.call("next", task="toy")
    good = {"task": "toy", "verdict": "A is better", "correction": "", "ratings": {}}
    before = votes.count_votes(store)
    for change, message in (
        ({"ratings": {"left_concept": "7"}}, "A rating is one of 1, 2, 3, 4, 5"),
        ({"ratings": ["5"]}, "ratings must be a JSON object"),
        ({"correction": 42}, "must be text"),
        ({"verdict": "Maybe"}, "choose one of"),
        ({"verdict": None}, "Pick a verdict first"),
        ({"task": ["toy"]}, "Pick a task from the list"),
        ({"task": "no-such-task"}, "no-such-task"),
        ({"pair_id": "1"}, "pair id must be a whole number"),
        ({"pair_id": None}, "no pair on screen"),
        ({"pair_id": 10_000}, "not served to you"),
        ({"correction": "x" * 20_001}, "the limit is 20000"),
        ({"correction": "x" * 300_000}, "larger than"),
    ):
        with pytest.raises(Refused, match=message):
            ann.call("vote", **{**good, **change})
    for body, status, message in (([1, 2], 400, "JSON object"), ("not json", 400, "not valid JSON")):
        response = ann.http.post("/refinery/annotate/vote", content=body if isinstance(body, str) else str(body),
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == status and message in response.json()["error"]
    # a cross-site form cannot post JSON without the browser asking first; a form post is refused
    form = ann.http.post("/refinery/annotate/vote", data={"verdict": "Tie", "pair_id": "1"})
    assert form.status_code == 415
    assert ann.http.get("/refinery/annotate/vote").status_code == 405
    assert ann.post("no-such-call", {}).status_code == 404
    assert votes.count_votes(store) == before


def test_a_researcher_may_annotate_and_is_not_served_a_pair_on_opening(app):
    url, store = app
    res = AnnotatePage(url, "res")
    assert res.call("open", task="(all tasks)")["pair_id"] is None  # came for another tab, maybe
    assert res.call("next", task="(all tasks)")["pair_id"] is not None
    assert "Revealed" in res.call("vote", task="(all tasks)", verdict="Both bad")["reveal"]
    assert AnnotatePage(url, "ann2").call("open", task="toy")["pair_id"] is not None  # an annotator is


def test_researcher_manages_users_and_disabled_accounts_lose_access(app):
    url, store = app
    res = client(url, "res")
    message = res.predict("carol", "annotator", api_name="/research_add_user")
    password = message.split("`")[1]
    carol = AnnotatePage(url, "carol", password)
    carol.call("next", task="toy")
    res.predict("carol", api_name="/research_disable_user")
    with pytest.raises(Refused, match="disabled"):
        carol.call("next", task="toy")  # her open session is refused at once
    assert httpx.post(url + "/login", data={"username": "carol", "password": password}).status_code == 400
    res.predict("carol", api_name="/research_enable_user")
    new = res.predict("carol", api_name="/research_reset_password").split("`")[1]
    assert new != password
    assert httpx.post(url + "/login", data={"username": "carol", "password": new}).status_code == 200


def test_researcher_marks_gold_and_exports(app):
    url, store = app
    res = client(url, "res")
    res.predict(1, "a", api_name="/research_mark_gold")
    from storage import pairs

    assert pairs.get_pair(store, 1)["gold"] == "a"
    path, note = res.predict("toy", 0, False, True, api_name="/research_export")
    assert open(path).read().count("\n") == votes.count_votes(store)
    assert note.startswith(f"{votes.count_votes(store)} votes.") and "pairs have fewer votes than they ask for" in note


def test_safe_markdown_escapes_html_and_drops_script_links():
    from ui.annotate import safe_markdown

    out = safe_markdown('**hi** <img src=x onerror=alert(1)> <script>alert(2)</script> [x](javascript:alert(3)) [ok](https://example.org)\n\n```\n<b>code</b>\n```')
    assert "<strong>hi</strong>" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "<script" not in out and "<img" not in out and 'href="javascript' not in out
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in out
    assert "&lt;b&gt;code&lt;/b&gt;" in out


def test_reference_answer_is_shown_under_the_question_as_text(tmp_path):
    from feedback import accounts
    from tests.fixtures_annotation import make_pairs, make_task

    with running_app(tmp_path / "home", n_pairs=0) as (url, store):
        task = make_task(store, name="ref")
        make_pairs(store, task, 1, prompt_texts=["Capital of Australia?"], references=lambda i: "Canberra <b>not</b> Sydney")
        accounts.create_user(store, "annref", "annotator", "annref-password-1")
        prompt_html = AnnotatePage(url, "annref", "annref-password-1").call("next", task="ref")["prompt"]
        assert "Capital of Australia?" in prompt_html and "Reference answer" in prompt_html
        assert "Canberra &lt;b&gt;not&lt;/b&gt; Sydney" in prompt_html


def test_integer_ratings_and_a_correction_sent_as_escapes_within_the_limit_are_accepted(tmp_path):
    with running_app(tmp_path / "home", n_pairs=1) as (url, store):
        ann = AnnotatePage(url, "ann")
        ann.call("next", task="toy")
        correction = "\N{GRINNING FACE}" * 20_000  # at the limit; ensure_ascii writes 12 bytes for each
        body = {"pair_id": ann.pair_id, "task": "toy", "verdict": "Tie", "correction": correction,
                "ratings": {"left_concept": 3, "right_content": "5"}}
        raw = json.dumps(body, ensure_ascii=True).encode()
        assert len(raw) > 200_000
        response = ann.http.post("/refinery/annotate/vote", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text[:300]
        (vote,) = votes.list_votes(store)
        assert vote["correction"] == correction
        assert {vote["concept_a"], vote["concept_b"]} == {3, None} and {vote["content_a"], vote["content_b"]} == {5, None}
