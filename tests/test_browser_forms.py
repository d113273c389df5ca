"""Real Chromium at 1366x768: every tab as a researcher and as an annotator, every form submitted with
the values it opens with (no error toast, no traceback in the server log), and the reveal of a
keyboard vote on screen."""

import pytest

from feedback.recipes import DEFAULT_RECIPE
from storage import jobs
from storage.outputs import add_output
from storage.evaluations import add_evaluation
from storage.models import register_adapter
from storage import tasks as task_store
from tests.fixtures_annotation import make_pairs
from tests.fixtures_app import running_app
from tests.test_browser import browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
SCREEN = {"width": 1366, "height": 768}
LONG = "A long answer line.\n\n" * 12  # answers tall enough to push the buttons down the screen


def no_error_toast(page, what: str) -> None:
    page.wait_for_timeout(700)
    toasts = page.locator(".toast-body.error").all_inner_texts()
    assert not toasts, f"{what}: {toasts}"


def click(page, name: str, what: str | None = None) -> None:
    page.get_by_role("button", name=name, exact=True).locator("visible=true").first.click()
    no_error_toast(page, what or name)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(800)
    no_error_toast(page, f"opening {name}")


def captions_inside_their_plots(page) -> list[bool]:
    """For each caption on screen, whether it lies inside its plot's box (not cut off by it)."""
    return page.evaluate("""() => [...document.querySelectorAll('p.caption')].filter(e => e.offsetParent).map(e => {
        const box = e.closest('.block').getBoundingClientRect(), r = e.getBoundingClientRect();
        return r.top >= box.top && r.bottom <= box.bottom + 1; })""")


def open_accordion(page, label: str) -> None:
    page.get_by_text(label, exact=True).locator("visible=true").first.click()


def test_keyboard_vote_shows_the_reveal_on_screen(browser, tmp_path, capfd):  # noqa: F811
    with running_app(tmp_path / "home", n_pairs=2, texts=lambda i, s: f"{LONG}{s}") as (url, _):
        page = browser.new_page(viewport=SCREEN)
        sign_in(page, url, "ann")
        page.wait_for_selector(".refinery-text:has-text('icl-refine')", timeout=30_000)
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_selector("#refinery-reveal:has-text('Revealed')", timeout=30_000)
        page.wait_for_timeout(500)  # the scroll after the vote
        box = page.locator("#refinery-reveal").bounding_box()
        assert box and box["height"] > 0
        assert 0 <= box["y"] and box["y"] + box["height"] <= SCREEN["height"], box
    assert "Traceback" not in capfd.readouterr().err


def test_annotator_page_load_and_forms_leave_no_traceback(browser, tmp_path, capfd):  # noqa: F811
    with running_app(tmp_path / "home", n_pairs=2) as (url, _):
        page = browser.new_page(viewport=SCREEN)
        sign_in(page, url, "ann")
        page.wait_for_selector(".refinery-text:has-text('icl-refine')", timeout=30_000)
        no_error_toast(page, "page load")
        page.get_by_text("Tie", exact=True).click()
        click(page, "Submit (Enter)")
        page.wait_for_selector("#refinery-reveal:has-text('Revealed')", timeout=30_000)
        # no second submit of a revealed pair (an API repeat says 'Already recorded': test_ui_handlers)
        assert page.locator("#refinery-submit").is_disabled()
        click(page, "Next pair (Enter after the reveal)")
        page.wait_for_function("!document.querySelector('#refinery-submit').disabled", timeout=10_000)
        click(page, "Skip (s)")
    err = capfd.readouterr().err
    assert "Traceback" not in err, err[-3000:]


def test_researcher_opens_every_tab_and_submits_every_form_with_its_defaults(browser, tmp_path, capfd):  # noqa: F811
    with running_app(tmp_path / "home", n_pairs=8) as (url, store):
        toy = task_store.get_task(store, "toy")
        make_pairs(store, toy["id"], 2, split="eval")  # something to evaluate on
        for prompt in task_store.list_prompts(store, toy["prompt_set"], "train"):  # the default recipe's other side
            add_output(store, toy["id"], prompt["id"], "m-strong", "strong-base", {}, 0, f"Plain {prompt['text']}")
        page = browser.new_page(viewport=SCREEN)
        sign_in(page, url, "res")
        click(page, "Next pair (Enter after the reveal)", "Annotate: next pair")
        page.wait_for_selector(".refinery-text:has-text('icl-refine')", timeout=30_000)
        page.get_by_text("A is better", exact=True).click()
        click(page, "Submit (Enter)", "Annotate: submit")  # a vote, so that the export has a row

        open_tab(page, "Research")
        click(page, "Refresh", "Research: refresh")
        open_accordion(page, "Export preferences")
        click(page, "Prepare JSONL export")

        open_tab(page, "Generate")
        click(page, "Queue generate job")
        page.wait_for_selector("text=Job 1", timeout=30_000)
        click(page, "Cancel job", "Generate: cancel")
        click(page, "Create pairs")
        page.wait_for_selector("text=Created", timeout=30_000)

        open_tab(page, "Train")
        # each empty plot says why it is empty, inside its box (a fixed plot height once cut the caption off)
        assert page.get_by_text("Nothing yet: start a training job or pick one above.").locator("visible=true").count() == 3
        assert captions_inside_their_plots(page) == [True, True, True]
        # the form opens on the default recipe and shows its settings; started as it is, the job records it unchanged
        assert page.get_by_text(f"{DEFAULT_RECIPE}: dpo on votes on icl-refine vs strong-base").count() == 1
        assert "loss_weights 1,64" in page.locator("#refinery-train-recipe").inner_text()
        click(page, "Start training")
        page.wait_for_selector("text=Job 2", timeout=30_000)
        assert jobs.get(store, 2)["params"]["recipe"] == {"name": DEFAULT_RECIPE, "changed": {}}
        page.wait_for_selector("text=Nothing yet: loss appears from the first logged step.", timeout=30_000)
        click(page, "Cancel job", "Train: cancel a queued job")
        page.wait_for_selector("text=ended (cancelled) without logging loss", timeout=30_000)
        click(page, "Refresh", "Train: refresh")
        # a job the worker takes and finishes: the job list's label and the model versions follow it
        running = jobs.enqueue(store, "train", {"task": "toy", "method": "dpo"})
        click(page, "Refresh", "Train: refresh")
        label = page.get_by_role("combobox", name="Watching job")
        label.click()
        page.get_by_role("option", name=f"#{running} toy/dpo · queued").click()
        jobs.claim(store, "test-worker", kinds=("train",))
        page.wait_for_function("(el) => el.value.includes('running')", arg=label.element_handle(), timeout=30_000)
        register_adapter(store, "toy-dpo-test", base_spec="m-strong", path=str(tmp_path / "adapter"), method="dpo",
                         config={}, data_snapshot={"n": 2}, metrics={}, job_id=running, task_id=task_store.get_task(store, "toy")["id"])
        jobs.finish(store, running, "done", {"model": "toy-dpo-test"})
        page.wait_for_function("(el) => el.value.includes('done')", arg=label.element_handle(), timeout=30_000)
        page.wait_for_selector("text=toy-dpo-test", timeout=30_000)
        click(page, "Cancel job", "Train: cancel a finished job")
        page.wait_for_selector("text=there is nothing to cancel", timeout=30_000)
        assert page.get_by_text("Error", exact=True).locator("visible=true").count() == 0

        open_tab(page, "Results")
        open_accordion(page, "Evaluate a model")
        click(page, "Queue evaluate job")
        page.wait_for_selector("text=Queued evaluate job", timeout=30_000)
        # an evaluation stored while the tab is open shows after Refresh, the task unchanged
        add_evaluation(store, task_store.get_task(store, "toy")["id"], "evaluated-after-open", "strong-base", 2,
                       {"mean": 0.5, "lo": 0.4, "hi": 0.6}, {"mean": 0.7, "lo": 0.6, "hi": 0.8})
        click(page, "Refresh", "Results: refresh")
        page.get_by_text("evaluated-after-open").locator("visible=true").first.wait_for(timeout=30_000)

        open_tab(page, "Demo")
        kinds = [j["kind"] for j in jobs.list_jobs(store)]
        assert sorted(kinds) == ["evaluate", "generate", "train", "train"], kinds
    err = capfd.readouterr().err
    assert "Traceback" not in err, err[-3000:]
