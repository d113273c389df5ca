"""Results and Demo tabs: their pure view functions, and the vote outcomes they read from real SQLite."""

import time

import pytest

from feedback import ranking
from storage import assignments, evaluations, votes
from tests.fixtures_annotation import make_pairs, make_task, make_users
from ui import demo, results


def test_box_never_renders_model_html():
    html = demo.box("base: <b>m</b>", "<script>alert(1)</script> **bold** <img src=x onerror=alert(1)>", done=True)
    assert "<script" not in html and "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "<strong>bold</strong>" in html and "&lt;b&gt;m&lt;/b&gt;" in html


def test_interleave_advances_streams_in_turn_until_all_end():
    streams = {"base": iter(["a", "ab", "abc"]), "version": iter(["x"])}
    states = list(demo.interleave(streams))
    assert states[0] == {"base": ("a", False), "version": ("", False)}
    assert states[-1] == {"base": ("abc", True), "version": ("x", True)}


def stat(e, model, strategy, concept, content, job_id=1, details=None):
    return {"model": model, "strategy": strategy, "n": 4, "concept_mean": concept, "concept_lo": concept - 0.1,
            "concept_hi": concept + 0.1, "content_mean": content, "content_lo": content - 0.1, "content_hi": content + 0.1,
            "created_at": "t", "job_id": job_id, "details": details or {}}


def test_evaluation_rows_and_scatter_points():
    evals = [
        stat(1, "v1", "model:v1", 0.7, 0.6),
        stat(2, "qwen", "strong-instructed", 0.3, 0.9, details={"experiment": "results/x"}),
        stat(3, "qwen", "strong-base", 0.1, 0.9, details={"judge": "smollm2-135m", "judge_concept": {"mean": 0.4, "lo": 0.3, "hi": 0.5},
                                                          "judge_content": {"mean": 0.8, "lo": 0.7, "hi": 0.9}}),
    ]
    rows = results.evaluation_rows(evals, {"v1": "dpo-concept-sft (changed: max_steps 8)"})
    assert rows[0][8] == "0.40 [0.30, 0.50] / 0.80 [0.70, 0.90] (smollm2-135m)" and rows[1][8] == ""
    assert [r[:3] for r in rows] == [["qwen", "", "strong-base"], ["qwen", "", "strong-instructed"],
                                     ["v1", "dpo-concept-sft (changed: max_steps 8)", "model:v1"]]
    assert rows[0][4] == "0.10 [0.00, 0.20]" and rows[1][7] == "experiment" and rows[0][7] == "job 1"
    points = results.scatter_rows(evals)
    assert [p["name"] for p in points] == ["v1", "qwen (strong-instructed)", "qwen"]
    fig = results.ranking_figure([{"item": "a", "theta": 0.5, "lo": 0.1, "hi": 0.9, "n": 3}, {"item": "b", "theta": -0.5, "lo": -1, "hi": 0, "n": 3}], "t")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]  # best on top
    assert ax.get_title() == "t" and len(ax.containers) == 2  # one error bar per item


def test_before_after_and_ranking_from_stored_votes(store):
    task_id = make_task(store, "ba")
    pair_ids = make_pairs(store, task_id, 6, strategies=("model:v1", "strong-base"), split="eval")
    users = make_users(store, 2)
    now = time.time()
    for user in users:
        for _ in pair_ids:
            pair = assignments.serve_next(store, user, task_id, now, now - 600, swap=False)
            choice = "a" if pair["pair_id"] != pair_ids[0] else "b"  # the version wins 5 of 6 pairs
            votes.record_vote(store, pair["pair_id"], user, choice)
    outcomes = evaluations.vote_outcomes(store, task_id)
    assert len(outcomes) == 12
    table = results.before_after_rows(outcomes)
    assert len(table) == 1
    base, version, interval, n, counts = table[0]
    assert (base, version, n, counts) == ("m-weak", "m-strong", 12, "10 / 0 / 2")
    assert interval.startswith("0.83 [")
    ranked = results.ranking_rows(ranking.bradley_terry(ranking.comparisons_from_votes(outcomes), n_boot=100))
    assert ranked[0][1] == "model:v1 [m-strong]" and ranked[1][1] == "strong-base [m-weak]"


def test_before_after_queues_generation_then_pairs_once(store):
    from feedback.before_after import queue_before_after
    from storage import jobs, models, outputs, pairs, tasks
    from storage.errors import UserError

    task_id = make_task(store, "ba2")
    tasks.insert_prompts(store, "ba2-prompts", [{"ext_id": f"e{i}", "text": f"Q{i}?", "split": "eval"} for i in range(3)]
                         + [{"ext_id": "t0", "text": "T?", "split": "train"}])
    models.register_adapter(store, "ba2-dpo-1", "base-spec", "/nowhere", "dpo")
    with pytest.raises(UserError, match="no trained model version"):
        queue_before_after(store, "ba2", "base-spec", 3, "weak-spec")

    first = queue_before_after(store, "ba2", "ba2-dpo-1", 3, "weak-spec", created_by="res")
    assert first["pairs"] == [] and first["missing"] == {"before": 3, "after": 3} and len(first["jobs"]) == 2
    params = [jobs.get(store, j)["params"] for j in first["jobs"]]
    assert [p["strategies"] for p in params] == [["strong-base"], ["model:ba2-dpo-1"]]
    assert all(p["split"] == "eval" and p["n"] == 3 and p["strong"] == "base-spec" for p in params)
    # asking again while those jobs are unfinished queues nothing new
    assert queue_before_after(store, "ba2", "ba2-dpo-1", 3, "weak-spec")["jobs"] == first["jobs"]

    for p in tasks.list_prompts(store, "ba2-prompts", "eval"):
        outputs.add_output(store, task_id, p["id"], "base-spec", "strong-base", {}, 0, f"plain {p['text']}")
        outputs.add_output(store, task_id, p["id"], "ba2-dpo-1", "model:ba2-dpo-1", {}, 0, f"arr {p['text']}")
    for j in first["jobs"]:
        jobs.finish(store, j, "done")
    second = queue_before_after(store, "ba2", "ba2-dpo-1", 3, "weak-spec")
    assert len(second["pairs"]) == 3 and second["jobs"] == [] and second["ready"] == 3
    made = pairs.list_pairs(store, task_id)
    assert {(p["model_a"], p["model_b"]) for p in made} == {("base-spec", "ba2-dpo-1")}
    assert {p["split"] for p in made} == {"eval"} and {p["votes_wanted"] for p in made} == {2}
    assert queue_before_after(store, "ba2", "ba2-dpo-1", 3, "weak-spec")["pairs"] == []  # never duplicated


@pytest.mark.timeout(300)
def test_results_and_demo_handlers_work_for_researchers(tmp_path):
    from gradio_client.exceptions import AppError

    from storage import jobs, tasks
    from tests.fixtures_app import running_app, signed_in
    from tests.tiny import make_tiny_model

    spec = str(make_tiny_model(tmp_path / "tiny"))
    calls = {
        "/results_view": ["toy"],
        "/results_evaluate": ["toy", spec, "strong-base", 2, 4],
        "/results_before_after": ["toy", "v1", "", 2, None],
        "/demo_examples": ["toy"],
        "/demo_generate": ["toy", "Hi <b>there</b>", spec, "(none: base model only)", False, 16, 0.0, 1.0, 0],
    }
    with running_app(tmp_path / "home") as (url, store):
        tasks.insert_prompts(store, "toy-prompts", [{"ext_id": f"e{i}", "text": f"Eval {i}?", "split": "eval"} for i in range(2)])
        researcher = signed_in(url, "res")
        message = researcher.predict(*calls["/results_evaluate"], api_name="/results_evaluate")
        (job,) = jobs.list_jobs(store, kind="evaluate")
        assert f"job **{job['id']}**" in message and job["params"]["model"] == spec and job["created_by"] == "res"
        with pytest.raises(AppError, match="no trained model version"):
            researcher.predict(*calls["/results_before_after"], api_name="/results_before_after")
        notes, table = researcher.predict("toy", api_name="/results_view")[:2]
        assert table["data"] in ([], [[]]) or table["data"][0][0] == ""  # nothing evaluated yet
        assert f"Job {job['id']}</b>: queued" in notes  # the evaluate job on its way, above the empty table
        # the evaluate form defaults to the newest trained version, not the base
        from storage.models import register_adapter
        for name in ("toy-dpo-1", "toy-dpo-2"):
            register_adapter(store, name, base_spec=spec, path=str(tmp_path / name), method="dpo", config={},
                             data_snapshot={"n": 2}, metrics={}, job_id=None, task_id=tasks.get_task(store, "toy")["id"])
        _, eval_model, ba_version = researcher.predict("toy", api_name="/results_refresh")
        assert eval_model["value"] == ba_version["value"] == "toy-dpo-2"
        base, version, weak = researcher.predict(*calls["/demo_generate"], api_name="/demo_generate")
        assert f"base: {spec}" in base and "<b>there" not in base and version == "" and weak == ""


def figure_text(fig) -> str:
    """All text written in a matplotlib figure's axes."""
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_empty_plots_say_nothing_yet(store, settings):
    from ui.app import UIContext

    make_task(store)
    view = results.task_view(UIContext(store, settings), "toy")
    assert "Nothing yet: no model is evaluated" in figure_text(view["scatter"])
    assert "Nothing yet: no blind votes" in figure_text(view["ranking_plot"])


def test_demo_serves_base_and_version_from_one_loaded_base(store, settings, tmp_path):
    from storage.models import register_adapter
    from tests.test_loading import random_adapter
    from tests.tiny import make_tiny_model
    from models import loading
    from models.generation import GenParams, Generator
    from ui.app import UIContext

    spec = str(make_tiny_model(tmp_path / "tiny"))
    adapter = random_adapter(spec, settings, tmp_path / "adapter")
    register_adapter(store, "tiny-dpo-1", base_spec=spec, path=str(adapter), method="dpo", config={}, data_snapshot={},
                     metrics={}, job_id=None, task_id=None)
    loading.clear_cache()
    streams, _ = demo.open_streams(UIContext(store, settings), None, "Arr matey?", spec, "tiny-dpo-1", False, 12, 0.0, 1.0, 0)
    final = list(demo.interleave(streams))[-1]  # both advance together, taking turns on the one copy
    assert loading.cached_count() == 1  # the host alone: no second (merged) copy of the base
    model, tokenizer = loading.load_uncached(spec, settings, settings.device)
    alone = list(Generator(model, tokenizer, backend="transformers").stream(
        [{"role": "user", "content": "Arr matey?"}], GenParams(max_new_tokens=12, temperature=0.0, seed=0, batch_size=1)))[-1]
    assert final["base"][0] == alone  # the base column is what the plain base says
    assert final["version"][0] != final["base"][0]


def test_models_scored_on_different_numbers_of_prompts_are_flagged(store):
    task = {"name": "toy"}
    make_task(store)
    assert results.notes_html(store, task, [{"n": 48}, {"n": 48}]) == ""
    assert "different numbers of eval prompts (8, 48)" in results.notes_html(store, task, [{"n": 48}, {"n": 8}])
