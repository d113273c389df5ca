"""Handlers through gradio_client against the app launched on a free port: sign-in, votes, dedupe, role refusal."""

import httpx
import pytest
from gradio_client.exceptions import AppError

from storage import users, votes
from tests.fixtures_app import running_app, signed_in


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
    response = httpx.post(url + "/gradio_api/call/annotate_next", json={"data": ["(all tasks)"]})
    assert response.status_code == 401
    response = httpx.post(url + "/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"})
    assert response.status_code == 401
    assert httpx.post(url + "/login", data={"username": "ann", "password": "wrong"}).status_code == 400
    assert votes.count_votes(store) == before


def test_vote_reveal_and_progress(app):
    url, store = app
    ann = client(url, "ann")
    shown = ann.predict("toy", api_name="/annotate_next")
    prompt_html, progress = shown[0], shown[-2]
    assert "Question" in prompt_html and "pairs left for you: **4**" in progress
    reveal, progress = ann.predict("A is better", "5", None, None, "2", "", "toy", api_name="/annotate_submit")
    assert "icl-refine" in reveal and "weak" in reveal
    assert "votes done: **1**" in progress and "pairs left for you: **3**" in progress
    user = users.get_user(store, "ann")
    (vote,) = [v for v in votes.list_votes(store) if v["user_id"] == user["id"]]
    left = "b" if vote["swapped"] else "a"
    right = "a" if left == "b" else "b"
    assert vote["choice"] == left and vote[f"concept_{left}"] == 5 and vote[f"content_{right}"] == 2


def test_double_submit_stores_one_vote(app):
    url, store = app
    ann = client(url, "ann2")
    ann.predict("toy", api_name="/annotate_next")
    first, _ = ann.predict("Tie", None, None, None, None, "", "toy", api_name="/annotate_submit")
    second, _ = ann.predict("A is better", None, None, None, None, "", "toy", api_name="/annotate_submit")
    assert "You voted: **a tie**" in first and "Already recorded" not in first
    assert "**Already recorded:** you voted **a tie**" in second and "changed nothing" in second
    user = users.get_user(store, "ann2")
    assert votes.count_votes(store, user_id=user["id"]) == 1


def test_raw_inputs_out_of_range_are_refused_and_store_nothing(app):
    # The annotate events skip Gradio's preprocessing: the handlers check what the client sent.
    url, store = app
    ann = client(url, "ann")
    ann.predict("toy", api_name="/annotate_next")
    before = votes.count_votes(store)
    for inputs, message in (
        (("A is better", "7", None, None, None, "", "toy"), "A rating is one of 1, 2, 3, 4, 5"),
        (("A is better", None, None, None, None, 42, "toy"), "must be text"),
        (("Maybe", None, None, None, None, "", "toy"), "choose one of"),
        (("Tie", None, None, None, None, "", ["toy"]), "Pick a task from the list"),
    ):
        with pytest.raises(AppError, match=message):
            ann.predict(*inputs, api_name="/annotate_submit")
    assert votes.count_votes(store) == before


def test_researcher_manages_users_and_disabled_accounts_lose_access(app):
    url, store = app
    res = client(url, "res")
    message = res.predict("carol", "annotator", api_name="/research_add_user")
    password = message.split("`")[1]
    carol = signed_in(url, "carol", password)
    carol.predict("toy", api_name="/annotate_next")
    res.predict("carol", api_name="/research_disable_user")
    with pytest.raises(AppError, match="disabled"):
        carol.predict("toy", api_name="/annotate_next")  # her open session is refused at once
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
        shown = client(url, "annref", "annref-password-1").predict("ref", api_name="/annotate_next")
        prompt_html = shown[0]
        assert "Capital of Australia?" in prompt_html and "Reference answer" in prompt_html
        assert "Canberra &lt;b&gt;not&lt;/b&gt; Sydney" in prompt_html
