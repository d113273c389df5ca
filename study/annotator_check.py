"""How often the simulated weak annotator prefers the better of two real answers (the label pairs of study.judge_pairs).

- voice vs formula (concept 2 vs 1) and the other concept kinds: the whole annotator, its concept view
  from the pairwise judge's readings of those pairs (results/calibration/judge-pairs.json), its
  content view from the task's content scorer, with verdict noise; the legacy scorer annotator
  beside it (its concept view is the eval concept scorer);
- correct vs wrong (content 1 vs 0): the annotator's content view alone (no concept view, so the
  verdict is its content verdict with noise), the error rate `content_noise` buys; the legacy
  annotator's content view alone too (its uniform guess of a score).

Each figure is the mean over `draws` seeds of the share of pairs where the annotator (or the
majority of `annotators`) prefers the higher-labelled answer.
"""

from __future__ import annotations

import json

from feedback import scorers
from feedback.simulated_annotator import Scores, crowd_verdicts, judged_verdicts, weak_verdicts
from study import judge_pairs as P


def _share(verdicts: list[dict]) -> float:
    return sum(v["prefers_a"] for v in verdicts) / len(verdicts) if verdicts else float("nan")


def agreement(task, readings: dict, noise: float, content_noise: float, annotators: int = 1, draws: int = 200,
              max_pairs: int = 120, seed: int = 0) -> dict:
    """{kind: {"n", "judge", "scorer"}}: the share of label pairs where the judge annotator and the legacy scorer
    annotator prefer the higher-labelled answer. `readings`: {axis: [{"p_first", "p_swapped"}, ...]} of the judge
    on measure()'s pairs (the same max_pairs and seed), as bench/judge_pairs.py stores them."""
    prompts = P.prompts_by_id(task.prompt_set)
    out = {}
    for axis in ("concept", "content"):
        pairs = P.label_pairs(P.agreed(task.name, axis), axis, max_pairs, seed)
        got = readings.get(axis, [])
        if axis == "concept" and len(got) != len(pairs):
            continue  # the judge has not read these pairs (yet)
        for kind in P.KINDS[axis]:
            idx = [i for i, p in enumerate(pairs) if p["kind"] == kind]
            if not idx:
                continue

            def seen(row: dict, prompt_id: str) -> Scores:
                prompt = prompts.get(prompt_id, {})
                return Scores(scorers.concept_score(task.concept_scorer, row["answer"]),
                              scorers.content_score(task.content_scorer, row["answer"], prompt))

            sides = [(seen(pairs[i]["hi"], pairs[i]["prompt_id"]), seen(pairs[i]["lo"], pairs[i]["prompt_id"])) for i in idx]
            if axis == "concept":
                p_concept = [(got[i]["p_first"] + got[i]["p_swapped"]) / 2 for i in idx]
                judged = [(p, a, b) for p, (a, b) in zip(p_concept, sides)]
                legacy = sides
            else:  # the content view alone
                judged = [(None, a, b) for a, b in sides]
                legacy = [(Scores(None, a.content), Scores(None, b.content)) for a, b in sides]
            j = [_share(crowd_verdicts(judged, noise, content_noise, d, annotators, vote=judged_verdicts)) for d in range(draws)]
            s = [_share(crowd_verdicts(legacy, noise, content_noise, d, annotators, vote=weak_verdicts)) for d in range(draws)]
            out[kind] = {"n": len(idx), "judge": sum(j) / draws, "scorer": sum(s) / draws}
    return out


def load_readings(path=P.CALIBRATION) -> dict:
    """{task: {axis: readings}} and the bench's settings from results/calibration/judge-pairs.json."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    return data
