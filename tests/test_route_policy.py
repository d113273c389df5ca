"""ui/route_policy.py and ui/export_files.py: annotators and visitors reach only what the sign-in page and
the Annotate tab need (no served files such as exports, no endpoint listings); researchers reach
everything but the routes closed for all (uploads: no component takes a file); export directories go
away."""

import os
import time

import httpx
import pytest

from tests.fixtures_app import PASSWORDS, AnnotatePage, running_app, signed_in
from tests.test_browser import browser, sign_in  # noqa: F401 (the fixture)
from ui import export_files, route_policy

LISTINGS = ("/config", "/gradio_api/info", "/gradio_api/openapi.json", "/openapi.json")


def _session(url, name):
    client = httpx.Client(base_url=url, timeout=60)
    client.post("/login", data={"username": name, "password": PASSWORDS[name]}).raise_for_status()
    return client


def test_only_the_sign_in_page_and_annotate_paths_are_open():
    for path in ("/", "/login", "/assets/index-abc.js", "/gradio_api/queue/join", "/gradio_api/heartbeat/x", "/refinery/annotate/vote"):
        assert route_policy.open_to_all(path), path
    for path in (*LISTINGS, "/gradio_api/upload", "/gradio_api/file=/tmp/x", "/gradio_api/call/x", "/gradio_api/run/x",
                 "/monitoring", "/gradio_api/queue/joinx", "/refinery/other", "/docs"):
        assert not route_policy.open_to_all(path), path


def test_annotators_and_visitors_get_no_listing_or_export_and_nobody_uploads(tmp_path):
    with running_app(tmp_path / "home", n_pairs=2) as (url, _):
        voter = AnnotatePage(url, "ann2")
        voter.call("next", task="toy")
        voter.call("vote", task="toy", verdict="A is better")
        researcher = signed_in(url, "res")
        researcher.download_files = False
        exported, _note = researcher.predict("toy", 0, False, True, api_name="/research_export")
        file_url = exported["url"]
        assert "/gradio_api/file=" in file_url
        res, ann, anonymous = _session(url, "res"), _session(url, "ann"), httpx.Client(base_url=url)
        assert res.get(file_url).status_code == 200  # the researcher's download works
        for path in LISTINGS:
            assert ann.get(path).status_code == 403, path
            assert anonymous.get(path).status_code == 401, path
        assert res.get("/config").status_code == 200 and res.get("/gradio_api/info").status_code == 200
        assert res.get("/openapi.json").status_code == 404  # FastAPI's own schema is off for everyone
        assert res.post("/gradio_api/run/research_refresh", json={"data": [True]}).status_code == 404  # queue only
        refused = ann.get(file_url)
        assert refused.status_code == 403 and "for researchers" in refused.json()["error"]
        assert "ann2" not in refused.text  # no vote rows
        assert anonymous.get(file_url).status_code == 401
        upload = ann.post("/gradio_api/upload", files={"files": ("big.txt", b"x" * 100_000)})
        assert upload.status_code == 404
        assert anonymous.post("/gradio_api/upload", files={"files": ("big.txt", b"x")}).status_code == 404
        assert res.post("/gradio_api/upload", files={"files": ("small.txt", b"x")}).status_code == 404  # no file inputs
        # What the Annotate tab needs still answers the annotator.
        assert ann.get("/").status_code == 200
        assert ann.post("/refinery/annotate/next", json={"task": "toy"}).json()["pair_id"] is not None


def test_the_sign_in_page_and_the_annotate_tab_need_nothing_refused(browser, tmp_path):  # noqa: F811
    with running_app(tmp_path / "home", n_pairs=2) as (url, _):
        page = browser.new_page()
        refused, errors = [], []
        page.on("response", lambda r: refused.append((r.url, r.status)) if r.status in (401, 403) else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, url, "ann")
        page.wait_for_function("document.querySelector('#refinery-progress').innerText.includes('pairs left for you: 2')",
                               timeout=30_000)
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_selector("#refinery-reveal:has-text('Revealed')", timeout=30_000)
        page.keyboard.press("Enter")
        page.wait_for_function("!document.querySelector('#refinery-reveal').innerText.includes('Revealed')", timeout=30_000)
        assert refused == [] and errors == []


def test_export_directories_are_removed_after_their_time(tmp_path, monkeypatch):
    old, new = tmp_path / (export_files.PREFIX + "old"), tmp_path / (export_files.PREFIX + "new")
    for path in (old, new):
        path.mkdir()
        (path / "toy-votes.jsonl").write_text("{}\n")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    (tmp_path / "other").mkdir()
    assert export_files.sweep(root=tmp_path) == 1
    assert not old.exists() and new.exists() and (tmp_path / "other").exists()
    monkeypatch.setattr(export_files, "KEEP_S", 0.2)
    made = export_files.new_dir()
    assert made.is_dir() and made.name.startswith(export_files.PREFIX)
    deadline = time.time() + 10
    while made.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not made.exists()
