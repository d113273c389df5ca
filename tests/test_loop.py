"""The product loop end to end on tiny models, as study.loop_run runs it for the committed measurement: generate,
pairs (the default recipe's plan), the pilot's simulated annotators voting through the real server's Annotate
routes, a train job through the worker code, and evaluate jobs on the eval split; each stage's stored result is
checked, and the adapter's weights moved."""

from __future__ import annotations

import json

from feedback.recipes import DEFAULT_RECIPE, RECIPES
from feedback.pair_plan import plan_pairs
from settings import Settings
from storage import evaluations, outputs, pairs, votes
from storage import models as model_store
from storage import tasks as task_store
from storage.db import Store
from study import loop_run
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)


def test_the_product_loop_runs_end_to_end_on_tiny_models(tmp_path, tiny_model_dir):  # noqa: F811
    import safetensors.torch

    home, out = tmp_path / "home", tmp_path / "loop"
    models = {"REFINERY_WEAK_MODEL": str(tiny_model_dir), "REFINERY_STRONG_MODEL": str(tiny_model_dir)}
    settings = Settings.load(env={"REFINERY_HOME": str(home), **models})
    short = ["--max-new-tokens", "12"]  # tiny models never stop on their own: shorter answers keep the test quick
    more = {"generate": short, "evaluate-version": short + ["--n", "6"], "evaluate-strong-base": short + ["--n", "6"],
            "evaluate-weak": short + ["--n", "6"], "train": ["--max-steps", "2"]}
    record = loop_run.run_phases("pirate", home, out, settings, env=models, more=more)
    assert [name for name, _ in loop_run.phases("pirate", "w", "s")] == list(record["phases"])
    assert all(p["done"] and p["seconds"] > 0 for p in record["phases"].values())
    assert json.loads((out / "record.json").read_text())["version"] == record["version"]

    store = Store(home / "refinery.db")
    task = task_store.get_task(store, "pirate")
    for strategy in ("weak", "strong-base", "icl-refine"):  # generate: README's strategies on 40 train prompts
        assert len(outputs.newest_per_prompt(store, task["id"], strategy, split="train")) >= 40
    scheduled = pairs.list_pairs(store, task["id"])
    plan = {f"{a} vs {b}" for a, b in plan_pairs(RECIPES[DEFAULT_RECIPE].plan)}
    made = [p for p in scheduled if p["batch"] in plan]
    assert made
    cast = votes.list_votes(store, task["id"])
    assert cast and all(v["simulated"] for v in cast)  # the pilot's accounts voted, nobody else
    assert {v["pair_id"] for v in cast} >= {p["id"] for p in made}
    version = model_store.get_model(store, record["version"])
    assert version["recipe"] == {"name": DEFAULT_RECIPE, "changed": {"max_steps": 2}} and version["method"] == RECIPES[DEFAULT_RECIPE].method
    weights = safetensors.torch.load_file(f"{version['path']}/adapter_model.safetensors")
    assert any(name.endswith("lora_B.weight") and w.abs().max() > 0 for name, w in weights.items())  # B starts at zero
    evaluated = {(e["model"], e["strategy"], e["n"]) for e in evaluations.list_evaluations(store, task["id"]) if e["split"] == "eval"}
    tiny = str(tiny_model_dir)
    assert evaluated == {(record["version"], f"model:{record['version']}", 6), (tiny, "strong-base", 6), (tiny, "weak", 6)}

    text = loop_run.write_report(record, home, out, settings)
    assert "| weak model |" in text and "| strong base |" in text and f"| loop adapter ({record['version']}) |" in text
    assert (out / "loop.md").read_text() == text and "python app.py pilot --task pirate" in text
    answers = json.loads((out / "answers.json").read_text())
    assert len(answers["prompts"]) == 6 and all(len(texts) == 6 for texts in answers["rows"].values())
    assert f"loop adapter ({record['version']})" in answers["rows"]
    stored = json.loads((out / "votes.json").read_text())
    assert len(stored) == votes.count_votes(store, task_id=task["id"]) and all(v["simulated"] for v in stored)
