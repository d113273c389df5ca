"""Numbers typed into forms, checked with messages that name the field.

Gradio's own number checks (gr.Number(minimum=...)) say "Value 0 is less than minimum value 1"
without naming the field, and an empty gr.Number shows 0; so optional numbers are Textboxes,
forms set no Gradio minimum, and handlers parse every number through these helpers.
"""

from __future__ import annotations

import math

from storage.errors import UserError


def whole(value, label: str, minimum: int | None = None, optional: bool = False) -> int | None:
    """`value` as an int (None when empty and `optional`); a UserError naming `label` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise UserError(f"{label}: enter a whole number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{label}: {str(value).strip()!r} is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise UserError(f"{label}: {value} is not a whole number")
    number = int(number)
    if minimum is not None and number < minimum:
        raise UserError(f"{label}: {number} is less than the minimum, {minimum}" + ("; leave it empty for the default" if optional else ""))
    return number


def decimal(value, label: str, minimum: float | None = None, maximum: float | None = None) -> float:
    """`value` as a float within [minimum, maximum]; a UserError naming `label` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UserError(f"{label}: enter a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{label}: {str(value).strip()!r} is not a number") from None
    if not math.isfinite(number):
        raise UserError(f"{label}: {value} is not a finite number")
    if minimum is not None and number < minimum:
        raise UserError(f"{label}: {number:g} is less than the minimum, {minimum:g}")
    if maximum is not None and number > maximum:
        raise UserError(f"{label}: {number:g} is more than the maximum, {maximum:g}")
    return number
