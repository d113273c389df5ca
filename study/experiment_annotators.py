"""The experiment's simulated weak annotators: their verdicts on every matchup of the train prompts (the `judge` stage).

`--annotator contrast` (new runs): the concept from feedback.contrast_view, the marks of the weak model's train answers
against the strong base's (fitted on the run's own train texts, no labels, not the eval scorer); content a weak key-facts
verdict (judged_verdicts). `--annotator judge`: the concept from a pairwise LLM judge (`--annotator-model`, judge_pair, both orders), neither
the eval concept scorer nor fitted to the eval labels; content a weak key-facts verdict (judged_verdicts).
`--annotator scorer` (legacy) sees the concept through the eval scorer; its stages keep their keys (stage_key).
"""

from __future__ import annotations

from feedback.simulated_annotator import Scores, crowd_verdicts, judged_verdicts
from models.strategies import STRONG_BASE, WEAK
from storage.terms import CONCEPT, CONTENT
from study.evaluation import score_texts
from study.experiment_rows import matchup_name, matchups
from study.experiment_stages import fingerprint, free_memory

TRAIN_STRATEGIES = tuple(dict.fromkeys(s for pair in matchups() for s in pair))  # the train-prompt texts annotators judge


def annotator_name(cfg, device: str) -> str:
    """The instrument that perceives the concept: 'scorer', 'contrast', or the judge's name with its precision (judging.judge.judge_name)."""
    if cfg.annotator in ("scorer", "contrast"):
        return cfg.annotator
    from judging.judge import judge_name, pick_precision

    return judge_name(cfg.annotator_model, pick_precision(cfg.judge_precision, device))


def annotator_key_parts(cfg, device: str) -> tuple:
    """What the judge stage's key adds for the annotator: nothing for the legacy scorer annotator (its stages keep
    their keys), else ("annotator", annotator_name)."""
    return () if cfg.annotator == "scorer" else ("annotator", annotator_name(cfg, device))


def annotate(scores: dict[str, dict], n: int, cfg, concept_p: dict[str, list[float]] | None = None) -> dict[str, list[dict]]:
    """The simulated annotators' verdicts on every matchup of the n train prompts, from their texts'
    scores by strategy ({strategy: {"concept": [...], "content": [...]}}) and experiment `cfg`'s
    annotator settings. With `concept_p` ({matchup: P(a shows the concept better) per prompt}, the
    contrast or judge annotator) the concept scores are never read."""

    def seen(strategy: str, i: int) -> Scores:
        s = scores[strategy]
        concept = s[CONCEPT][i] if s.get(CONCEPT) and concept_p is None else None
        return Scores(concept, s[CONTENT][i] if s.get(CONTENT) else None)

    out = {}
    for m, (a, b) in enumerate(matchups()):  # seeded by the matchup's place among all of them: a subset of rows votes alike
        if a not in scores or b not in scores:
            continue  # no chosen row needs this matchup (its texts were not generated)
        name = matchup_name(a, b)
        if concept_p is None:
            pairs, vote = [(seen(a, i), seen(b, i)) for i in range(n)], None
        else:
            pairs, vote = [(concept_p[name][i], seen(a, i), seen(b, i)) for i in range(n)], judged_verdicts
        out[name] = crowd_verdicts(pairs, cfg.noise, cfg.content_noise, cfg.seed + m, cfg.annotators,
                                   **({"vote": vote} if vote else {}))
    return out


def contrast_concept(texts: dict[str, list[str]]) -> tuple[dict[str, list[float]], dict[str, float]]:
    """({matchup: P(a shows the concept better) per prompt}, the marks) from the word contrast of the weak model's
    train answers against the strong base's (feedback.contrast_view)."""
    from feedback.contrast_view import fit

    view = fit(texts[WEAK], texts[STRONG_BASE])
    return ({matchup_name(a, b): [view.p_better(x, y) for x, y in zip(texts[a], texts[b])]
             for a, b in matchups() if a in texts and b in texts}, view.marks)


def judge_concept(cfg, settings, task, prompts: list[dict], texts: dict[str, list[str]], device: str) -> dict[str, list[float]]:
    """{matchup: the annotator model's pairwise P(a shows the concept better), averaged over both orders, per prompt}."""
    from models.loading import clear_cache
    from judging.judge import judge_pair, load_judge

    judge = load_judge(cfg.annotator_model, settings, device=device, precision=cfg.judge_precision)
    out = {matchup_name(a, b): [v["p_a"] for v in judge_pair(judge, task, prompts, texts[a], texts[b], axis=CONCEPT)]
           for a, b in matchups() if a in texts and b in texts}
    del judge
    clear_cache()
    free_memory()
    return out


def stage_key(cfg, task, texts: dict[str, list[str]], device: str) -> str:
    """The judge stage's fingerprint: the train texts, the matchups voted on (those whose two sides' texts the run made,
    so a plan added later leaves older runs' keys alone), annotator settings and scorers. A single annotator's
    stage keeps the key it had before several could vote, a scorer annotator's the key it had before the judge one."""
    crowd = (cfg.annotators,) if cfg.annotators > 1 else ()
    voted = [(a, b) for a, b in matchups() if a in texts and b in texts]
    return fingerprint({s: texts[s] for s in texts if s in TRAIN_STRATEGIES}, voted, cfg.noise, cfg.content_noise, cfg.seed,
                       task["concept_scorer"], task["content_scorer"], *crowd, *annotator_key_parts(cfg, device))


def annotator_stage(runner, texts: dict[str, list[str]]) -> dict:
    """Stage `judge`: the simulated weak annotators' verdicts on every matchup, per train prompt."""
    from models.loading import pick_device

    cfg = runner.cfg
    device = pick_device(runner.settings.device)
    key = stage_key(cfg, runner.task, texts, device)
    found = runner.stages.get("judge", key)
    if found is not None:
        return runner.step("judge", lambda: found, cached=True)

    def run() -> dict:
        scores = {s: score_texts(runner.task, runner.train, texts[s]) for s in texts if s in TRAIN_STRATEGIES}  # in the run's order
        concept_p, marks = None, None
        if cfg.annotator == "contrast":
            concept_p, marks = contrast_concept(texts)
        elif cfg.annotator == "judge":
            concept_p = judge_concept(cfg, runner.settings, runner.task, runner.train, texts, device)
        return runner.stages.put("judge", key, {"scores": scores, "annotator": annotator_name(cfg, device),
                                                **({"concept_p": concept_p} if concept_p else {}),
                                                **({"marks": marks} if marks is not None else {}),
                                                "verdicts": annotate(scores, len(runner.train), cfg, concept_p)})

    return runner.step("judge", run, cached=False)
