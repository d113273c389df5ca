"""Generate jobs on tiny random models: weak labels first, every strategy stored, skip on re-run, cancel and resume."""

import json

import pytest

import app
from storage import jobs, outputs, pairs
from storage import tasks as task_store
from storage.errors import UserError
from tests.tiny import make_tiny_model
from models import generate_job, generate_spec, generation, loading
from jobs.worker import run_job as run_claimed

REFINE = ["icl-refine", "ask-to-improve", "infer-and-respond", "icl-restyle", "strong-base", "strong-instructed"]


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    """Two tiny models on disk: (weak spec, strong spec)."""
    root = tmp_path_factory.mktemp("tiny")
    return str(make_tiny_model(root / "weak", seed=1)), str(make_tiny_model(root / "strong", seed=2))


@pytest.fixture
def task(store):
    """A task whose prompt set has 10 train and 3 eval prompts."""
    task_store.upsert_task(store, {"name": "toy", "title": "Toy", "concept": "Talk like a pirate.",
                                   "guidelines": "Prefer pirates.", "prompt_set": "toyq"})
    task_store.insert_prompts(store, "toyq", [
        {"ext_id": f"q{i}", "text": f"question number {i}?", "split": "eval" if i in (4, 9, 12) else "train"}
        for i in range(13)
    ])
    return task_store.get_task(store, "toy")


@pytest.fixture
def spy(monkeypatch):
    """Record every generate call (conversations, texts) and every fresh model load."""
    calls = {"generate": [], "loads": []}
    real_generate, real_load = generation.generate, loading.load_uncached

    def fake_generate(model, tokenizer, conversations, params, progress=None):
        texts = real_generate(model, tokenizer, conversations, params, progress)
        calls["generate"].append((conversations, texts))
        return texts

    def fake_load(spec, *args, **kwargs):
        calls["loads"].append(getattr(spec, "spec", spec))
        return real_load(spec, *args, **kwargs)

    monkeypatch.setattr(generation, "generate", fake_generate)
    monkeypatch.setattr(loading, "load_uncached", fake_load)
    loading.clear_cache()
    yield calls
    loading.clear_cache()


def run(store, settings, **kw):
    """Queue a job built from kw, claim it and run it like a worker; returns the job row."""
    job = generate_spec.make_job(store, settings, **kw)
    job_id = generate_spec.enqueue(store, job)
    claimed = jobs.claim(store, "test", kinds=("generate",))
    assert claimed["id"] == job_id
    run_claimed(store, settings, claimed, heartbeat_s=30)
    return jobs.get(store, job_id)


def job_kw(specs, **over):
    weak, strong = specs
    kw = dict(task="toy", strategies=REFINE + ["correction"], n=5, split="train", weak=weak, strong=strong,
              max_new_tokens=4, n_icl=2, icl_pool=6)
    return {**kw, **over}


def test_weak_labels_come_first_and_every_strategy_is_stored(store, settings, task, specs, spy):
    weak, strong = specs
    targets = task_store.list_prompts(store, "toyq", "train", limit=5)
    human = outputs.add_output(store, task["id"], targets[0]["id"], "human", "correction", {}, 0, "A fixed answer, arr.",
                               source="human")
    row = run(store, settings, **job_kw(specs))
    assert row["status"] == "done", row["message"]
    result = row["result"]

    # each model loaded once, the weak one first
    assert [str(s) for s in spy["loads"]] == [weak, strong]
    weak_convs = spy["generate"][0][0]
    assert all(c[0] == {"role": "system", "content": "Talk like a pirate."} for c in weak_convs)

    weak_out = {o["prompt_id"]: o for o in outputs.list_outputs(store, task["id"], strategy="weak", model=weak)}
    assert {p["id"] for p in targets} <= set(weak_out)  # ask-to-improve needs the prompts' own
    by_ext = {p["ext_id"]: p for p in task_store.list_prompts(store, "toyq")}
    sent = [c for convs, _ in spy["generate"] for c in convs]
    for name in REFINE:
        stored = outputs.list_outputs(store, task["id"], strategy=name, model=strong)
        assert sorted(o["prompt_id"] for o in stored) == sorted(p["id"] for p in targets)
        assert all(o["job_id"] == row["id"] and o["seed"] == 0 for o in stored)
    for o in outputs.list_outputs(store, task["id"], strategy="icl-refine"):
        examples = [by_ext[e] for e in o["extra"]["examples"]]
        assert len(examples) == 2 and all(e["split"] == "train" and e["id"] != o["prompt_id"] for e in examples)
        assert all(e["id"] in weak_out for e in examples)
        expected = []
        for e in examples:
            expected += [{"role": "user", "content": e["text"]}, {"role": "assistant", "content": weak_out[e["id"]]["text"]}]
        assert expected + [{"role": "user", "content": o["prompt_text"]}] in sent
    for o in outputs.list_outputs(store, task["id"], strategy="ask-to-improve"):
        assert any(weak_out[o["prompt_id"]]["text"].strip() in c[-1]["content"] and o["prompt_text"] in c[-1]["content"] for c in sent)
    base_out = {o["prompt_id"]: o for o in outputs.list_outputs(store, task["id"], strategy="strong-base", model=strong)}
    for o in outputs.list_outputs(store, task["id"], strategy="icl-restyle"):  # rewrites the stored strong-base answer
        assert any(c[-1]["content"].endswith(f"Question: {o['prompt_text']}\nAnswer: {base_out[o['prompt_id']]['text'].strip()}")
                   for c in sent)
        assert len(o["extra"]["examples"]) == 2
    descriptions = [t for convs, texts in spy["generate"] for c, t in zip(convs, texts) if "same writer" in c[-1]["content"]]
    assert len(descriptions) == 5
    for o in outputs.list_outputs(store, task["id"], strategy="infer-and-respond"):
        assert o["extra"]["description"] in descriptions and len(o["extra"]["examples"]) == 2

    assert result["corrections"] == [human]
    assert len(result["outputs"]) == 5 * len(REFINE)
    assert result["generated"] == len(weak_out) + 5 * len(REFINE) + 5  # + the descriptions
    assert row["step"] == row["total"] == result["generated"]

    # a re-run finds everything stored: no model is loaded and nothing generated
    spy["loads"].clear(), spy["generate"].clear()
    loading.clear_cache()
    again = run(store, settings, **job_kw(specs))
    assert again["result"]["generated"] == 0 and again["result"]["skipped"] == 5 * len(REFINE)
    assert sorted(again["result"]["outputs"]) == sorted(result["outputs"])
    assert spy["loads"] == [] and spy["generate"] == []

    # other sampling params are other outputs; the stored weak labels of other params are not reused
    third = run(store, settings, **job_kw(specs, strategies=["ask-to-improve"], max_new_tokens=3))
    assert third["result"]["generated"] == 5 + 5


def test_icl_restyle_alone_generates_the_strong_base_answers_it_rewrites_first(store, settings, task, specs, spy):
    weak, strong = specs
    first = run(store, settings, **job_kw(specs, strategies=["icl-restyle"], n=3))
    assert first["status"] == "done", first["message"]
    base = outputs.list_outputs(store, task["id"], strategy="strong-base", model=strong)
    assert len(base) == 3 and len(outputs.list_outputs(store, task["id"], strategy="icl-restyle")) == 3
    # weak labels of the examples, the 3 plain answers, the 3 rewrites; the plain answers before the rewrites
    plain = [i for i, (convs, _) in enumerate(spy["generate"]) if all(len(c) == 1 and "rewrite" not in c[0]["content"] for c in convs)]
    rewrites = [i for i, (convs, _) in enumerate(spy["generate"]) if any("rewrite the answer" in c[-1]["content"] for c in convs)]
    assert plain and rewrites and max(plain) < min(rewrites)
    assert first["result"]["generated"] == first["total"]
    # with strong-base asked for too, the stored plain answers are found, not generated again
    again = run(store, settings, **job_kw(specs, strategies=["strong-base", "icl-restyle"], n=3))
    assert again["result"]["generated"] == 0 and again["result"]["skipped"] == 6


def test_weak_opening_begins_each_plain_answer_with_the_opening_the_pools_weak_labels_share(store, settings, task, specs, spy):
    from models.strategies import shared_opening

    weak, strong = specs
    done = run(store, settings, **job_kw(specs, strategies=["weak-opening"], split="eval", n=3))
    assert done["status"] == "done", done["message"]
    pool = task_store.list_prompts(store, "toyq", "train", limit=6)
    labels = {o["prompt_id"]: o["text"] for o in outputs.list_outputs(store, task["id"], strategy="weak", model=weak)}
    assert sorted(labels) == sorted(p["id"] for p in pool)  # the whole pool's weak labels, generated first
    opening = shared_opening([labels[p["id"]] for p in pool])
    stored = outputs.list_outputs(store, task["id"], strategy="weak-opening", model=strong)
    assert len(stored) == 3 and opening
    assert all(o["text"].startswith(opening) and o["extra"]["opening"] == opening for o in stored)
    sent = [c for convs, _ in spy["generate"] for c in convs if c[-1]["role"] == "assistant"]
    assert sorted(c[0]["content"] for c in sent) == sorted(o["prompt_text"] for o in stored)
    assert all(c[-1]["content"] == opening for c in sent)


def test_task_free_strategies_share_outputs_between_tasks(store, settings, task, specs, spy):
    task_store.upsert_task(store, {"name": "toy2", "title": "Toy 2", "concept": "Explain with an analogy.",
                                   "guidelines": "Prefer analogies.", "prompt_set": "toyq"})
    first = run(store, settings, **job_kw(specs, strategies=["strong-base", "weak"], n=3))
    spy["generate"].clear()
    second = run(store, settings, **job_kw(specs, task="toy2", strategies=["strong-base", "weak"], n=3))
    assert second["result"]["shared"] == 3 and second["result"]["generated"] == 3  # only the weak labels
    assert all(c[0]["content"] == "Explain with an analogy." for convs, _ in spy["generate"] for c in convs)
    texts = lambda job: sorted(outputs.get_output(store, i)["text"] for i in job["result"]["outputs"]
                               if outputs.get_output(store, i)["strategy"] == "strong-base")
    assert texts(first) == texts(second)
    toy2 = task_store.get_task(store, "toy2")
    assert len(outputs.list_outputs(store, toy2["id"], strategy="strong-base")) == 3


def test_eval_prompts_never_serve_as_examples(store, settings, task, specs, spy):
    row = run(store, settings, **job_kw(specs, strategies=["icl-refine"], split=None, n=13, n_icl=3, icl_pool=8))
    assert row["status"] == "done", row["message"]
    splits = {p["ext_id"]: p["split"] for p in task_store.list_prompts(store, "toyq")}
    stored = outputs.list_outputs(store, task["id"], strategy="icl-refine")
    assert len(stored) == 13 and {o["split"] for o in stored} == {"train", "eval"}
    for o in stored:
        assert all(splits[e] == "train" for e in o["extra"]["examples"])
        assert o["prompt_text"] not in [p for p in o["extra"]["examples"]]


def test_cancel_keeps_finished_chunks_and_a_rerun_resumes(store, settings, task, specs, spy, monkeypatch):
    monkeypatch.setattr(generate_job, "CHUNK_BATCHES", 1)
    real = generation.generate

    def cancel_after_first(model, tokenizer, conversations, params, progress=None):
        texts = real(model, tokenizer, conversations, params, progress)
        (running,) = [j for j in jobs.list_jobs(store, "generate") if j["status"] == "running"]
        jobs.request_cancel(store, running["id"])
        return texts

    monkeypatch.setattr(generation, "generate", cancel_after_first)
    kw = job_kw(specs, strategies=["strong-base"], n=6, batch_size=2)
    row = run(store, settings, **kw)
    assert row["status"] == "cancelled"
    assert len(outputs.list_outputs(store, task["id"], strategy="strong-base")) == 2  # the first chunk was kept
    monkeypatch.setattr(generation, "generate", real)
    again = run(store, settings, **kw)
    assert again["status"] == "done" and again["result"] == {**again["result"], "generated": 4, "skipped": 2}
    assert len(outputs.list_outputs(store, task["id"], strategy="strong-base")) == 6


def test_make_job_refuses_bad_requests_before_queueing(store, settings, task, specs):
    for kw, message in [
        (dict(strategies=["nope"]), "unknown strategy"),
        (dict(strategies=[]), "at least one strategy"),
        (dict(task="missing"), "unknown task"),
        (dict(strategies=["model:v9"]), "no trained model version"),
        (dict(n_icl=6, icl_pool=6), "--n-icl"),
        (dict(weak="nosuchthing"), "unknown model spec"),
        (dict(split="test"), "split must be one of 'train', 'validation', 'eval'"),
        (dict(split="validation"), "has no validation prompts in set"),
        (dict(n=0), "--n"),
        (dict(top_p=0.0), "top_p"),
        (dict(batch_size=0), "batch_size"),
    ]:
        with pytest.raises(UserError, match=message):
            generate_spec.make_job(store, settings, **job_kw(specs, **kw))
    assert jobs.list_jobs(store) == []


def test_cli_wait_runs_the_job_here_and_exports(store, settings, task, specs, tmp_path, capsys):
    weak, strong = specs
    path = tmp_path / "seed" / "toy.jsonl"
    code = app.main(["generate", "--task", "toy", "--strategies", "weak,strong-base", "--n", "3", "--split", "train",
                     "--weak", weak, "--strong", strong, "--max-new-tokens", "3", "--wait", "--export", str(path)])
    assert code == 0, capsys.readouterr()
    (job,) = jobs.list_jobs(store, "generate")
    assert job["status"] == "done" and job["step"] == job["total"] == 6
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 6
    assert {(r["strategy"], r["model"]) for r in lines} == {("weak", weak), ("strong-base", strong)}
    assert all(r["task"] == "toy" and r["prompt_set"] == "toyq" and r["params"]["max_new_tokens"] == 3 for r in lines)
    assert app.main(["generate", "--task", "toy", "--strategies", "weak", "--export", str(path)]) == 2  # needs --wait


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory):
    from tests.fixtures_app import running_app

    with running_app(tmp_path_factory.mktemp("ui") / "home") as (url, store):
        yield url, store


def ui_client(url, name):
    from gradio_client import Client

    from tests.fixtures_app import PASSWORDS

    return Client(url, auth=(name, PASSWORDS[name]), verbose=False, analytics_enabled=False)


def test_generate_tab_queues_watches_and_cancels(ui_app):
    url, store = ui_app
    res = ui_client(url, "res")
    # a mistake in the form is said in the status (and a toast), not raised: a raised error marks every
    # output "Error" and clears the watched job's number
    _, refused, _ = res.predict("toy", ["weak"], "nope", 4, "train", 3, 8, 0, 1, 0, "smollm2-135m", "smollm2-135m",
                                api_name="/generate_start")
    assert "Not queued:" in refused and "no trained model version &#x27;nope&#x27;" in refused
    assert jobs.list_jobs(store, kind="generate") == []
    job_id, status, _ = res.predict("toy", ["weak", "icl-refine"], "", 4, "train", 3, 8, 0, 1, 0, "smollm2-135m",
                                    "smollm2-135m", api_name="/generate_start")
    job = jobs.get(store, int(job_id))
    assert job["status"] == "queued" and job["created_by"] == "res" and "queued" in status
    assert job["params"]["strategies"] == ["weak", "icl-refine"] and job["params"]["max_new_tokens"] == 8
    assert "cancelled" in res.predict(job_id, api_name="/generate_cancel")
    assert jobs.get(store, int(job_id))["status"] == "cancelled"
    assert "icl-refine 4" in res.predict("toy", api_name="/generate_counts")


def test_generate_tab_schedules_pairs(ui_app):
    url, store = ui_app
    task = task_store.get_task(store, "toy")
    for prompt in task_store.list_prompts(store, task["prompt_set"]):
        outputs.add_output(store, task["id"], prompt["id"], "m-strong", "strong-base", {}, 0, f"Plain {prompt['text']}")
    client = ui_client(url, "res")
    message = client.predict("toy", "the two sides below", "strong-base", "weak", 3, "all", 1, api_name="/generate_pairs")
    assert "Created **3** pairs" in message
    made = [p for p in pairs.list_pairs(store, task["id"]) if p["batch"] == "strong-base vs weak"]
    assert len(made) == 3 and all(p["votes_wanted"] == 1 for p in made)


def test_generate_tab_schedules_the_default_recipes_pairs_with_the_form_as_it_opens(ui_app):
    """The pairs choice opens on the default recipe's plan (dpo-concept-sft: icl-refine against strong-base)."""
    from ui.generate_tab import PAIR_CHOICES

    url, store = ui_app
    task = task_store.get_task(store, "toy")
    for prompt in task_store.list_prompts(store, task["prompt_set"]):
        outputs.add_output(store, task["id"], prompt["id"], "m-strong", "strong-base", {}, 0, f"Plain {prompt['text']}")
    assert PAIR_CHOICES[0] == "dpo-concept-sft: icl-refine vs strong-base"
    message = ui_client(url, "res").predict("toy", PAIR_CHOICES[0], "icl-refine", "weak", 40, "all", None, api_name="/generate_pairs")
    made = [p for p in pairs.list_pairs(store, task["id"]) if p["batch"] == "icl-refine vs strong-base"]
    assert made and "icl-refine vs strong-base: created" in message and "icl-refine vs weak" not in message
