"""Evaluation: bootstrap intervals, scoring by the task's scorers, the report's ratios, results block and headline table."""

import numpy as np
import pytest

from study import report
from study.evaluation import bootstrap_ci, paired_difference, score_texts, summarize, summarize_scores


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    values = np.random.default_rng(3).random(40)
    mean, lo, hi = bootstrap_ci(values, n=500, seed=1)
    assert mean == pytest.approx(values.mean())
    assert lo < mean < hi
    assert bootstrap_ci(values, n=500, seed=1) == (mean, lo, hi)
    assert bootstrap_ci(values, n=500, seed=2) != (mean, lo, hi)
    # roughly mean +- 1.96 standard errors
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.25)


def test_bootstrap_ci_edge_cases():
    assert bootstrap_ci([0.5]) == (0.5, 0.5, 0.5)
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        bootstrap_ci([])
    assert summarize([]) is None
    assert summarize([0.0, 1.0])["n"] == 2


def test_score_texts_uses_the_tasks_scorers():
    task = {"concept_scorer": "pirate", "content_scorer": "key_facts"}
    prompts = [{"text": "Capital of Australia?", "reference": "Canberra", "key_facts": [["Canberra"]], "answer": None}] * 2
    texts = ["Arr matey, ye be lookin' fer Canberra, aye!", "The capital of Australia is Sydney."]
    scores = score_texts(task, prompts, texts)
    assert scores["concept"][0] > 0.5 > scores["concept"][1]
    assert scores["content"] == [1.0, 0.0]
    summary = summarize_scores(scores)
    assert summary["content"]["mean"] == 0.5
    assert score_texts({"concept_scorer": "pirate", "content_scorer": None}, prompts, texts)["content"] is None
    with pytest.raises(ValueError):
        score_texts(task, prompts, texts[:1])


def stat(mean):
    return {"mean": mean, "lo": mean - 0.1, "hi": mean + 0.1}


def test_gap_ratios_follow_the_paper_definitions():
    rows = report.add_ratios([
        {"name": "weak model", "concept": stat(0.8), "content": stat(0.2)},
        {"name": "strong base", "concept": stat(0.0), "content": stat(0.9)},
        {"name": "sft-refined", "concept": stat(0.6), "content": stat(0.55)},
        {"name": "no content", "concept": stat(0.4), "content": None},
    ])
    by = {r["name"]: r for r in rows}
    assert by["weak model"]["transferred"] == pytest.approx(1.0) and by["weak model"]["kept"] == pytest.approx(0.0)
    assert by["strong base"]["transferred"] == pytest.approx(0.0) and by["strong base"]["kept"] == pytest.approx(1.0)
    assert by["sft-refined"]["transferred"] == pytest.approx(0.75)
    assert by["sft-refined"]["kept"] == pytest.approx(0.5)
    assert by["no content"]["kept"] is None
    assert report.gap_ratio(0.3, 0.5, 0.5) is None  # weak and strong equal: no gap to recover


def test_report_table_and_readme_block(tmp_path):
    rows = report.add_ratios([
        {"name": "weak model", "concept": stat(0.8), "content": stat(0.2)},
        {"name": "strong base", "concept": stat(0.1), "content": stat(0.9)},
    ])
    text = report.report_markdown("pirate: weak a → strong b", "tiny setup.", rows, "### Details\n\n- x")
    assert "| weak model | 0.80 [0.70, 0.90] | 0.20 [0.10, 0.30] | 1.00 | 0.00 |" in text
    for run in ("b-run", "a-run"):
        (tmp_path / run).mkdir()
        (tmp_path / run / "report.md").write_text(text.replace("pirate", run))
    block = report.readme_block(tmp_path)
    assert block.index("a-run") < block.index("b-run") and "Details" not in block
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nintro\n")
    assert report.update_readme(readme, tmp_path)
    assert report.readme_results(readme.read_text()) == block
    assert not report.update_readme(readme, tmp_path)  # already up to date
    readme.write_text(readme.read_text() + "\n## After\n")
    (tmp_path / "a-run" / "report.md").write_text(text.replace("pirate", "a-run").replace("0.80", "0.81"))
    assert report.update_readme(readme, tmp_path)
    assert "0.81" in readme.read_text() and readme.read_text().endswith("## After\n")


def test_headline_block_is_a_compact_table_per_report(tmp_path):
    rows = report.add_ratios([
        {"name": "weak model", "concept": stat(0.8), "content": stat(0.2), "formula": 0.1, "repetition": stat(0.02)},
        {"name": "strong base", "concept": stat(0.1), "content": stat(0.9), "formula": 0.0, "repetition": stat(0.01)},
    ])
    diffs = [{"refined": "strong base", "naive": "weak model", "concept": stat(-0.7), "content": stat(0.7)}]
    (tmp_path / "a-run").mkdir()
    (tmp_path / "a-run" / "report.md").write_text(report.report_markdown("pirate: weak a → strong b", "setup.", rows, "", diffs))
    block = report.headline_block(tmp_path)
    assert block.startswith("**pirate: weak a → strong b** (a-run)")
    assert "| row | concept | formula | content | repetition |" in block
    assert "| weak model | 0.80 | 0.10 | 0.20 | 0.02 |" in block and "| strong base | 0.10 | 0.00 | 0.90 | 0.01 |" in block
    assert "refined − naive" not in block  # the paired differences stay in results/README.md
    (tmp_path / "b-run").mkdir()  # a report without formula or repetition columns shows dashes there
    (tmp_path / "b-run" / "report.md").write_text(report.report_markdown("analogy", "setup.", report.add_ratios(
        [{"name": "weak model", "concept": stat(0.8), "content": stat(0.2)}])))
    assert "| weak model | 0.80 | — | 0.20 | — |" in report.headline_block(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{report.HEADLINE_START}\nold\n{report.HEADLINE_END}\n\n## After\n")
    assert report.update_headline(readme, tmp_path) and not report.update_headline(readme, tmp_path)
    assert "old" not in readme.read_text() and readme.read_text().endswith("## After\n")


def test_plot_writes_png(tmp_path):
    rows = [{"name": "weak model", "concept": stat(0.8), "content": stat(0.2)}, {"name": "x", "concept": None, "content": None}]
    report.plot(rows, tmp_path / "r.png", "t")
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def scored_task(store):
    """A pirate-scored task over its own 4 train and 3 eval prompts."""
    from storage import tasks

    tasks.upsert_task(store, {
        "name": "toy-eval", "title": "Toy", "concept": "Answer like a pirate.", "guidelines": "Pirate and correct.",
        "prompt_set": "toy-eval-q", "concept_scorer": "pirate", "content_scorer": "key_facts",
    })
    tasks.insert_prompts(store, "toy-eval-q", [
        {"ext_id": f"q{i}", "text": f"Question {i}?", "reference": "Canberra", "key_facts": [["Canberra"]],
         "split": "eval" if i >= 4 else "train"}
        for i in range(7)
    ])
    return "toy-eval"


@pytest.mark.timeout(600)
def test_evaluate_command_scores_stores_and_reuses_outputs(tmp_path, settings, store, scored_task, capsys):
    import app
    from storage import evaluations, jobs, outputs, tasks
    from tests.tiny import make_tiny_model

    spec = str(make_tiny_model(tmp_path / "tiny"))
    argv = ["evaluate", "--task", scored_task, "--model", spec, "--n", "2", "--max-new-tokens", "4", "--wait"]
    assert app.main(argv) == 0
    assert "concept:" in capsys.readouterr().out
    task_id = tasks.get_task(store, scored_task)["id"]
    (row,) = evaluations.list_evaluations(store, task_id)
    assert (row["model"], row["strategy"], row["n"]) == (spec, "strong-base", 2)
    assert row["concept_lo"] <= row["concept_mean"] <= row["concept_hi"]
    assert len(row["details"]["concept_scores"]) == 2
    assert len(outputs.list_outputs(store, task_id, strategy="strong-base", split="eval")) == 2
    job = jobs.list_jobs(store, kind="evaluate")[0]
    assert job["status"] == "done" and job["result"]["id"] == row["id"]

    assert app.main(argv) == 0  # a second evaluation reuses the stored outputs
    assert len(outputs.list_outputs(store, task_id, strategy="strong-base", split="eval")) == 2
    assert len(evaluations.list_evaluations(store, task_id, latest_only=False)) == 2

    assert app.main(["evaluate", "--task", scored_task, "--model", "no-such-model", "--wait"]) == 2
    assert "unknown model spec" in capsys.readouterr().err

    assert len(jobs.list_jobs(store, kind="evaluate")) == 2  # nothing queued for the bad spec

    # the validation split, for choosing rows, rates and steps: scored and stored as such, left out of the Results tab
    assert app.main(["evaluate", "--task", scored_task, "--model", spec, "--split", "validation", "--wait"]) == 2
    assert "has no validation prompts" in capsys.readouterr().err
    tasks.insert_prompts(store, "toy-eval-q", [{"ext_id": "v0", "text": "Held out?", "key_facts": [["Canberra"]], "split": "validation"}])
    assert app.main(["evaluate", "--task", scored_task, "--model", spec, "--split", "validation", "--max-new-tokens", "4", "--wait"]) == 0
    assert "1 validation prompts:" in capsys.readouterr().out
    held = [e for e in evaluations.list_evaluations(store, task_id) if e["split"] == "validation"]
    assert [e["n"] for e in held] == [1] and len(outputs.list_outputs(store, task_id, strategy="strong-base", split="validation")) == 1
    from types import SimpleNamespace
    from ui.results import task_view

    assert len(task_view(SimpleNamespace(store=store), scored_task)["evaluations"]) == 1  # the eval split's row only


@pytest.mark.timeout(600)
def test_evaluate_with_a_judge_stores_its_scores_beside_the_heuristics(tmp_path, settings, store, scored_task, capsys):
    import app
    from storage import evaluations, jobs, tasks
    from tests.tiny import make_tiny_model
    from judging.judge import default_name

    spec = str(make_tiny_model(tmp_path / "tiny"))
    base = ["evaluate", "--task", scored_task, "--model", spec, "--n", "2", "--max-new-tokens", "4", "--wait"]
    assert app.main(base) == 0
    assert app.main(base + ["--judge", spec]) == 0
    name = default_name(spec)  # "<spec> (int8)" on a CPU without native bf16, the spec elsewhere
    assert f"(judge {name})" in capsys.readouterr().out
    task_id = tasks.get_task(store, scored_task)["id"]
    plain, judged = sorted(evaluations.list_evaluations(store, task_id, latest_only=False), key=lambda e: e["id"])
    assert judged["details"]["concept_scores"] == plain["details"]["concept_scores"]  # heuristics unchanged
    assert judged["concept_mean"] == plain["concept_mean"] and judged["content_mean"] == plain["content_mean"]
    assert judged["details"]["judge"] == name and "judge" not in plain["details"]
    for axis in ("concept", "content"):
        values = judged["details"][f"judge_{axis}_scores"]
        assert len(values) == 2 and all(0.0 <= v <= 1.0 for v in values)
        assert judged["details"][f"judge_{axis}"]["mean"] == pytest.approx(sum(values) / 2)
    assert app.main(base + ["--judge", "no-such-judge"]) == 2
    assert "unknown model spec" in capsys.readouterr().err
    assert len(jobs.list_jobs(store, kind="evaluate")) == 2  # nothing queued for the bad judge


def test_paired_difference_keeps_each_prompts_scores_together():
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 48)  # prompts differ a lot from one another
    shifted = base + 0.05  # every prompt gains exactly 0.05
    d = paired_difference(shifted, base, seed=1)
    assert d["mean"] == pytest.approx(0.05) and d["lo"] == pytest.approx(0.05) and d["hi"] == pytest.approx(0.05)
    assert d["n"] == 48
    # independent intervals of the same two rows overlap: only the paired one shows the gain
    _, lo_shifted, _ = bootstrap_ci(shifted, seed=1)
    _, _, hi_base = bootstrap_ci(base, seed=1)
    assert lo_shifted < hi_base
    noise = paired_difference(rng.uniform(0, 1, 200), rng.uniform(0, 1, 200), seed=2)
    assert noise["lo"] < 0 < noise["hi"]
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0])


def test_evaluate_takes_sampling_flags_into_the_job(tmp_path, settings, store, scored_task):
    import app
    from storage import jobs
    from tests.tiny import make_tiny_model

    spec = str(make_tiny_model(tmp_path / "tiny"))
    argv = ["evaluate", "--task", scored_task, "--model", spec, "--n", "2", "--temperature", "0.7", "--top-p", "0.9"]
    assert app.main(argv) == 0
    (job,) = jobs.list_jobs(store, kind="evaluate")
    assert (job["params"]["temperature"], job["params"]["top_p"], job["params"]["max_new_tokens"]) == (0.7, 0.9, 128)  # the seeds' limit (models/gen_params.py)
    assert app.main([*argv[:-2], "--top-p", "0"]) == 2  # GenParams refuses it before anything is queued
    assert len(jobs.list_jobs(store, kind="evaluate")) == 1


def test_holm_adjusts_a_family_of_p_values_in_their_order():
    from feedback.bootstrap import holm

    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])


def test_paired_difference_p_is_small_for_a_clear_gap_and_one_for_none():
    from study.evaluation import paired_difference

    assert paired_difference([1.0] * 30, [0.0] * 30)["p"] <= 0.002
    assert paired_difference([0.5] * 10, [0.5] * 10)["p"] == 1.0
    noisy = paired_difference([1, 0] * 10, [0, 1] * 10)
    assert noisy["p"] > 0.5
