"""Every named Gradio endpoint and every Annotate route checks the caller's role itself: the lists come from
the running app and from ui.annotate.routes, not by hand.

Annotators may only annotate (the Annotate tab's routes); every Gradio endpoint needs a researcher. A session whose account was
disabled after sign-in is refused everywhere. A refused call changes nothing in the database.
"""

import pytest
from gradio_client.exceptions import AppError

from storage import jobs, pairs, users, votes
from tests.fixtures_app import AnnotatePage, Refused, running_app, signed_in
from ui import annotate


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("roles") / "home") as (url, store):
        yield url, store


def endpoints(client) -> dict[str, list]:
    """{api name: example arguments} for every named endpoint the server exposes."""
    api = client.view_api(print_info=False, return_format="dict")
    return {name: [p.get("example_input") for p in info["parameters"]] for name, info in api["named_endpoints"].items()}


def state(store) -> tuple:
    """What a refused call must leave as it was."""
    return (users.list_users(store), jobs.list_jobs(store), pairs.list_pairs(store), votes.count_votes(store))


def test_the_endpoint_list_comes_from_the_app(app):
    url, _ = app
    names = set(endpoints(signed_in(url, "ann")))
    # the two a hand-kept list once missed, and one of each tab
    assert {"/research_enable_user", "/generate_refresh", "/train_start", "/results_view", "/demo_generate"} <= names


def test_annotators_are_refused_by_every_researcher_endpoint(app):
    url, store = app
    annotator = signed_in(url, "ann")
    before = state(store)
    checked = []
    for name, args in endpoints(annotator).items():
        with pytest.raises(AppError, match="needs a researcher account"):
            annotator.predict(*args, api_name=name)
        checked.append(name)
    assert len(checked) >= 20, checked
    assert state(store) == before


def test_a_disabled_account_is_refused_by_every_endpoint(app):
    url, store = app
    client = signed_in(url, "ann2")
    users.set_active(store, "ann2", False)
    try:
        before = state(store)
        for name, args in endpoints(client).items():
            with pytest.raises(AppError, match="sign in again"):
                client.predict(*args, api_name=name)
        assert state(store) == before
    finally:
        users.set_active(store, "ann2", True)


def test_a_disabled_account_is_refused_by_every_annotate_route(app):
    url, store = app
    page = AnnotatePage(url, "ann2")
    page.call("next", task="toy")
    users.set_active(store, "ann2", False)
    try:
        before = state(store)
        names = set(annotate.routes(None)) - {"open"}  # opening the tab serves nothing to a non-annotator
        assert names == {"next", "vote", "skip"}
        for name in names:
            with pytest.raises(Refused, match="sign in again"):
                page.call(name, task="toy", verdict="Tie")
        assert page.call("open", task="toy")["pair_id"] is None
        assert state(store) == before
    finally:
        users.set_active(store, "ann2", True)
