"""The experiment runner: the simulated annotator, training data, and a full run on tiny random models."""

import dataclasses
import json

import pytest

import confargs

from storage import evaluations, tasks
from storage.errors import UserError
from study import experiment
from study.experiment import ExperimentConfig
from study.experiment_rows import ROWS, TRAINED, matchups, preference_examples, sft_examples, voted_examples
from study.experiment_report import compared, own_steps, train_texts_line
from study.experiment_runner import Runner, row_train_config
from study.experiment_stages import check_config
from models.strategies import shared_opening
from training import methods


def test_training_examples_use_the_bare_prompt_and_skip_identical_pairs():
    prompts = [{"id": 1, "text": "Q1?"}, {"id": 2, "text": "Q2?"}]
    assert sft_examples(prompts, ["a1", "a2"]) == [
        {"id": 1, "prompt": "Q1?", "completion": "a1"}, {"id": 2, "prompt": "Q2?", "completion": "a2"},
    ]
    pairs = preference_examples(prompts, ["good", "same "], ["bad", "same"])
    assert [(p["id"], p["chosen"], p["rejected"]) for p in pairs] == [(1, "good", "bad")]


def test_dpo_rows_train_on_the_annotators_verdicts_over_their_plans_pairs():
    prompts = [{"id": 1, "text": "Q1?"}, {"id": 2, "text": "Q2?"}]
    texts = {"weak": ["w1", "w2"], "icl-refine": ["r1", "r2"], "strong-base": ["s1", "s2"]}
    verdicts = {
        "icl-refine vs strong-base": [{"prefers_a": True}, {"prefers_a": False}],
        "icl-refine vs weak": [{"prefers_a": True}, {"prefers_a": True}],
        "weak vs strong-base": [{"prefers_a": True}, {"prefers_a": True}],
    }
    assert set(matchups()) == {("icl-refine", "strong-base"), ("icl-refine", "weak"), ("weak", "strong-base"),
                               ("icl-restyle", "strong-base"), ("weak-opening", "strong-base"), ("icl-refine", "strong-instructed")}
    refined = voted_examples(prompts, texts, verdicts, "refined")
    assert [(e["chosen"], e["rejected"]) for e in refined] == [("r1", "s1"), ("s2", "r2"), ("r1", "w1"), ("r2", "w2")]
    naive = voted_examples(prompts, texts, verdicts, "naive")
    assert [(e["chosen"], e["rejected"]) for e in naive] == [("w1", "s1"), ("w2", "s2")]
    concept = voted_examples(prompts, texts, verdicts, "concept")
    assert [(e["chosen"], e["rejected"]) for e in concept] == [("r1", "s1"), ("s2", "r2")]
    texts["icl-restyle"], verdicts["icl-restyle vs strong-base"] = ["x1", "x2"], [{"prefers_a": True}, {"prefers_a": True}]
    restyle = voted_examples(prompts, texts, verdicts, "restyle")
    assert [(e["chosen"], e["rejected"]) for e in restyle] == [("x1", "s1"), ("x2", "s2")]
    texts["weak-opening"], verdicts["weak-opening vs strong-base"] = ["o1", "o2"], [{"prefers_a": False}, {"prefers_a": True}]
    opening = voted_examples(prompts, texts, verdicts, "opening")
    assert [(e["chosen"], e["rejected"]) for e in opening] == [("s1", "o1"), ("o2", "s2")]
    texts["strong-instructed"], verdicts["icl-refine vs strong-instructed"] = ["i1", "i2"], [{"prefers_a": True}, {"prefers_a": False}]
    pick = voted_examples(prompts, texts, verdicts, "pick")
    assert [(e["chosen"], e["rejected"]) for e in pick] == [("r1", "i1"), ("i2", "r2")]
    assert {r.name for r in TRAINED} == {"sft-weak", "sft-refined", "dpo-weak", "dpo-refined", "dpo-refined-sft", "dpo-concept-sft",
                                        "sft-restyle", "dpo-restyle-sft", "sft-opening", "dpo-opening-sft",
                                        "sft-ask-to-improve", "sft-infer-and-respond", "dpo-pick-sft"}
    config = row_train_config(ExperimentConfig(train_steps=8, learning_rate=1e-3), ROWS["dpo-concept-sft"], "cpu")
    assert (config.max_steps, config.learning_rate, config.loss_weights) == (16, 1e-3, "1,64")  # its own steps
    assert (config.lora_r, config.lora_alpha) == (8, 16)  # TrainConfig's rank
    restyle_config = row_train_config(ExperimentConfig(train_steps=8, learning_rate=1e-3), ROWS["dpo-restyle-sft"], "cpu")
    assert (restyle_config.lora_r, restyle_config.lora_alpha) == (2, 4)  # its own rank, alpha 2r
    assert {e["agreement"] for e in refined} == {None}  # a single vote per pair


def test_several_annotators_give_the_majority_its_agreement_and_rows_can_keep_only_clear_pairs():
    prompts = [{"id": 1, "text": "Q1?"}, {"id": 2, "text": "Q2?"}]
    texts = {"weak": ["w1", "w2"], "icl-refine": ["r1", "r2"], "strong-base": ["s1", "s2"]}
    verdicts = {"icl-refine vs strong-base": [{"prefers_a": True, "agreement": 1.0}, {"prefers_a": False, "agreement": 2 / 3}]}
    both = voted_examples(prompts, texts, verdicts, "concept")
    assert [(e["chosen"], e["agreement"]) for e in both] == [("r1", 1.0), ("s2", 2 / 3)]
    clear = voted_examples(prompts, texts, verdicts, "concept", min_agreement=1.0)
    assert [e["chosen"] for e in clear] == ["r1"]
    single = {"icl-refine vs strong-base": [{"prefers_a": True}, {"prefers_a": False}]}
    assert len(voted_examples(prompts, texts, single, "concept", min_agreement=1.0)) == 2  # one vote is unanimous


def test_the_train_texts_line_places_icl_refine_between_the_weak_and_the_strong_texts():
    scores = {"weak": {"concept": [1.0, 0.6], "content": [0.2, 0.4]},
              "icl-refine": {"concept": [0.4, 0.2], "content": [0.8, 0.6]},
              "strong-base": {"concept": [0.0, 0.0], "content": [1.0, 0.8]}}
    line = train_texts_line(scores)
    assert "weak concept 0.80, content 0.30; icl-refine concept 0.30, content 0.70" in line
    # (0.3 - 0) / (0.8 - 0) and (0.7 - 0.3) / (0.9 - 0.3)
    assert "icl-refine's answers carry 0.38 of the concept and 0.67 of the content" in line
    assert "carry" not in train_texts_line({**scores, "weak": {"concept": [1.0], "content": []}})
    restyled = train_texts_line({**scores, "icl-restyle": {"concept": [0.8, 0.0], "content": [0.9, 0.9]}})
    # (0.4 - 0) / 0.8 and (0.9 - 0.3) / 0.6
    assert "icl-refine's answers carry 0.38 of the concept and 0.67 of the content, icl-restyle's answers carry 0.50 of the concept and 1.00 of the content" in restyled


def test_the_targets_line_never_rounds_a_miss_onto_its_goal_and_rows_sharing_steps_share_a_note():
    assert (compared(0.897, 0.9), compared(0.904, 0.9), compared(0.9, 0.9), compared(0.54, 0.5), compared(None, 0.5)) == (
        "0.897", "0.904", "0.90", "0.54", "n/a")
    cfg = ExperimentConfig(train_steps=8, learning_rate=1e-3)
    assert own_steps([ROWS["sft-weak"], ROWS["dpo-concept-sft"], ROWS["dpo-restyle-sft"]], cfg) == (
        " (dpo-concept-sft: 16 steps at 1e-3; dpo-restyle-sft: 16 steps at 1e-3, LoRA rank 2)")
    assert own_steps([ROWS["sft-weak"]], cfg) == ""


def test_config_validation_and_pinned_results_folder(tmp_path, settings):
    with pytest.raises(UserError, match="noise"):
        ExperimentConfig(noise=0.5).resolved(settings)
    with pytest.raises(UserError, match="n-train"):
        ExperimentConfig(n_train=3, n_icl=4).resolved(settings)
    with pytest.raises(UserError, match="learning-rate"):
        ExperimentConfig(learning_rate=-1e-3).resolved(settings)
    with pytest.raises(UserError, match="content-noise"):
        ExperimentConfig(content_noise=1.5).resolved(settings)
    with pytest.raises(UserError, match="repetition-penalty"):
        ExperimentConfig(repetition_penalty=0.5).resolved(settings)
    cfg = ExperimentConfig(out=str(tmp_path / "run")).resolved(settings)
    assert cfg.strong == settings.strong_model and cfg.weak == settings.weak_model
    assert ExperimentConfig().resolved(settings).out.endswith(f"results/pirate-{settings.strong_model}")
    check_config(tmp_path / "run", cfg.pinned())
    check_config(tmp_path / "run", cfg.pinned())  # same settings: resumes
    # rows only choose stages and the judge's scores are keyed stages: neither pins the folder
    check_config(tmp_path / "run", ExperimentConfig(rows="sft-weak", judge="x", out=cfg.out).resolved(settings).pinned())
    with pytest.raises(UserError, match="noise"):
        check_config(tmp_path / "run", ExperimentConfig(noise=0.3, out=cfg.out).resolved(settings).pinned())
    with pytest.raises(UserError, match="content_noise"):
        check_config(tmp_path / "run", ExperimentConfig(content_noise=0.0, out=cfg.out).resolved(settings).pinned())
    with pytest.raises(UserError, match="learning_rate"):
        check_config(tmp_path / "run", ExperimentConfig(learning_rate=0.0, out=cfg.out).resolved(settings).pinned())


def test_trained_rows_use_the_runs_learning_rate(tmp_path, settings, store, tiny_task):
    def config(run_lr: float, row: str):
        cfg = ExperimentConfig(task=tiny_task, n_train=6, n_eval=2, n_icl=2, learning_rate=run_lr, out=str(tmp_path)).resolved(settings)
        return Runner(cfg, settings, store).train_config(ROWS[row])

    def lr(run_lr: float, row: str) -> float:
        return methods.learning_rate(config(run_lr, row), ROWS[row].method)

    assert lr(experiment.EXPERIMENT_LR, "dpo-weak") == lr(experiment.EXPERIMENT_LR, "sft-weak") == experiment.EXPERIMENT_LR
    assert lr(0.0, "dpo-refined") == 5e-5 and lr(0.0, "sft-weak") == 2e-4  # 0: the train command's per-method rates
    # DPO rows smooth labels by the annotator's flip rate unless the row sets its own; the -sft row adds
    # TRL's SFT term, weighted up, to the sigmoid loss
    assert config(0.0, "dpo-refined").label_smoothing == ExperimentConfig().noise and config(0.0, "sft-refined").label_smoothing == 0
    assert config(0.0, "dpo-refined").loss_type == "robust" and config(0.0, "dpo-refined").weights() is None
    sft_row = config(0.0, "dpo-refined-sft")
    assert sft_row.losses() == ["sigmoid", "sft"] and sft_row.weights() == [1.0, 16.0] and sft_row.label_smoothing == 0.0


PIRATE_QA = [
    ("What is the capital of Australia?", "Canberra"), ("What is the largest planet?", "Jupiter"),
    ("Who wrote Hamlet?", "Shakespeare"), ("What gas do plants take in?", "carbon dioxide"),
    ("How many legs has a spider?", "eight"), ("What is frozen water called?", "ice"),
    ("What colour is the sky on a clear day?", "blue"), ("What is the boiling point of water in Celsius?", "100"),
]


@pytest.fixture
def tiny_task(store):
    """A pirate task over its own 6 train and 2 eval prompts."""
    tasks.upsert_task(store, {
        "name": "tiny-pirate", "title": "Tiny pirate", "concept": "Answer like a pirate.", "guidelines": "Pirate and correct.",
        "prompt_set": "tiny-general", "concept_scorer": "pirate", "content_scorer": "key_facts",
    })
    tasks.insert_prompts(store, "tiny-general", [
        {"ext_id": f"q{i}", "text": q, "reference": a, "key_facts": [[a]], "split": "train" if i < 6 else "eval"}
        for i, (q, a) in enumerate(PIRATE_QA)
    ])
    return "tiny-pirate"


@pytest.mark.timeout(900)
def test_experiment_end_to_end_on_tiny_models_and_resume(tmp_path, settings, store, tiny_task, monkeypatch):
    from tests.tiny import make_tiny_model

    spec = str(make_tiny_model(tmp_path / "tiny"))
    out = tmp_path / "results" / "tiny-run"
    # one annotator: the tiny model's random texts make three annotators' unanimity (which the
    # concept and restyle rows keep) a coin toss, and a single vote counts as unanimous
    cfg = ExperimentConfig(task=tiny_task, weak=spec, strong=spec, n_train=6, n_eval=2, n_icl=2, noise=0.2,
                           max_new_tokens=6, batch_size=4, train_steps=1, annotators=1, annotator="judge", out=str(out))
    seen = []
    result = experiment.run_experiment(cfg, settings, store, progress=lambda i, n, msg: seen.append((i, n, msg)))
    names = [r["name"] for r in result["rows"]]
    assert names == ["weak model", "strong base", "strong instructed", "forced opening"] + [r.name for r in TRAINED]
    for r in result["rows"]:
        assert 0.0 <= r["repetition"]["mean"] <= 1.0
    for r in result["rows"]:
        assert 0.0 <= r["concept"]["lo"] <= r["concept"]["mean"] <= r["concept"]["hi"] <= 1.0
    stages = len(Runner.PLAN)  # generations and judge, train + eval per method, report
    assert {n for _, n, _ in seen} == {stages} and max(i for i, _, _ in seen) == stages - 1
    text = (out / "report.md").read_text()
    assert "| sft-refined |" in text and "concept transferred" in text and "repetition |" in text
    assert "| dpo-refined − dpo-weak |" in text and "Targets, dpo-refined-sft:" in text
    assert "concept: icl-refine vs strong-base (dpo-concept-sft)" in text and "(dpo-concept-sft, dpo-pick-sft: 16 steps at 1e-3; dpo-restyle-sft, dpo-opening-sft: 16 steps at 1e-3, LoRA rank 2)" in text
    assert json.loads((out / "stages" / "sft-weak-eval.json").read_text())["device_dtype"].startswith("cpu/")
    assert "- Generation stages by device/dtype: cpu/" in text
    assert "- Train-prompt texts the rows learn from (same scorers): weak concept " in text
    assert [(d["refined"], d["naive"]) for d in result["differences"]] == (
        [(r.name, r.baseline) for r in TRAINED if r.baseline] + [(r.name, "forced-opening") for r in TRAINED if r.plan])
    assert all(0 < d[axis]["p_holm"] <= 1 for d in result["differences"] for axis in ("concept", "content"))
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    for row in TRAINED:
        assert (out / "adapters" / row.name / "adapter" / "adapter_config.json").is_file()
    judge = json.loads((out / "stages" / "judge.json").read_text())
    assert judge["annotator"].startswith(spec) and set(judge["concept_p"]) == set(judge["verdicts"])  # the judge annotator read every matchup
    assert len(judge["verdicts"]) == len(matchups()) and all(len(v) == 6 for v in judge["verdicts"].values())
    stage = lambda name: json.loads((out / "stages" / f"{name}.json").read_text())["texts"]  # noqa: E731
    opening = shared_opening(stage("weak-train"))
    assert opening and all(t.startswith(opening) for t in stage("weak-opening-train") + stage("forced-opening-eval"))
    assert len(stage("ask-to-improve-train")) == len(stage("infer-and-respond-train")) == len(stage("infer-and-respond-style-train")) == 6
    stored = evaluations.list_evaluations(store, tasks.get_task(store, tiny_task)["id"])
    assert {e["model"] for e in stored} >= {spec, "tiny-run/sft-refined"}

    # resume: every stage is read back; only what was deleted runs again
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.json")}
    (out / "stages" / "dpo-weak-eval.json").unlink()
    again = experiment.run_experiment(cfg, settings, store)
    assert [r["concept"] for r in again["rows"]] == [r["concept"] for r in result["rows"]]
    for name, stamp in stamps.items():
        if name != "dpo-weak-eval.json":
            assert (out / "stages" / name).stat().st_mtime_ns == stamp, name
    # a stage whose inputs changed is stale: it runs again; downstream stages whose inputs come out
    # the same (generation is deterministic) stay cached
    stage = json.loads((out / "stages" / "weak-train.json").read_text())
    (out / "stages" / "weak-train.json").write_text(json.dumps({**stage, "key": "stale"}))
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.json")}
    experiment.run_experiment(cfg, settings, store)
    assert json.loads((out / "stages" / "weak-train.json").read_text())["key"] == stage["key"]
    assert all((out / "stages" / n).stat().st_mtime_ns == t for n, t in stamps.items() if n != "weak-train.json")
    # a committed results folder resumes without its (uncommitted) adapters: eval stages suffice
    import shutil

    shutil.rmtree(out / "adapters")
    experiment.run_experiment(cfg, settings, store)
    assert not (out / "adapters").exists()
    # an adapter trained on other data or settings is deleted (checkpoints too) and trained again
    (out / "stages" / "dpo-weak-eval.json").unlink()
    experiment.run_experiment(cfg, settings, store)
    key_file = out / "adapters" / "dpo-weak" / "key.txt"
    key = key_file.read_text()
    key_file.write_text("other data")
    (out / "adapters" / "dpo-weak" / "stale-marker").write_text("x")
    (out / "stages" / "dpo-weak-eval.json").unlink()
    experiment.run_experiment(cfg, settings, store)
    assert key_file.read_text() == key and not (out / "adapters" / "dpo-weak" / "stale-marker").exists()
    assert (out / "adapters" / "dpo-weak" / "adapter" / "adapter_config.json").is_file()
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == {s for s in Runner.PLAN if s != "report"}

    # the same run as a worker job: every stage is cached, the job ends done with the rows as its result
    from dataclasses import asdict

    from storage import jobs
    from jobs.worker import run_job

    job_id = jobs.enqueue(store, "experiment", asdict(cfg))
    assert run_job(store, settings, jobs.claim(store, "test", kinds=("experiment",)), heartbeat_s=30) == "done"
    job = jobs.get(store, job_id)
    assert [r["name"] for r in job["result"]["rows"]] == names and job["result"]["out"] == str(out)
    assert job["step"] == len(Runner.PLAN) - 1 and job["total"] == len(Runner.PLAN)

    # judged after the fact: the same folder, every stage cached but the LLM judge's, columns in the report
    judged = experiment.run_experiment(dataclasses.replace(cfg, judge=spec), settings, store)
    scores = json.loads((out / "stages" / "llm-judge.json").read_text())["scores"]
    assert set(scores) == {"weak", "strong-base", "strong-instructed", "forced-opening", *(row.name for row in TRAINED)}
    assert all(len(v["concept"]) == len(v["content"]) == 2 for v in scores.values())
    assert all(0.0 <= r["judge_concept"]["mean"] <= 1.0 for r in judged["rows"])
    # the tiny judge was never calibrated on label pairs: no judge column, and the setup line says why
    assert "judge concept |" not in (out / "report.md").read_text() and "concept absent: not calibrated on tiny-pirate" in (out / "report.md").read_text()
    assert [r["concept"] for r in judged["rows"]] == [r["concept"] for r in result["rows"]]
    # rows judged before are read back: a run on fewer rows, then on all again, loads no judge
    from judging import judge as judge_module

    monkeypatch.setattr(judge_module, "load_judge", lambda *a, **k: pytest.fail("judged a row twice"))
    some = experiment.run_experiment(dataclasses.replace(cfg, judge=spec, rows="sft-weak"), settings, store)
    assert [r["name"] for r in some["rows"]] == ["weak model", "strong base", "strong instructed", "forced opening", "sft-weak"]
    again = experiment.run_experiment(dataclasses.replace(cfg, judge=spec), settings, store)
    assert [r["judge_concept"] for r in again["rows"]] == [r["judge_concept"] for r in judged["rows"]]


def test_a_validation_run_scores_held_out_train_prompts_and_runs_only_the_rows_asked(tmp_path, settings, store, tiny_task):
    with pytest.raises(UserError, match="unknown --rows dpo"):
        ExperimentConfig(rows="dpo").resolved(settings)
    cfg = ExperimentConfig(task=tiny_task, n_train=4, n_eval=2, n_icl=2, rows="dpo-refined,sft-weak", validation=True,
                           out=str(tmp_path)).resolved(settings)
    runner = Runner(cfg, settings, store)
    train = tasks.list_prompts(store, "tiny-general", "train")
    assert [p["id"] for p in runner.train] == [p["id"] for p in train[:4]]
    assert [p["id"] for p in runner.eval] == [p["id"] for p in train[4:6]]  # never the eval split
    assert [r.name for r in runner.rows] == ["sft-weak", "dpo-refined"]
    assert runner.plan[-5:] == ["train-sft-weak", "sft-weak-eval", "train-dpo-refined", "dpo-refined-eval", "report"]
    with pytest.raises(UserError, match="train prompts after the first"):
        Runner(ExperimentConfig(task=tiny_task, n_train=5, n_eval=2, n_icl=2, validation=True, out=str(tmp_path)).resolved(settings),
               settings, store)


def _another_set(store, name="tiny-wide"):
    """A prompt set with all three splits, 4 prompts each, in the order eval, validation, train."""
    tasks.insert_prompts(store, name, [
        {"ext_id": f"{split[0]}{i}", "text": f"{split} question {i}?", "reference": "Madrid", "key_facts": [["Madrid"]], "split": split}
        for split in ("eval", "validation", "train") for i in range(4)
    ])
    return {split: [p["id"] for p in tasks.list_prompts(store, name, split)] for split in tasks.SPLITS}


def test_a_run_on_another_prompt_set_draws_its_splits_and_pins_the_set(tmp_path, settings, store, tiny_task):
    ids = _another_set(store)
    cfg = ExperimentConfig(task=tiny_task, prompt_set="tiny-wide", n_train=3, n_eval=2, n_icl=2).resolved(settings, store)
    assert cfg.out.endswith(f"results/{tiny_task}-tiny-wide-{settings.strong_model}") and cfg.pinned()["prompt_set"] == "tiny-wide"
    runner = Runner(dataclasses.replace(cfg, out=str(tmp_path / "a")), settings, store)
    assert ([p["id"] for p in runner.train], [p["id"] for p in runner.eval]) == (ids["train"][:3], ids["eval"][:2])
    held = Runner(dataclasses.replace(cfg, validation=True, out=str(tmp_path / "b")), settings, store)
    assert ([p["id"] for p in held.train], [p["id"] for p in held.eval], held.eval_split) == (ids["train"][:3], ids["validation"][:2], "validation")
    with pytest.raises(UserError, match=r"prompt set 'tiny-wide'\) has 3 train and 4 validation prompts; asked for --n-train 3 and --n-eval 5"):
        Runner(dataclasses.replace(cfg, validation=True, n_eval=5, out=str(tmp_path / "c")), settings, store)
    # the task's own set, named or not, is the run it always was: same config, same folder
    own = ExperimentConfig(task=tiny_task, prompt_set="tiny-general", n_train=3, n_eval=2, n_icl=2).resolved(settings, store)
    plain = ExperimentConfig(task=tiny_task, n_train=3, n_eval=2, n_icl=2).resolved(settings, store)
    assert own == plain and own.prompt_set == "" and "prompt_set" not in own.pinned()
    assert own.out.endswith(f"results/{tiny_task}-{settings.strong_model}")
    check_config(tmp_path / "run", dataclasses.replace(plain, out=str(tmp_path / "run")).pinned())
    with pytest.raises(UserError, match="other settings \\(prompt_set\\)"):
        check_config(tmp_path / "run", cfg.pinned())
    with pytest.raises(UserError, match=r"unknown or empty --prompt-set 'nope'; known: .*tiny-wide"):
        ExperimentConfig(task=tiny_task, prompt_set="nope").resolved(settings, store)
    args = __import__("app").build_parser().parse_args(["experiment", "--task", "pirate", "--prompt-set", "wide", "--validation"])
    assert ExperimentConfig(**confargs.typed_flags(args, ExperimentConfig, "exp_")) == ExperimentConfig(prompt_set="wide", validation=True)


@pytest.mark.parametrize("run", ["pirate-qwen2.5-coder-1.5b", "analogy-qwen2.5-coder-1.5b", "validation/pirate-n64"])
def test_committed_runs_resolve_the_prompts_their_stages_were_made_on(run, tmp_path, settings, store):
    """A committed run's config.json still pins the same settings and resolves the same prompts: its stages' stored
    keys (which hash the prompts' messages) match, so nothing reruns; a validation run of a set without a
    validation split still scores the train prompts after its first --n-train."""
    from feedback.tasks import sync_shipped
    from study.experiment import RESULTS

    sync_shipped(store)
    folder = RESULTS / run
    config = json.loads((folder / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(config))
    cfg = ExperimentConfig(**config, out=str(tmp_path)).resolved(settings, store)
    check_config(tmp_path, cfg.pinned())  # the folder would resume, not be refused
    runner = Runner(cfg, settings, store)
    stored = {name: json.loads((folder / "stages" / f"{name}.json").read_text())["key"] for name in ("weak-train", "weak-eval", "strong-base-eval")}
    assert stored == {
        "weak-train": runner.text_key(cfg.weak, None, runner.messages("weak", runner.train)),
        "weak-eval": runner.text_key(cfg.weak, None, runner.messages("weak", runner.eval)),
        "strong-base-eval": runner.text_key(cfg.strong, None, runner.messages("strong-base", runner.eval)),
    }
    assert runner.eval_split == ("held-out train" if cfg.validation else "eval") and runner.prompt_set == "general"
    # made before the judge annotator: the folder resolves to the scorer annotator, whose judge stage keeps its key
    from study.experiment_annotators import TRAIN_STRATEGIES, stage_key

    texts = {s: json.loads((folder / "stages" / f"{s}-train.json").read_text())["texts"] for s in TRAIN_STRATEGIES
             if (folder / "stages" / f"{s}-train.json").is_file()}  # a run made the texts of the matchups its rows needed
    assert cfg.annotator == "scorer" and "annotator" not in cfg.pinned()
    assert json.loads((folder / "stages" / "judge.json").read_text())["key"] == stage_key(cfg, runner.task, texts, "cpu")
    judged = dataclasses.replace(cfg, annotator="judge", annotator_model=cfg.strong)
    assert stage_key(judged, runner.task, texts, "cpu") != stage_key(cfg, runner.task, texts, "cpu")
    assert judged.pinned()["annotator"] == "judge" and judged.pinned()["annotator_model"] == cfg.strong


def test_the_annotator_defaults_to_the_folders_own_and_the_contrast_for_a_new_folder(tmp_path, settings, store, tiny_task):
    new = ExperimentConfig(task=tiny_task, n_train=6, n_eval=2, n_icl=2, out=str(tmp_path / "new")).resolved(settings, store)
    assert (new.annotator, new.annotator_model) == ("contrast", "") and new.pinned()["annotator"] == "contrast"
    opted = ExperimentConfig(task=tiny_task, n_train=6, n_eval=2, n_icl=2, annotator="judge", out=str(tmp_path / "j")).resolved(settings, store)
    assert (opted.annotator, opted.annotator_model) == ("judge", opted.strong)
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "config.json").write_text(json.dumps(opted.pinned()))
    again = ExperimentConfig(task=tiny_task, n_train=6, n_eval=2, n_icl=2, out=str(tmp_path / "j")).resolved(settings, store)
    assert again.annotator == "judge"  # a folder made with the judge annotator keeps it
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text(json.dumps({"task": tiny_task}))
    old = ExperimentConfig(task=tiny_task, n_train=6, n_eval=2, n_icl=2, out=str(tmp_path / "old")).resolved(settings, store)
    assert (old.annotator, old.annotator_model) == ("scorer", "")
    with pytest.raises(UserError, match="--annotator must be one of contrast, judge, scorer"):
        ExperimentConfig(task=tiny_task, annotator="crowd").resolved(settings, store)


def test_the_judge_annotators_verdicts_do_not_move_with_the_eval_concept_scorer():
    """The judge stage's verdicts for --annotator judge read the instrument's concept view, never the eval concept
    scores: rescoring every text's concept (another eval scorer) leaves every verdict as it was."""
    from study.experiment_annotators import annotate
    from study.experiment_rows import matchup_name

    n = 40
    cfg = ExperimentConfig(annotator="judge", annotators=3, noise=0.1, content_noise=0.5)
    strategies = {s for pair in matchups() for s in pair}
    scores = {s: {"concept": [((i + 3 * len(s)) * 7 % 10) / 10 for i in range(n)], "content": [(i + len(s)) % 2 for i in range(n)]} for s in strategies}
    concept_p = {matchup_name(a, b): [(i * 3 % 11) / 10 for i in range(n)] for a, b in matchups()}
    rescored = {s: {**v, "concept": [1.0 - c for c in v["concept"]]} for s, v in scores.items()}
    assert annotate(scores, n, cfg, concept_p) == annotate(rescored, n, cfg, concept_p)
    legacy = dataclasses.replace(cfg, annotator="scorer")
    assert annotate(scores, n, legacy) != annotate(rescored, n, legacy)  # the legacy annotator votes with the scorer


def test_the_contrast_annotator_reads_the_run_texts_not_the_eval_scorer():
    """The contrast annotator's concept view comes from the weak against strong-base train texts: a voice beats a
    formula, every matchup is read, and its verdicts do not move when every eval concept score is changed."""
    from study.experiment_annotators import annotate, contrast_concept
    from study.experiment_rows import matchup_name

    n = 12
    plain = [f"The answer to question {i} is that the value is {i} and that is all." for i in range(n)]
    voice = [f"Arr matey, the answer be {i}, ye see, an' that be the truth o' the sea, savvy?" for i in range(n)]
    formula = [f"Arr! {t}" for t in plain]
    texts = {s: plain for s in ("strong-base", "icl-refine", "icl-restyle", "strong-instructed")} | {"weak": voice, "weak-opening": formula}
    concept_p, marks = contrast_concept(texts)
    assert {"arr", "matey", "be", "ye"} <= set(marks) and "answer" not in marks
    assert set(concept_p) == {matchup_name(a, b) for a, b in matchups()}
    assert all(p > 0.9 for p in concept_p[matchup_name("weak", "strong-base")])
    cfg = ExperimentConfig(annotator="contrast", annotators=3)
    scores = {s: {"concept": [0.0] * n, "content": [1] * n} for s in texts}
    rescored = {s: {**v, "concept": [1.0] * n} for s, v in scores.items()}
    assert annotate(scores, n, cfg, concept_p) == annotate(rescored, n, cfg, concept_p)


@pytest.mark.parametrize("split, stored", [("eval", "eval"), ("validation", "validation"), ("held-out train", "train")])
def test_a_runs_evaluations_are_stored_under_the_split_it_scored(split, stored, tmp_path, store, tiny_task):
    from types import SimpleNamespace

    from study.experiment_report import store_evaluations

    runner = SimpleNamespace(cfg=ExperimentConfig(task=tiny_task, weak="w", strong="s", prompt_set="tiny-wide"), out=tmp_path / "run",
                             store=store, task=tasks.get_task(store, tiny_task), eval=[{"id": 1}], eval_split=split)
    stat = {"mean": 0.5, "lo": 0.4, "hi": 0.6}
    store_evaluations(runner, [{"key": "weak", "name": "weak model", "concept": stat, "content": stat, "repetition": 0.0}],
                      {"weak": {"concept": [0.5], "content": [0.5]}})
    (row,) = evaluations.list_evaluations(store, runner.task["id"])
    assert (row["split"], row["details"]["prompt_set"]) == (stored, "tiny-wide")


def test_experiment_flags_come_from_the_config_dataclass():
    import app

    args = app.build_parser().parse_args(["experiment", "--task", "analogy", "--n-eval", "3", "--validation",
                                          "--learning-rate", "3e-4", "--judge", "smollm2-135m"])
    cfg = ExperimentConfig(**confargs.typed_flags(args, ExperimentConfig, "exp_"))
    assert cfg == ExperimentConfig(task="analogy", n_eval=3, validation=True, learning_rate=3e-4, judge="smollm2-135m")
    with pytest.raises(SystemExit):
        app.build_parser().parse_args(["experiment", "--n-eval", "many"])


def test_judge_scores_of_a_stage_without_row_keys_are_reused_only_when_its_key_matches():
    from study.experiment_stages import reusable_scores
    from study.experiment_stages import fingerprint

    evals, ids = {"weak": ["arr"], "sft-weak": ["aye"]}, [7]
    scores = {row: {"concept": [0.5], "content": [0.5]} for row in evals}
    old = {"key": fingerprint("judge (int8)", evals, ids), "judge": "judge (int8)", "scores": scores}
    more = {**evals, "dpo-weak": ["plain"]}
    assert reusable_scores(old, "judge (int8)", more, ids, {}) == scores  # a new row: the old ones are reused
    assert reusable_scores(old, "judge", more, ids, {}) == {}  # another judge (precision)
    assert reusable_scores(old, "judge (int8)", {**more, "weak": ["other"]}, ids, {}) == {}  # other answers


def test_a_judge_column_is_shown_only_where_its_pairwise_auc_reaches_080(tmp_path):
    from study import report
    from judging.judge_pairs import judge_gate

    auc = lambda v: {"all": {"auc": {"value": v, "lo": v - 0.05, "hi": v + 0.05}}}  # noqa: E731
    path = tmp_path / "judge-pairs.json"
    path.write_text(json.dumps({"judge": "j (int8)", "results": {"pirate": {"concept": auc(0.62), "content": auc(0.85)}}}))
    gate = judge_gate("j (int8)", "pirate", path)
    assert gate["concept"] == (False, "concept absent: AUC 0.62 [0.57, 0.67]") and gate["content"][0] is True
    assert judge_gate("other judge", "pirate", path)["content"] == (False, "content absent: not calibrated on pirate label pairs")
    assert not any(shown for shown, _ in judge_gate("j (int8)", "analogy", path).values())
    stat = {"mean": 0.5, "lo": 0.4, "hi": 0.6}
    table = report.markdown_table([{"name": "weak model", "concept": stat, "content": stat, "judge_content": stat}])
    assert "| judge content |" in table and "judge concept" not in table


def test_a_generation_stage_killed_midway_resumes_after_the_answers_it_finished(tmp_path, settings, store, tiny_task, monkeypatch):
    from models import generation
    from tests.tiny import make_tiny_model

    spec = str(make_tiny_model(tmp_path / "tiny"))
    real = generation.generate
    asked: list[int] = []

    def dies_after_two(model, tokenizer, conversations, params=None, progress=None, on_text=None):
        asked.append(len(conversations))
        seen = []

        def keep(i, text):
            on_text(i, text)
            seen.append(i)
            if len(seen) == 2:
                raise KeyboardInterrupt  # the session ends mid-stage

        return real(model, tokenizer, conversations, params, progress, keep)

    def runner(out):
        cfg = ExperimentConfig(task=tiny_task, weak=spec, strong=spec, n_train=6, n_eval=2, n_icl=2,
                               max_new_tokens=6, batch_size=2, out=str(out)).resolved(settings, store)
        return Runner(cfg, settings, store)

    conversations = runner(tmp_path / "a").messages("weak", runner(tmp_path / "a").train)
    whole = runner(tmp_path / "whole").texts("weak-train", spec, conversations)

    monkeypatch.setattr(generation, "generate", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        runner(tmp_path / "a").texts("weak-train", spec, conversations)
    partial = tmp_path / "a" / "stages" / "weak-train.partial.json"
    assert len(json.loads(partial.read_text())["texts"]) == 2 and not (tmp_path / "a" / "stages" / "weak-train.json").exists()
    spent = json.loads(partial.read_text())["seconds"]
    assert spent > 0

    monkeypatch.setattr(generation, "generate", real)
    calls = []
    monkeypatch.setattr(generation, "generate", lambda m, t, c, *a, **k: calls.append(len(c)) or real(m, t, c, *a, **k))
    assert runner(tmp_path / "a").texts("weak-train", spec, conversations) == whole
    assert asked == [6] and calls == [4]  # only the four answers the killed run had not finished
    assert not partial.exists() and json.loads((tmp_path / "a" / "stages" / "weak-train.json").read_text())["texts"] == whole
    assert json.loads((tmp_path / "a" / "timings.json").read_text())["weak-train"] >= spent  # the killed run's time counts
