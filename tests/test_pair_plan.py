"""The pair plans: every plan schedules matchups of known strategies, and an unknown plan is a clear error."""

import pytest

from feedback.pair_plan import PLANS, describe, plan_pairs
from feedback.recipes import DEFAULT_RECIPE, RECIPES
from models.strategies import STRATEGIES
from storage.errors import UserError


@pytest.mark.parametrize("name", PLANS.names)
def test_each_plan_pairs_two_different_generated_strategies(name):
    pairs = plan_pairs(name)
    assert pairs and pairs == PLANS[name].pairs
    for a, b in pairs:
        assert a != b
        assert STRATEGIES[a].role != "human" and STRATEGIES[b].role != "human"
    assert describe(name) == f"{name}: " + ", ".join(f"{a} vs {b}" for a, b in pairs)


def test_the_default_recipes_plan_contrasts_the_concept_at_equal_content():
    assert ("icl-refine", "strong-base") in plan_pairs(RECIPES[DEFAULT_RECIPE].plan)


def test_an_unknown_plan_names_the_known_ones():
    with pytest.raises(UserError, match="unknown pair plan 'both'; choose one of " + ", ".join(PLANS.names)):
        plan_pairs("both")
