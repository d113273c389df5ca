"""Scorer calibration: AUC and agreement arithmetic, the labelled sets, the command, and docs/scorers.md's table (drift test)."""

from pathlib import Path

import pytest
import torch

import app
from scoring import scorers
from feedback.tasks import shipped_tasks
from settings import Settings
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from judging import calibration as C
from judging.judge import Judge
from models.loading import load_uncached

ROOT = Path(__file__).resolve().parent.parent
TASKS = {t.name: t for t in shipped_tasks()}


def test_auc_known_answers():
    assert C.auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0
    assert C.auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) == 0.0
    assert C.auc([0.5, 0.5], [1, 0]) == 0.5
    assert C.auc([0.9, 0.5, 0.5], [1, 1, 0]) == 0.75
    assert C.auc([0.9], [1]) is None
    stat = C.auc_interval([0.9, 0.8, 0.3, 0.6, 0.1, 0.2], [1, 1, 1, 0, 0, 0], n_boot=300)
    assert stat["value"] == pytest.approx(8 / 9) and stat["lo"] <= stat["value"] <= stat["hi"] and stat["n"] == 6


def test_agreement_with_majority_counts_ties_half():
    stat = C.agreement_interval([1.0, 0.2, 0.5, 0.9], [0.0, 0.8, 0.5, 0.1], n_boot=200)
    assert stat["value"] == pytest.approx((1 + 0 + 0.5 + 1) / 4) and stat["n"] == 4
    assert C.agreement_interval([], []) is None


def test_labelled_sets_hold_sixty_texts_with_degenerate_answers_labelled_low():
    for name in ("pirate", "analogy"):
        rows = C.label_rows(TASKS[name])
        assert sum(len(r) for r in rows.values()) >= 60, name
        task_rows = C._jsonl(C.LABELS_DIR / "tasks" / f"{name}.jsonl")
        degenerate = [r for r in task_rows if any(w in r.get("note", "") for w in ("looping", "stuffed", "off-topic"))]
        assert len(degenerate) >= 6 and all(r["label"] == 0 for r in degenerate), name
    assert all(r["prompt"].get("reference") for r in C.label_rows(TASKS["pirate"])["content"][-10:])  # the judge sees references


def test_the_issues_collapsed_answer_is_labelled_low():
    """"Aye, matey! Aye, matey! ...": its label is 0; the pirate scorer reads it as interjections only (a formula,
    below threshold) and the fluency-gated heuristic takes the loop to 0."""
    rows = [r for r in C.label_rows(TASKS["pirate"])["concept"] if r["text"].startswith("Aye, matey! Aye, matey!")]
    assert rows and rows[0]["label"] == 0
    assert scorers.pirate(rows[0]["text"]) == 0.3
    assert C.scorer_fns(TASKS["pirate"], "concept")["heuristic"]([rows[0]["prompt"]], [rows[0]["text"]])[0] < scorers.threshold("pirate")


def test_a_heuristics_only_rerun_keeps_the_stored_judge_figures():
    judged = {"judge": "j", "labels": {"concept": {"n": 3, "scores": {"judge": {"value": 0.9}}}}, "votes": None}
    fresh = {"judge": None, "labels": {"concept": {"n": 3, "scores": {"heuristic": {"value": 0.7}}}}, "votes": None}
    kept = C.keep_judge(fresh, judged)
    assert kept["judge"] == "j" and kept["labels"]["concept"]["scores"]["judge"] == {"value": 0.9}
    relabelled = {"judge": None, "labels": {"concept": {"n": 4, "scores": {}}}, "votes": None}
    assert "judge" not in C.keep_judge(relabelled, judged)["labels"]["concept"]["scores"]  # stale: the labels changed
    other = {"judge": "k", "labels": {"concept": {"n": 3, "scores": {}}}, "votes": None}
    assert "judge" not in C.keep_judge(other, judged)["labels"]["concept"]["scores"]


def test_calibrate_task_measures_heuristic_length_and_judge(tiny_model_dir, tmp_path):
    model, tok = load_uncached(str(tiny_model_dir), Settings(home=tmp_path), device="cpu", dtype=torch.float32)
    judge = Judge("tiny", model, tok, batch_size=16)
    votes = [{"prompt_row": {"text": "What is 7 times 8?", "answer": "56"}, "chosen": "7 x 8 = 56\n#### 56", "rejected": "54"}]
    result = C.calibrate_task(TASKS["math-steps"], judge=judge, votes=votes)
    assert result["judge"] == "tiny"
    for axis in ("concept", "content"):
        cols = result["labels"][axis]["scores"]
        assert set(cols) == {"heuristic", "length", "judge"}
        assert all(0.0 <= s["lo"] <= s["value"] <= s["hi"] <= 1.0 for s in cols.values())
    assert result["votes"]["scores"]["content/length"]["value"] == 1.0  # the chosen answer is the longer one
    assert result["votes"]["scores"]["content/heuristic"]["value"] == 1.0  # only the chosen one has the key fact
    only = C.calibrate_task(TASKS["math-steps"], judge=judge, judge_axes=("content",))
    assert "judge" not in only["labels"]["concept"]["scores"] and "judge" in only["labels"]["content"]["scores"]
    table = C.markdown_table({"math-steps": result})
    assert "`tiny`" in table and "| math-steps | content |" in table and "majority" in table


def test_command_writes_the_table_and_updates_a_readme(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- calibration:start -->\nold\n<!-- calibration:end -->\n")
    monkeypatch.setattr("judging.scorers_cli.README", readme)
    out = tmp_path / "cal"
    assert app.main(["--home", str(tmp_path / "home"), "scorers", "calibrate", "--task", "pirate", "--results", str(out), "--update-readme"]) == 0
    assert app.main(["--home", str(tmp_path / "home"), "scorers", "calibrate", "--task", "analogy", "--results", str(out)]) == 0
    stored = C.load_results(out)
    assert set(stored) == {"pirate", "analogy"}  # a run for one task keeps the others
    assert "| pirate | concept |" in readme.read_text() and "old" not in readme.read_text()
    assert app.main(["--home", str(tmp_path / "home"), "scorers", "calibrate", "--task", "nope", "--results", str(out)]) == 2
    assert "unknown task nope" in capsys.readouterr().err
    assert set(C.load_results(out)) == {"pirate", "analogy"}


def test_readme_calibration_block_matches_the_stored_results_and_the_labels():
    """Drift test: docs/scorers.md's table is the stored one, and its heuristic and length figures are today's labels'."""
    stored = C.load_results()
    if not stored:
        pytest.skip("no results/calibration yet: run `python app.py scorers calibrate --update-readme`")
    held = C.readme_block((ROOT / "docs" / "scorers.md").read_text())
    assert held == C.markdown_table(stored), "docs/scorers.md's calibration block drifted: run `python app.py scorers calibrate --update-readme`"
    for name, result in stored.items():
        fresh = C.calibrate_task(TASKS[name])
        for axis, entry in fresh["labels"].items():
            old = result["labels"][axis]
            assert (old["n"], old["positive"]) == (entry["n"], entry["positive"]), f"{name}/{axis}: labels changed; recalibrate"
            for col in ("heuristic", "length"):
                assert old["scores"][col] == pytest.approx(entry["scores"][col]), f"{name}/{axis}/{col}: scorer changed; recalibrate"


def test_label_pairs_are_two_answers_to_the_same_prompt_with_different_labels():
    from judging import judge_pairs as P

    rows = [{"prompt_id": pid, "answer": f"{pid}-{label}-{k}", "label": label, "question": "q"}
            for pid in ("p1", "p2") for label in (0, 1, 2) for k in range(2)]
    pairs = P.label_pairs(rows, "concept", max_pairs=100, seed=1)
    assert pairs and all(p["hi"]["prompt_id"] == p["lo"]["prompt_id"] == p["prompt_id"] for p in pairs)
    assert all(p["hi"]["label"] > p["lo"]["label"] and p["kind"] == P.kind_of("concept", p["hi"]["label"], p["lo"]["label"]) for p in pairs)
    assert {p["kind"] for p in pairs} == {"voice>formula", "voice>none", "formula>none"} and len(pairs) == 2 * 3 * 4
    few = P.label_pairs(rows, "concept", max_pairs=6, seed=1)
    assert [p["kind"] for p in few] == ["voice>formula", "voice>none", "formula>none"] * 2  # kinds in turn
    assert P.label_pairs(rows, "concept", 6, seed=1) == few
    real = P.label_pairs(P.agreed("pirate", "content"), "content", 50)
    assert len(real) == 50 and all(p["hi"]["content"] == [1, 1] and p["lo"]["content"] == [0, 0] for p in real)


def test_pair_summary_of_a_perfect_judge_and_of_pure_position_bias():
    from judging.judge_pairs import summarize

    perfect = summarize([{"p_first": 0.9, "p_swapped": 0.8}] * 10)
    assert perfect["accuracy"]["value"] == perfect["auc"]["value"] == 1.0 and perfect["flips"]["value"] == 0.0
    biased = summarize([{"p_first": 0.9, "p_swapped": 0.1}] * 10)  # always "A", whichever answer is shown first
    assert biased["auc"]["value"] == 0.5 and biased["accuracy"]["value"] == 0.5 and biased["flips"]["value"] == 1.0
    wrong = summarize([{"p_first": 0.3, "p_swapped": 0.2}] * 4)
    assert wrong["accuracy"]["value"] == wrong["auc"]["value"] == 0.0 and wrong["n"] == 4


def test_annotator_agreement_on_label_pairs_reads_the_judge_for_the_concept_and_never_the_eval_scorer(monkeypatch):
    from scoring import scorers
    from feedback.tasks import load_task_file
    from judging import annotator_check as A
    from judging import judge_pairs as P

    task = load_task_file(P.ROOT / "data" / "tasks" / "pirate.toml")
    n = len(P.label_pairs(P.agreed("pirate", "concept"), "concept", 30, 0))
    sure = {"concept": [{"p_first": 1.0, "p_swapped": 1.0}] * n}  # a judge always right on the concept
    got = A.agreement(task, sure, noise=0.0, content_noise=1.0, annotators=1, draws=20, max_pairs=30)
    # concept always right, content a coin: right unless the coin says the other side and the tie-break coin does too
    assert all(got[k]["judge"] > 0.6 for k in P.KINDS["concept"]) and got["correct>wrong"]["judge"] == pytest.approx(0.5, abs=0.1)
    monkeypatch.setattr(scorers, "concept_score", lambda name, text: 0.0)  # another eval concept scorer
    again = A.agreement(task, sure, noise=0.0, content_noise=1.0, annotators=1, draws=20, max_pairs=30)
    assert {k: v["judge"] for k, v in again.items()} == {k: v["judge"] for k, v in got.items()}
