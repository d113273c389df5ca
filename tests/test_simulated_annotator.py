"""The simulated weak annotator: sees the concept, judges content only as well as content_noise allows."""

import pytest

from feedback.simulated_annotator import Scores, crowd_verdicts, weak_verdicts


def agreement_with_content(content_noise: float, n: int = 4000) -> float:
    """Share of verdicts that follow the true content on pairs of equal concept (no verdict flips)."""
    pairs = [(Scores(0.5, 1.0), Scores(0.5, 0.0))] * n
    return sum(v["prefers_a"] for v in weak_verdicts(pairs, noise=0.0, content_noise=content_noise, seed=3)) / n


def test_content_noise_takes_the_annotator_from_judging_facts_to_guessing():
    assert agreement_with_content(0.0) == 1.0  # a strong judge of facts
    # each side's content is guessed (uniform) half the time: right when neither is guessed, often when one is
    half = agreement_with_content(0.5)
    blind = agreement_with_content(1.0)
    assert 0.65 < half < 0.9
    assert blind == pytest.approx(0.5, abs=0.03)  # content noise 1: facts carry no information
    assert half > blind


def test_the_concept_is_perceived_whatever_the_content_noise():
    # pirate and wrong against plain and right: with content blind, the concept decides
    pairs = [(Scores(1.0, 0.0), Scores(0.0, 1.0))] * 2000
    verdicts = weak_verdicts(pairs, noise=0.0, content_noise=1.0, seed=0)
    assert sum(v["prefers_a"] for v in verdicts) / 2000 > 0.7
    # with facts judged perfectly the two axes weigh the same: a tie, settled by a coin
    even = weak_verdicts(pairs, noise=0.0, content_noise=0.0, seed=0)
    assert 0.45 < sum(v["prefers_a"] for v in even) / 2000 < 0.55


def test_verdict_noise_flips_at_its_rate_and_runs_are_seeded():
    pairs = [(Scores(1.0, 1.0), Scores(0.0, 0.0))] * 4000
    noisy = weak_verdicts(pairs, noise=0.25, content_noise=0.0, seed=1)
    assert sum(not v["prefers_a"] for v in noisy) / 4000 == pytest.approx(0.25, abs=0.03)
    assert all(v["prefers_a"] != v["flipped"] for v in noisy)  # clean verdict always prefers a here
    assert noisy == weak_verdicts(pairs, noise=0.25, content_noise=0.0, seed=1)
    assert noisy != weak_verdicts(pairs, noise=0.25, content_noise=0.0, seed=2)
    guessed = weak_verdicts(pairs, noise=0.0, content_noise=0.5, seed=1)
    assert sum(v["guessed_a"] for v in guessed) / 4000 == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError):
        weak_verdicts(pairs, noise=0.5, content_noise=0.0, seed=0)
    with pytest.raises(ValueError):
        weak_verdicts(pairs, noise=0.0, content_noise=1.5, seed=0)


def test_a_crowd_keeps_the_majority_and_its_agreement():
    pairs = [(Scores(1.0, 1.0), Scores(0.0, 0.0))] * 3000
    # one annotator: exactly the lone weak annotator's verdicts
    assert crowd_verdicts(pairs, 0.25, 0.0, seed=4, annotators=1) == weak_verdicts(pairs, 0.25, 0.0, seed=4)
    crowd = crowd_verdicts(pairs, 0.25, 0.0, seed=4, annotators=3)
    # each of 3 votes flips at 0.25: the majority is wrong only when 2 or 3 flip (3 * 0.25^2 * 0.75 + 0.25^3)
    assert sum(not v["prefers_a"] for v in crowd) / 3000 == pytest.approx(0.156, abs=0.02)
    lone = weak_verdicts(pairs, 0.25, 0.0, seed=4)
    assert [v["votes_a"] >= 1 for v in crowd] != [v["prefers_a"] for v in lone]  # the others vote on their own draws
    for v in crowd:
        assert v["prefers_a"] == (v["votes_a"] >= 2)
        assert v["agreement"] == max(v["votes_a"], 3 - v["votes_a"]) / 3
        assert v["flipped"] == 3 - v["votes_a"]  # clean votes all prefer a here
    assert crowd == crowd_verdicts(pairs, 0.25, 0.0, seed=4, annotators=3)  # seeded
    tie = crowd_verdicts(pairs[:200], 0.25, 0.0, seed=4, annotators=2)
    assert all(v["prefers_a"] == (v["votes_a"] == 2 or (v["votes_a"] == 1 and w["prefers_a"]))
               for v, w in zip(tie, weak_verdicts(pairs[:200], 0.25, 0.0, seed=4)))  # a tie goes to the first annotator
    with pytest.raises(ValueError):
        crowd_verdicts(pairs, 0.1, 0.0, seed=0, annotators=0)


def test_the_judge_annotator_never_reads_the_concept_scores():
    """Its concept comes from the instrument's P(a better); changing every concept score changes no verdict."""
    from feedback.simulated_annotator import judged_verdicts

    pairs = [(p, Scores(c1, 1.0), Scores(c2, 0.0)) for p, c1, c2 in [(0.9, 0.0, 1.0), (0.2, 1.0, 0.0), (0.5, 0.3, 0.3)] * 200]
    other = [(p, Scores(1.0 - a.concept, a.content), Scores(0.5, b.content)) for p, a, b in pairs]
    assert judged_verdicts(pairs, 0.1, 0.5, seed=2) == judged_verdicts(other, 0.1, 0.5, seed=2)
    assert crowd_verdicts(pairs, 0.1, 0.5, 2, 3, vote=judged_verdicts) == crowd_verdicts(other, 0.1, 0.5, 2, 3, vote=judged_verdicts)


def test_the_judge_annotators_content_verdict_is_a_coin_at_its_content_noise():
    """The content view is a verdict (a has more key facts) replaced by a coin at content_noise; concept and content
    vote +1/-1 each and a tie between them is a coin."""
    from feedback.simulated_annotator import judged_verdicts

    n = 8000
    right = lambda cn, p: sum(v["prefers_a"] for v in judged_verdicts([(p, Scores(None, 1.0), Scores(None, 0.0))] * n, 0.0, cn, seed=5)) / n  # noqa: E731
    # concept certain for a: content agrees (a) or, guessed, agrees half the time and ties (coin) the other half
    assert right(0.0, 1.0) == 1.0
    assert right(0.5, 1.0) == pytest.approx(1 - 0.5 * 0.5 * 0.5, abs=0.02)
    # concept certain against a: content for a makes a tie (coin) unless guessed against a
    assert right(0.0, 0.0) == pytest.approx(0.5, abs=0.02)
    # no concept view: the content verdict alone, right at 1 - content_noise / 2
    blind = sum(v["prefers_a"] for v in judged_verdicts([(None, Scores(None, 1.0), Scores(None, 0.0))] * n, 0.0, 0.5, seed=5)) / n
    assert blind == pytest.approx(0.75, abs=0.02)
    guessed = judged_verdicts([(None, Scores(None, 1.0), Scores(None, 0.0))] * n, 0.0, 0.5, seed=5)
    assert sum(v["guessed_a"] for v in guessed) / n == pytest.approx(0.5, abs=0.02) and not any(v["guessed_b"] for v in guessed)
    with pytest.raises(ValueError):
        judged_verdicts([(0.5, Scores(None, 1.0), Scores(None, 0.0))], 0.5, 0.0, seed=0)
