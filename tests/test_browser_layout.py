"""The Annotate tab at 1366x768 with every form at its defaults: the question, both answers' first
lines, the verdict, Submit and the progress bar are on screen without scrolling; a keyboard vote shows
the reveal, and the next pair opens at its question with the verdict and the progress still in view.
The pairs are the shipped seed answers (data/seed), the longest ones first."""

import json
from pathlib import Path

import pytest

from tests.fixtures_app import running_app
from tests.test_browser import browser, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
W, H = 1366, 768


def longest_seed_pairs(n: int) -> tuple[list[str], dict]:
    """The n prompts whose weak and icl-refine seed answers are longest together, and the answers."""
    by_prompt: dict = {}
    for line in (ROOT / "data/seed/pirate.jsonl").read_text().splitlines():
        row = json.loads(line)
        by_prompt.setdefault(row["prompt"], {})[row["strategy"]] = row["text"]
    both = [p for p, t in by_prompt.items() if {"weak", "icl-refine"} <= set(t)]
    both.sort(key=lambda p: -len(by_prompt[p]["weak"] + by_prompt[p]["icl-refine"]))
    return both[:n], by_prompt


def in_view(page, selector: str) -> dict:
    """The element's box against the viewport: its top and bottom inside (0, H], give or take the pixel that
    scrolling a box with fractional coordinates to the viewport's edge leaves."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not on the page"
    return {"top": box["y"], "bottom": box["y"] + box["height"], "ok": box["y"] >= -1 and box["y"] + box["height"] <= H + 1}


def assert_in_view(page, *selectors):
    boxes = {s: in_view(page, s) for s in selectors}
    assert all(b["ok"] for b in boxes.values()), boxes


def test_annotate_fits_a_laptop_screen_and_next_pair_opens_at_its_question(browser, tmp_path):  # noqa: F811
    prompts, by_prompt = longest_seed_pairs(3)
    with running_app(tmp_path / "home", n_pairs=3, prompt_texts=prompts,
                     texts=lambda i, s: by_prompt[prompts[i]][s]) as (url, _):
        page = browser.new_page(viewport={"width": W, "height": H})
        sign_in(page, url, "ann")
        page.wait_for_selector("#refinery-question", timeout=30_000)
        page.wait_for_selector(".refinery-bar", timeout=30_000)
        first = page.locator(".refinery-question").inner_text()
        # The first pair: the question (under its heading and task), the first line of each answer,
        # the verdict, Submit and the progress bar, with nothing scrolled.
        assert page.evaluate("window.scrollY") == 0
        assert "Task:" in page.locator("#refinery-question").inner_text()
        assert_in_view(page, "#refinery-question", ".refinery-question-head", ".refinery-question", "#refinery-verdict", "#refinery-submit", ".refinery-bar")
        for answer in page.locator(".refinery-answer p").all()[:2]:
            box = answer.bounding_box()
            assert 0 <= box["y"] and box["y"] + 20 <= H, box  # its first line at least
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_selector("#refinery-reveal:has-text('Revealed')", timeout=30_000)
        page.wait_for_timeout(400)  # the reveal is scrolled into view after 100 ms
        assert_in_view(page, "#refinery-reveal", ".refinery-bar")
        page.keyboard.press("Enter")
        page.wait_for_function(f"!document.querySelector('.refinery-question').innerText.includes({json.dumps(first[:30])})",
                               timeout=30_000)
        page.wait_for_timeout(400)
        assert_in_view(page, "#refinery-question", ".refinery-question-head", ".refinery-question", "#refinery-verdict", "#refinery-submit", ".refinery-bar")
        assert "1 of 3" in page.locator("#refinery-progress").inner_text()
        # Scrolled down to the optional ratings, the progress bar is still in view; after the vote the
        # next pair opens at its question, not where the page was.
        second = page.locator(".refinery-question").inner_text()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(200)
        assert page.evaluate("window.scrollY") > 100
        assert_in_view(page, ".refinery-bar")
        page.mouse.click(W - 5, H - 5)  # a click where nothing is, without scrolling (a locator's click would)
        assert page.evaluate("window.scrollY") > 100
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        page.wait_for_selector("#refinery-reveal:has-text('Revealed')", timeout=30_000)
        page.keyboard.press("Enter")
        page.wait_for_function(f"!document.querySelector('.refinery-question').innerText.includes({json.dumps(second[:30])})",
                               timeout=30_000)
        page.wait_for_timeout(400)
        assert_in_view(page, "#refinery-question", ".refinery-question-head", ".refinery-question", "#refinery-verdict", "#refinery-submit", ".refinery-bar")
