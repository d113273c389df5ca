"""The experiment's simulated weak annotators: their verdicts on every matchup of the train prompts."""

from __future__ import annotations

from feedback.simulated_annotator import Scores, crowd_verdicts
from study.experiment_rows import matchup_name, matchups


def annotate(scores: dict[str, dict], n: int, cfg) -> dict[str, list[dict]]:
    """The simulated annotators' verdicts on every matchup of the n train prompts, from their texts'
    scores by strategy ({strategy: {"concept": [...], "content": [...]}}) and experiment `cfg`'s
    annotator settings."""

    def seen(strategy: str, i: int) -> Scores:
        s = scores[strategy]
        return Scores(s["concept"][i] if s["concept"] else None, s["content"][i] if s["content"] else None)

    return {
        matchup_name(a, b): crowd_verdicts([(seen(a, i), seen(b, i)) for i in range(n)],
                                           cfg.noise, cfg.content_noise, cfg.seed + m, cfg.annotators)
        for m, (a, b) in enumerate(matchups())
    }
