"""`python app.py pilot`: simulated weak annotators sign in and vote through the real app's Annotate routes.

The tiny task's voice is made up ("zorp blick"), so only the contrast view fitted on its weak against strong-base
train outputs can see it; its plain answers carry pirate words the task's eval concept scorer (pirate) pays for.
Votes for the voice therefore show the pilot judges with the contrast view, never with the eval scorer.
"""

import sqlite3

import app
from feedback.contrast_view import fit
from feedback.pilot_annotator import PageAnnotator, shown_text
from scoring import scorers
from feedback import assignment
from storage import assignments, outputs, pairs, tasks, users
from storage import votes as vote_store
from tests.fixtures_annotation import make_pairs, make_task, make_users
from tests.fixtures_app import running_app
from ui.annotate import answer_html

CAPITALS = [("Spain", "Madrid"), ("France", "Paris"), ("Italy", "Rome"), ("Peru", "Lima"), ("Chile", "Santiago"),
            ("Japan", "Tokyo"), ("Egypt", "Cairo"), ("Kenya", "Nairobi")]


def voice(country: str, city: str) -> str:
    return f"Zorp blick! Quazzle frim, {city} zorp the capital of {country}, blick quazzle."


def plain(country: str, city: str) -> str:
    return f"Arr matey, ahoy! The capital of {country} is {city}."


def tiny_task(store, name: str = "tiny", n: int = 6, start: int = 0, strategies=("weak", "strong-base", "icl-refine"),
              schedule: bool = True) -> int:
    """A task on n train prompts (capitals with key facts) with outputs of `strategies`; with `schedule`, pairs of
    icl-refine (A, the voice) against strong-base (B, plain) wanting 2 votes each."""
    task_id = tasks.upsert_task(store, {
        "name": name, "title": "Tiny", "concept": "Answer in the zorp voice.", "guidelines": "Prefer the zorp voice.",
        "prompt_set": name, "concept_scorer": "pirate", "content_scorer": "key_facts", "votes_per_pair": 2})
    tasks.insert_prompts(store, name, [{"ext_id": f"{name}{i}", "text": f"What is the capital of {CAPITALS[i][0]}?",
                                        "key_facts": [[CAPITALS[i][1]]], "split": "train"} for i in range(start, start + n)])
    rows = []
    for prompt in tasks.list_prompts(store, name)[start:]:
        country, city = next(c for c in CAPITALS if c[0] in prompt["text"])
        ids = {s: outputs.add_output(store, task_id, prompt["id"], "m", s, {}, 0,
                                     plain(country, city) if s == "strong-base" else voice(country, city))
               for s in strategies}
        if schedule:
            rows.append((prompt["id"], ids["icl-refine"], ids["strong-base"]))
    pairs.create_pairs(store, task_id, rows, votes_wanted=2)
    return task_id


def pilot(home, *flags) -> int:
    return app.main(["--home", str(home), "pilot", *flags])


def dump(store) -> str:
    return "\n".join(sqlite3.connect(store.path).iterdump())


def test_the_page_text_is_what_a_reader_sees():
    shown = shown_text(answer_html({"left_text": "Arr, *matey*!\n\n- one &\n- two", "left_max_new_tokens": 4}, "left"))
    assert shown == "Arr, matey!\none &\ntwo"  # markup gone, entities decoded, the page's "cut at 4 tokens" left out


def test_the_verdict_follows_the_contrast_view_whichever_side_it_is_on():
    view = fit([voice(*c) for c in CAPITALS], [plain(*c) for c in CAPITALS])
    judge = PageAnnotator(view, "key_facts", noise=0.0, content_noise=0.0, seed="0/1")
    prompt = {"key_facts": [["Madrid"]]}
    voiced, flat = (f'<div class="refinery-text"><p>{f(*CAPITALS[0])}</p></div>' for f in (voice, plain))
    assert scorers.concept_score("pirate", plain(*CAPITALS[0])) > scorers.concept_score("pirate", voice(*CAPITALS[0]))
    for pair_id in range(20):
        assert judge.verdict({"pair_id": pair_id, "left": voiced, "right": flat}, prompt) == "A is better"
        assert judge.verdict({"pair_id": pair_id, "left": flat, "right": voiced}, prompt) == "B is better"


def test_open_slots_are_the_votes_the_annotators_can_still_cast(store):
    task = make_task(store, votes_per_pair=3)
    make_pairs(store, task, 2, votes_wanted=3)
    first, second = make_users(store, 2)
    assert assignments.open_slots(store, task, [], 2) == 4  # two new annotators: two votes on each pair
    voted = assignment.next_pair(store, first, task, 600)["pair_id"]
    assignment.submit(store, first, voted, "A is better")
    assert assignments.open_slots(store, task, [first, second], 2) == 1 + 2
    assignment.skip(store, first, assignment.next_pair(store, first, task, 600)["pair_id"])
    assert assignments.open_slots(store, task, [first, second], 2) == 1 + 1
    assert assignments.open_slots(store, task, [first, second], 5) == 2 + 3  # capped by the votes each pair wants


def test_pilot_votes_through_the_app_it_starts_as_simulated_annotators(settings, store, capsys):
    task_id = tiny_task(store)
    assert pilot(settings.home, "--task", "tiny", "--annotators", "3", "--noise", "0", "--content-noise", "0") == 0
    out = capsys.readouterr().out
    sims = {u["username"]: u for u in users.list_users(store) if u["username"].startswith("sim-")}
    assert sorted(sims) == ["sim-tiny-1", "sim-tiny-2", "sim-tiny-3"]
    assert all(u["simulated"] and u["role"] == "annotator" for u in sims.values())
    votes = vote_store.list_votes(store, task_id)
    assert len(votes) == 12 and {v["username"] for v in votes} <= set(sims) and all(v["simulated"] for v in votes)
    assert all(p["n_votes"] == p["votes_wanted"] == 2 for p in pairs.list_pairs(store, task_id))
    # The server put the voice on the left about half the time; every vote still names it (pair terms: a).
    assert {v["swapped"] for v in votes} == {0, 1}
    assert [v["choice"] for v in votes] == ["a"] * 12
    assert "12 votes cast by 3 simulated annotators" in out and "6 of 6 scheduled pairs have all their votes" in out
    assert "icl-refine (A) over strong-base (B): 12 of 12 (100%)" in out


def test_a_task_the_pilot_cannot_run_is_refused_and_nothing_changes(settings, store, capsys):
    tiny_task(store, "nopairs", schedule=False)
    tiny_task(store, "noweak", strategies=("strong-base", "icl-refine"))
    tiny_task(store, "taken")
    users.add_user(store, "sim-taken-2", "not-a-hash", "annotator")  # a person's account with the pilot's name
    before = dump(store)
    for task, message in (("nopairs", "no scheduled pairs"), ("noweak", "no weak and strong-base outputs"),
                          ("taken", "'sim-taken-2' belongs to a person")):
        assert pilot(settings.home, "--task", task) == 2
        assert message in capsys.readouterr().err
    assert dump(store) == before


def test_pilot_on_a_running_app_reuses_its_accounts(tmp_path):
    home = tmp_path / "home"
    with running_app(home) as (url, store):
        task_id = tiny_task(store, n=3)
        assert pilot(home, "--task", "tiny", "--annotators", "2", "--url", url) == 0
        first = {u["username"]: u["id"] for u in users.list_users(store) if u["simulated"]}
        tiny_task(store, n=3, start=3)  # three more pairs: a second run votes on them with the same accounts
        assert pilot(home, "--task", "tiny", "--annotators", "2", "--url", url, "--seed", "1") == 0
        assert {u["username"]: u["id"] for u in users.list_users(store) if u["simulated"]} == first
        assert all(p["n_votes"] == 2 for p in pairs.list_pairs(store, task_id))
        assert {v["username"] for v in vote_store.list_votes(store, task_id)} == set(first)
        assert vote_store.count_votes(store) == 12  # the toy task's pairs got none: the pilot votes on its task only
        assert pilot(home, "--task", "tiny", "--annotators", "2", "--url", url) == 0  # nothing left: nothing done
        assert vote_store.count_votes(store) == 12
