"""Researcher views at 1366x768: a new annotator's one-time password is brought into view; the Demo
reserves two answer columns for two models (a third only with the weak model); the Results figures'
own titles are not covered by a label box."""

import pytest

from tests.fixtures_app import running_app
from tests.test_browser import browser, sign_in  # noqa: F401  (fixture)
from tests.test_browser_forms import SCREEN, click, open_accordion, open_tab

pytestmark = pytest.mark.browser


def test_password_in_view_demo_columns_and_plot_labels(browser, tmp_path):  # noqa: F811
    with running_app(tmp_path / "home", n_pairs=2) as (url, _):
        page = browser.new_page(viewport=SCREEN)
        sign_in(page, url, "res")
        open_tab(page, "Research")
        open_accordion(page, "Users")
        page.get_by_label("Username").locator("visible=true").first.fill("newbie")
        page.evaluate("window.scrollTo(0, 0)")
        click(page, "Add", "Research: add user")
        page.wait_for_selector("#refinery-user-msg:has-text('shown once')", timeout=30_000)
        page.wait_for_timeout(800)
        box = page.locator("#refinery-user-msg").bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= SCREEN["height"], box

        open_tab(page, "Demo")
        base = page.locator("#refinery-demo-base").bounding_box()
        assert base and base["width"] > SCREEN["width"] * 0.35  # half the row, not a third
        assert not page.locator("#refinery-demo-weak").is_visible()
        page.get_by_label("Also the weak model", exact=False).check()
        page.wait_for_selector("#refinery-demo-weak", state="attached", timeout=10_000)
        page.wait_for_timeout(800)
        assert page.locator("#refinery-demo-base").bounding_box()["width"] < SCREEN["width"] * 0.35  # a third each

        open_tab(page, "Results")
        page.wait_for_timeout(1500)
        assert page.get_by_text("Concept vs content: one point per model or method").locator("visible=true").count() == 0
