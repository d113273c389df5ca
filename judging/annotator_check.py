"""How often the simulated weak annotator prefers the better of two real answers (the label pairs of judging.judge_pairs).

Concept kinds (voice>formula, ...): the whole annotator, its concept view from the judge's readings of those pairs
(results/calibration/judge-pairs.json), content from the content scorer, with verdict noise; the legacy scorer
annotator beside it. correct>wrong: the content view alone (with verdict noise), the error rate content_noise buys.
With `contrast` (a feedback.contrast_view.ContrastView and the texts it was fitted on), the contrast annotator too: its
concept view from the view's readings of the pairs that hold none of those texts.
Each figure: the mean over `draws` seeds of the share of pairs where the annotator (or majority) prefers the better.
"""

from __future__ import annotations

from scoring import scorers
from feedback.simulated_annotator import Scores, crowd_verdicts, judged_verdicts, weak_verdicts
from judging import judge_pairs as P
from storage.terms import AXES, CONCEPT


def _share(verdicts: list[dict]) -> float:
    return sum(v["prefers_a"] for v in verdicts) / len(verdicts) if verdicts else float("nan")


def agreement(task, readings: dict, noise: float, content_noise: float, annotators: int = 1, draws: int = 200,
              max_pairs: int = 120, seed: int = 0, axes=AXES, contrast: tuple | None = None) -> dict:
    """{kind: {"n", "judge", "scorer"[, "contrast", "n_contrast"]}}: the share of label pairs where the judge annotator,
    the legacy scorer annotator (and the contrast annotator) prefer the higher-labelled answer. `readings`: {axis: [{"p_first", "p_swapped"}, ...]} of the judge
    on measure()'s pairs (the same max_pairs and seed), as bench/judge_pairs.py stores them."""
    prompts = P.prompts_by_id(task.prompt_set)
    out = {}
    for axis in axes:
        pairs = P.label_pairs(P.agreed(task.name, axis), axis, max_pairs, seed)
        got = readings.get(axis, [])
        judged_here = axis != CONCEPT or len(got) == len(pairs)  # else the judge has not read these pairs (yet)
        for kind in P.KINDS[axis]:
            idx = [i for i, p in enumerate(pairs) if p["kind"] == kind]
            if not idx:
                continue

            def seen(row: dict, prompt_id: str) -> Scores:
                prompt = prompts.get(prompt_id, {})
                return Scores(scorers.concept_score(task.concept_scorer, row["answer"]),
                              scorers.content_score(task.content_scorer, row["answer"], prompt))

            sides = [(seen(pairs[i]["hi"], pairs[i]["prompt_id"]), seen(pairs[i]["lo"], pairs[i]["prompt_id"])) for i in idx]
            share = lambda pairs, vote: sum(  # noqa: E731
                _share(crowd_verdicts(pairs, noise, content_noise, d, annotators, vote=vote)) for d in range(draws)) / draws
            if axis == CONCEPT:
                judged = [((got[i]["p_first"] + got[i]["p_swapped"]) / 2, a, b) for i, (a, b) in zip(idx, sides)] if judged_here else []
                legacy = sides
            else:  # the content view alone
                judged = [(None, a, b) for a, b in sides]
                legacy = [(Scores(None, a.content), Scores(None, b.content)) for a, b in sides]
            out[kind] = {"n": len(idx), "judge": share(judged, judged_verdicts) if judged else float("nan"),
                         "scorer": share(legacy, weak_verdicts)}
            if contrast is not None:
                view, fitted = contrast
                keep = [k for k, i in enumerate(idx) if not {pairs[i]["hi"]["answer"].strip(), pairs[i]["lo"]["answer"].strip()} & fitted]
                seen_by = [(view.p_better(pairs[idx[k]]["hi"]["answer"], pairs[idx[k]]["lo"]["answer"]) if axis == CONCEPT else None,
                            *sides[k]) for k in keep]
                out[kind] |= {"n_contrast": len(keep), "contrast": share(seen_by, judged_verdicts) if keep else float("nan")}
    return out
