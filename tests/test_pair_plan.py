"""The pair plans: which matchups each plan schedules, and a clear error for an unknown one."""

import pytest

from feedback.pair_plan import DEFAULT_PLAN, describe, plan_pairs


def test_each_plan_names_its_matchups():
    assert plan_pairs("refined") == (("icl-refine", "strong-base"), ("icl-refine", "weak"))
    assert plan_pairs("concept") == (("icl-refine", "strong-base"),)
    assert plan_pairs("restyle") == (("icl-restyle", "strong-base"),)
    assert plan_pairs("opening") == (("weak-opening", "strong-base"),)
    assert plan_pairs("naive") == (("weak", "strong-base"),)
    assert DEFAULT_PLAN == "refined"
    assert describe("concept") == "concept: icl-refine vs strong-base"


def test_an_unknown_plan_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown pair plan 'both'.*refined, concept, restyle, opening, naive"):
        plan_pairs("both")
