"""ui.fields: form numbers parsed with messages that name the field."""

import pytest

from storage.errors import UserError
from ui import fields


def test_empty_optional_is_none_and_numbers_parse():
    assert fields.whole("", "Eval prompts", 1, optional=True) is None
    assert fields.whole(None, "Eval prompts", 1, optional=True) is None
    assert fields.whole(" 12 ", "Eval prompts", 1, optional=True) == 12
    assert fields.whole(3.0, "Pairs", 1) == 3
    assert fields.decimal("0.5", "Top-p", 0, 1) == 0.5


@pytest.mark.parametrize("call, message", [
    (lambda: fields.whole("0", "Eval prompts", 1, optional=True), r"^Eval prompts: 0 is less than the minimum, 1; leave it empty"),
    (lambda: fields.whole("", "Pairs", 1), r"^Pairs: enter a whole number"),
    (lambda: fields.whole("many", "Pairs", 1), r"^Pairs: 'many' is not a number"),
    (lambda: fields.whole("2.5", "Pairs", 1), r"^Pairs: 2.5 is not a whole number"),
    (lambda: fields.whole("inf", "Pairs", 1), r"^Pairs: inf is not a whole number"),
    (lambda: fields.decimal(1.5, "Top-p", 0, 1), r"^Top-p: 1.5 is more than the maximum, 1"),
    (lambda: fields.decimal(-1, "Temperature", 0), r"^Temperature: -1 is less than the minimum, 0"),
])
def test_bad_values_name_the_field(call, message):
    with pytest.raises(UserError, match=message):
        call()
