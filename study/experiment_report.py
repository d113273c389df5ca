"""The experiment's report: every row scored on both axes and on repetition, the paired differences
that answer the paper's question, report.md, report.png and one evaluations row per report row."""

from __future__ import annotations

import json
import random

from scoring.fluency import repetition
from study.formula import formula_share
from feedback.pair_plan import describe
from models.strategies import REFERENCES, STRONG_BASE, WEAK, WEAK_OPENING
from scoring.scorers import threshold
from storage import evaluations as eval_store
from storage.terms import AXES, CONCEPT, CONTENT
from study import report
from training import methods
from training.config import MAX_LABEL_SMOOTHING
from feedback.bootstrap import holm
from study.evaluation import paired_difference, score_texts, summarize, summarize_scores
from study.experiment_rows import COMPARISONS, EXPERIMENT_TRAIN, ROWS, TRAINED

# an untrained row's name in the report: its key in words, the weak teacher's "weak model"
ROW_NAMES = {key: key.replace("-", " ") for key in (*REFERENCES, "forced-opening")} | {WEAK: "weak model"}
STRATEGY_OF = {"forced-opening": WEAK_OPENING}  # untrained rows named apart from the strategy that wrote them
N_SAMPLES = 3  # eval prompts whose answers report.md quotes (every row's), drawn by the run's seed
# what a DPO row on weak votes must reach (issue: the core loop must move the strong model)
TARGETS = {"transferred": 0.5, "kept": 0.9, "repetition_vs_base": 1.5}


def _rate(value: float) -> str:
    """A learning rate as people write it: 5e-5, not 5e-05."""
    return f"{value:.0e}".replace("e-0", "e-")


def _loss(row) -> str:
    """A DPO row's losses as the report names them: "sigmoid,sft weighted 1,16"."""
    smoothing = "" if row.label_smoothing is None else f", label smoothing {row.label_smoothing:g}"
    return row.loss_type + (f" weighted {row.loss_weights}" if row.loss_weights else "") + smoothing


def slug(spec: str) -> str:
    """A short name of a model spec: an embedded name as is, the last part of a hub id or path."""
    return spec.rstrip("/").split("/")[-1].replace(" ", "_")


def score_rows(task: dict, prompts: list[dict], evals: dict[str, list[str]], seed: int,
               judged: dict[str, dict[str, list[float]]] | None = None) -> tuple[list[dict], dict]:
    """(report rows with concept, formula share, content, repetition and ratios, and with `judged` (an LLM judge's
    per-prompt scores by row) judge_concept and judge_content; per-prompt scores by row key)."""
    rows, per_prompt = [], {}
    for key, texts in evals.items():
        per_prompt[key] = score_texts(task, prompts, texts)
        if judged:
            per_prompt[key].update({f"judge_{axis}": v for axis, v in judged[key].items()})
        concept = per_prompt[key][CONCEPT]
        rows.append({
            "name": ROW_NAMES.get(key, key), "key": key, **summarize_scores(per_prompt[key], seed=seed),
            "repetition": summarize([repetition(t) for t in texts], seed=seed),
            **({"formula": formula_share(texts, concept, threshold(task["concept_scorer"]))} if concept else {}),
        })
    return report.add_ratios(rows), per_prompt


def differences(per_prompt: dict, seed: int) -> list[dict]:
    """Refined − naive for each of COMPARISONS present (and each DPO row − forced opening), per axis, as paired bootstrap intervals with a
    p-value Holm-adjusted over the comparisons of that axis (the family named in the rows before any run)."""
    out = []
    # every DPO row against the floor a formula reaches untrained (the base made to open like the weak labels)
    floor = tuple((r.name, "forced-opening") for r in TRAINED if r.plan)
    for refined, naive in COMPARISONS + floor:
        if refined in per_prompt and naive in per_prompt:
            out.append({"refined": refined, "naive": naive, **{
                axis: paired_difference(per_prompt[refined][axis], per_prompt[naive][axis], seed=seed)
                if per_prompt[refined][axis] is not None else None
                for axis in AXES
            }})
    for axis in AXES:
        tested = [d[axis] for d in out if d[axis] is not None]
        for stat, adjusted in zip(tested, holm([t["p"] for t in tested])):
            stat["p_holm"] = adjusted
    return out


def compared(value: float | None, goal: float) -> str:
    """A ratio as the targets line shows it beside its goal: two decimals, three where two would
    round a miss (or a hit) onto the goal itself, e.g. 0.897 < 0.9."""
    text = report._ratio(value)
    return f"{value:.3f}" if value is not None and text == f"{goal:.2f}" and value != goal else text


def own_steps(rows, cfg) -> str:
    """The setup line's note on the rows that train with their own steps, rate or LoRA rank, one note per
    setting, e.g. ' (dpo-concept-sft: 16 steps at 1e-3; dpo-restyle-sft: 16 steps at 1e-3, LoRA rank 2)'."""
    by: dict[str, list[str]] = {}
    for r in rows:
        if r.steps or r.learning_rate or r.lora_r:
            rate = r.learning_rate or cfg.learning_rate
            setting = f"{r.steps or cfg.train_steps} steps" + (f" at {_rate(rate)}" if rate else "") + (f", LoRA rank {r.lora_r}" if r.lora_r else "")
            by.setdefault(setting, []).append(r.name)
    notes = "; ".join(f"{', '.join(keys)}: {setting}" for setting, keys in by.items())
    return f" ({notes})" if notes else ""


def target_lines(rows: list[dict], diffs: list[dict]) -> list[str]:
    """One line per DPO row saying which of TARGETS it meets, with the figures."""
    by_key = {r["key"]: r for r in rows}
    base_rep = by_key[STRONG_BASE]["repetition"]["mean"] if STRONG_BASE in by_key else None
    content_diff = {d["refined"]: d.get(CONTENT) for d in diffs}
    lines = []
    for row in TRAINED:
        r = by_key.get(row.name)
        if r is None or not row.plan or not row.baseline:  # DPO rows with a naive one to beat
            continue
        checks = []
        for name, value, goal in (("concept transferred", r.get("transferred"), TARGETS["transferred"]),
                                  ("content kept", r.get("kept"), TARGETS["kept"])):
            checks.append(f"{name} {compared(value, goal)} {'≥' if value is not None and value >= goal else '<'} {goal}")
        if base_rep is not None:
            limit = TARGETS["repetition_vs_base"] * max(base_rep, 0.01)
            rep = r["repetition"]["mean"]
            checks.append(f"repetition {rep:.2f} {'≤' if rep <= limit else '>'} {limit:.2f}")
        d = content_diff.get(row.name)
        if d:
            checks.append("content " + ("significantly above" if d["lo"] > 0 else "not significantly above") + " dpo-weak")
        lines.append(f"- Targets, {row.name}: " + "; ".join(checks) + ".")
    return lines


def stage_devices(runner) -> list[str]:
    """A details line naming the device and dtype each generation stage ran in, where its stage file
    records them (a run resumed on another machine can mix them); no line when none does."""
    by: dict[str, list[str]] = {}
    for name in runner.plan:
        path = runner.stages.path(name)
        if name.endswith(("-eval", "-train")) and path.is_file():
            by.setdefault(json.loads(path.read_text()).get("device_dtype", "not recorded"), []).append(name)
    if set(by) <= {"not recorded"}:
        return []
    return ["- Generation stages by device/dtype: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in by.items()) + "."]


def verdict_line(matchup: str, verdicts: list[dict], annotators: int, per_pair: int = 2) -> str:
    """The report's line on the simulated annotator(s)' verdicts of one matchup ('a vs b'); `per_pair`: content
    judgements per pair and annotator (2 for the scorer annotator, one per answer; 1 for the judge annotator's verdict)."""
    side = matchup.split(" vs ")[0]
    preferred = sum(v["prefers_a"] for v in verdicts)
    if annotators == 1:
        return (f"- Simulated annotator, {matchup}: {preferred}/{len(verdicts)} verdicts prefer {side} "
                f"({sum(v['flipped'] for v in verdicts)} flipped by noise, "
                f"{sum(v['guessed_a'] + v['guessed_b'] for v in verdicts)} of {per_pair * len(verdicts)} content judgements guessed).")
    votes = annotators * len(verdicts)
    agreement = sum(v["agreement"] for v in verdicts) / len(verdicts)
    return (f"- Simulated annotators, {matchup}: {preferred}/{len(verdicts)} majorities prefer {side}, mean agreement "
            f"{agreement:.2f} ({sum(v['flipped'] for v in verdicts)} of {votes} votes flipped by noise, "
            f"{sum(v['guessed'] for v in verdicts)} of {per_pair * votes} content judgements guessed).")


def hidden_judge_axes(judged: dict | None, task: str) -> set[str]:
    """The judge_<axis> row keys a report leaves out: axes where the judge's pairwise AUC on the task's label pairs is below 0.80."""
    from judging.judge_pairs import judge_gate

    return {f"judge_{axis}" for axis, (shown, _) in judge_gate(judged["judge"], task).items() if not shown} if judged else set()


def judge_setup(judge: str, task: str) -> str:
    """The setup line's words on the judge columns: which are shown and why the others are absent."""
    from judging.judge_pairs import MIN_AUC, judge_gate

    gate = judge_gate(judge, task)
    return (f" Judge columns: LLM judge `{judge}`, expected rubric score, shown only where the same judge's AUC on this "
            f"task's real-answer label pairs (pairwise, both orders; results/calibration/judge-pairs.md) is at least {MIN_AUC:.2f}: "
            + "; ".join(why for _, why in gate.values()) + ".")


def annotator_setup(cfg, judge: dict) -> str:
    """The setup line's words on what perceives the concept for the simulated annotators ('' for the legacy scorer
    annotator, whose reports keep their words)."""
    if cfg.annotator == "scorer":
        return ""
    if cfg.annotator == "contrast":
        marks = judge.get("marks", {})
        top = ", ".join(sorted(marks, key=marks.get, reverse=True)[:8])
        return (f" concept perceived through a word contrast learned from this run's weak against strong-base train answers "
                f"({len(marks)} marks, strongest: {top}; not the eval scorer, fitted to no labels; "
                "results/calibration/annotator-agreement.md), content as a verdict on the key facts that is a coin toss "
                "with probability content noise,")
    return (f" concept perceived by the pairwise LLM judge `{judge.get('annotator', cfg.annotator_model)}` (both orders; not the "
            "eval scorer), content as a verdict on the key facts that is a coin toss with probability content noise,")


def train_texts_line(scores: dict[str, dict]) -> str:
    """The report's line on the train-prompt texts the rows learn from ({strategy: {"concept": [...],
    "content": [...]}}, the judge stage's scores): their mean scores and, by the table's ratios,
    how much of the concept and content each refinement's answers (icl-refine, icl-restyle, weak-opening) carry,
    which is where imitating them starts."""
    means = {s: {axis: sum(v) / len(v) for axis, v in by_axis.items() if v} for s, by_axis in scores.items()}
    line = "- Train-prompt texts the rows learn from (same scorers): " + "; ".join(
        f"{s} " + ", ".join(f"{axis} {value:.2f}" for axis, value in m.items()) for s, m in means.items())
    weak, base = means.get(WEAK, {}), means.get(STRONG_BASE, {})
    carried = []
    for strategy in (s for s in means if s not in (WEAK, STRONG_BASE)):  # the refinements the annotators judged
        refined = means[strategy]
        if all(axis in m for m in (weak, base, refined) for axis in AXES):
            transferred = report.gap_ratio(refined[CONCEPT], base[CONCEPT], weak[CONCEPT])
            kept = report.gap_ratio(refined[CONTENT], weak[CONTENT], base[CONTENT])
            carried.append(f"{strategy}'s answers carry {report._ratio(transferred)} of the concept and "
                           f"{report._ratio(kept)} of the content")
    if carried:
        line += ("; " + ", ".join(carried) + " (concept transferred, content kept), which is where a row that "
                 "imitates them starts")
    return line + "."


def write_report(runner, evals: dict[str, list[str]], judge: dict, n_examples: dict[str, int],
                 judged: dict | None = None) -> dict:
    """Score every row (with `judged`, the LLM judge's scores too), write report.md and report.png,
    store evaluations; returns {"rows", "differences", "out"}."""

    cfg, task, prompts = runner.cfg, runner.task, runner.eval
    rows, per_prompt = score_rows(task, prompts, evals, cfg.seed, judged and judged["scores"])
    diffs = differences(per_prompt, cfg.seed)
    title = f"{cfg.task}: weak {slug(cfg.weak)} → strong {slug(cfg.strong)}"
    setup = (
        f"{cfg.n_train} train / {cfg.n_eval} {runner.eval_split} prompts"
        + (f" of prompt set `{runner.prompt_set}`" if cfg.prompt_set else "") + "; simulated weak annotator"
        + (f"s: {cfg.annotators} per pair, the majority's verdict counts; each with" if cfg.annotators > 1 else ":")
        + annotator_setup(cfg, judge)
        + f" verdict noise {cfg.noise}, content noise {cfg.content_noise}; pairs: "
        + ", ".join(f"{describe(plan)} ({', '.join(r.name for r in runner.rows if r.plan == plan)})"
                    for plan in dict.fromkeys(r.plan for r in runner.rows if r.plan)) + "; "
        f"{cfg.n_icl} ICL examples, {cfg.train_steps} LoRA steps per trained row at {_rate(cfg.learning_rate) if cfg.learning_rate else 'per-method rates'}"
        + own_steps(runner.rows, cfg) + ", "
        f"greedy with repetition penalty {cfg.repetition_penalty}, max {cfg.max_new_tokens} new tokens, seed {cfg.seed}; "
        f"scorers: concept `{task['concept_scorer']}`, content `{task['content_scorer']}` (a looping answer scores 0 on both); "
        f"repetition: share of repeated word trigrams."
        + (judge_setup(judged["judge"], cfg.task) if judged else "")
    )
    verdicts = judge["verdicts"]
    details = "\n".join([
        "### Details",
        "",
        *[verdict_line(name, vs, cfg.annotators, 2 if cfg.annotator == "scorer" else 1) for name, vs in verdicts.items()],
        train_texts_line(judge["scores"]),
        f"- Training examples per row: {', '.join(f'{m} {n}' for m, n in n_examples.items())}.",
        f"- Training config: {json.dumps({**EXPERIMENT_TRAIN, 'max_steps': cfg.train_steps, 'learning_rate': cfg.learning_rate})} "
        f"(learning rate 0: {_rate(methods.PREFERENCE_LR)} DPO, {_rate(methods.SFT_LR)} SFT; rest: TrainConfig defaults; "
        f"DPO rows: loss {'; '.join(f'{r.name} {_loss(r)}' for r in TRAINED if r.plan)}; "
        f"label smoothing, where not given, = verdict noise, clipped to {MAX_LABEL_SMOOTHING}).",
        "- Concept transferred = (concept − strong base) / (weak − strong base); "
        "content kept = (content − weak) / (strong base − weak).",
        *target_lines(rows, diffs),
        *stage_devices(runner),
        f"- Stage times (s, when each stage last ran; total {sum(runner.timings.values()) / 60:.1f} min): "
        + ", ".join(f"{k} {v}" for k, v in runner.timings.items()) + ".",
        "",
        f"### Example answers ({N_SAMPLES} eval prompts drawn with seed {cfg.seed}, cut at 300 characters)",
        *[line for i in sample_indices(len(prompts), cfg.seed) for line in samples(prompts[i], {k: t[i] for k, t in evals.items()})],
    ])
    shown = [{k: v for k, v in r.items() if k not in hidden_judge_axes(judged, cfg.task)} for r in rows]
    (runner.out / "report.md").write_text(report.report_markdown(title, setup, shown, details, diffs))
    report.plot(shown, runner.out / "report.png", title)
    store_evaluations(runner, rows, per_prompt)
    return {"rows": rows, "differences": diffs, "out": str(runner.out)}


def sample_indices(n: int, seed: int) -> list[int]:
    """The eval prompts (by position, in order) whose answers the report quotes: N_SAMPLES drawn with `seed`."""
    return sorted(random.Random(seed).sample(range(n), min(N_SAMPLES, n)))


def samples(prompt: dict, answers: dict[str, str]) -> list[str]:
    """Markdown lines quoting each row's answer to `prompt` (one line each, no HTML)."""
    def quote(text: str) -> str:
        flat = " ".join(text.split())
        flat = flat[:300] + ("…" if len(flat) > 300 else "")
        return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return ["", f"**{quote(prompt['text'])}**", ""] + [f"- *{ROW_NAMES.get(k, k)}*: {quote(t)}" for k, t in answers.items()]


def store_evaluations(runner, rows: list[dict], per_prompt: dict) -> None:
    """One evaluations row per report row, so the Results tab plots experiment runs beside evaluate jobs."""
    cfg, run = runner.cfg, runner.out.name
    split = "train" if runner.eval_split == "held-out train" else runner.eval_split  # a --validation run is no eval score
    for r in rows:
        key = r["key"]
        if key in ROWS:
            model, strategy = f"{run}/{key}", STRONG_BASE
        else:
            model, strategy = (cfg.weak if key == WEAK else cfg.strong), STRATEGY_OF.get(key, key)
        eval_store.add_evaluation(
            runner.store, runner.task["id"], model, strategy, len(runner.eval), r[CONCEPT], r[CONTENT], split=split,
            details={"experiment": str(runner.out), "row": r["name"], "prompt_ids": [p["id"] for p in runner.eval],
                     **({"prompt_set": cfg.prompt_set} if cfg.prompt_set else {}),
                     **{f"{axis}_scores": per_prompt[key][axis] for axis in AXES}, "repetition": r["repetition"],
                     **({"judge": cfg.judge, **{f"judge_{axis}": r[f"judge_{axis}"] for axis in AXES},
                         **{f"judge_{axis}_scores": per_prompt[key][f"judge_{axis}"] for axis in AXES}}
                        if f"judge_{CONCEPT}" in r else {})},
        )
