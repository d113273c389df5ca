"""Real Chromium through Playwright: sign in, vote with the keyboard, progress and reveal (Submit
disabled until the next pair); and model
text full of HTML and script shown as text with nothing executed."""

import pytest

from storage import votes
from tests.fixtures_app import PASSWORDS, running_app

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
XSS = '<img src=x onerror=alert(1)> <script>alert(2)</script> [click me](javascript:alert(3)) <a href="javascript:alert(4)">link</a>'


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def sign_in(page, url, name):
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#refinery-verdict", timeout=30_000)


def progress(page):
    return page.locator("#refinery-progress").inner_text()


def test_sign_in_vote_with_keyboard_progress_and_reveal(browser, tmp_path):
    with running_app(tmp_path / "home", n_pairs=3) as (url, store):
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, url, "ann")
        page.wait_for_function("document.querySelector('#refinery-progress').innerText.includes('pairs left for you: 3')", timeout=30_000)
        assert "votes done: 0" in progress(page)
        assert page.get_by_role("tab", name="Research").count() == 0 or not page.get_by_role("tab", name="Research").is_visible()
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("2")
        assert page.locator("#refinery-verdict input[type=radio]").nth(1).is_checked()
        page.keyboard.press("Enter")
        page.wait_for_selector("#refinery-reveal:has-text('Revealed')", timeout=30_000)
        reveal = page.locator("#refinery-reveal").inner_text()
        assert "icl-refine" in reveal and "weak" in reveal and "B better" in reveal
        page.wait_for_function("document.querySelector('#refinery-submit').disabled", timeout=10_000)  # until the next pair
        page.wait_for_function("document.querySelector('#refinery-progress').innerText.includes('votes done: 1')", timeout=30_000)
        assert "pairs left for you: 2" in progress(page)
        assert votes.count_votes(store) == 1
        (vote,) = votes.list_votes(store)
        assert vote["choice"] == ("a" if vote["swapped"] else "b")  # right side, in pair terms
        # Enter moves on to the next pair; s skips it.
        page.keyboard.press("Enter")
        page.wait_for_function("!document.querySelector('#refinery-reveal').innerText.includes('Revealed')", timeout=30_000)
        page.wait_for_function("!document.querySelector('#refinery-submit').disabled", timeout=10_000)
        page.keyboard.press("s")
        page.wait_for_function("document.querySelector('#refinery-progress').innerText.includes('pairs left for you: 1')", timeout=30_000)
        # Typing in the better-answer box does not trigger shortcuts.
        page.get_by_text("Write a better answer (optional)").click()
        box = page.get_by_label("Better answer")
        box.click()
        box.type("1 s 2")
        assert not any(r.is_checked() for r in page.locator("#refinery-verdict input[type=radio]").all())
        assert votes.count_votes(store) == 1
        assert not errors, errors


def test_html_and_script_in_model_text_is_shown_as_text(browser, tmp_path):
    with running_app(tmp_path / "home", n_pairs=1, texts=lambda i, s: f"{XSS} {s}", prompt_texts=[f"Prompt {XSS}"]) as (url, _):
        page = browser.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, url, "ann")
        page.wait_for_selector(".refinery-text:has-text('icl-refine')", timeout=30_000)
        page.wait_for_timeout(1000)
        text = page.locator(".refinery-text").all_inner_texts()
        joined = "\n".join(text)
        assert "<img src=x onerror=alert(1)>" in joined and "<script>alert(2)</script>" in joined
        assert "javascript:alert(3)" in joined  # the link is shown as text, not made a link
        assert page.locator(".refinery-text img, .refinery-text script").count() == 0
        assert page.locator(".refinery-text [onerror], .refinery-text a[href^='javascript']").count() == 0
        assert dialogs == []


def test_api_page_is_off_and_researcher_sees_research_tab(browser, tmp_path):
    with running_app(tmp_path / "home", n_pairs=1) as (url, _):
        page = browser.new_page()
        sign_in(page, url, "res")
        page.get_by_role("tab", name="Research").click()
        page.wait_for_selector("text=Strategy win rates", timeout=30_000)
        assert page.get_by_text("Use via API").count() == 0
        page.goto(url + "/?view=api")
        page.wait_for_selector("#refinery-verdict", timeout=30_000)
        assert page.get_by_text("API Recorder").count() == 0 and page.get_by_text("Use via API").count() == 0
