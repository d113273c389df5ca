"""JSON from outside (a browser's request, an import file's line) parsed so that every bad input is a
ValueError with a message, never another exception.

Python's json accepts NaN, Infinity and -Infinity (not JSON) and turns 1e999 into inf; it raises
RecursionError on deep nesting and a plain ValueError on an integer of more than 4,300 digits.
`loads` refuses all of these with a ValueError saying what is wrong, and where when json knows.
"""

from __future__ import annotations

import json
import math

MAX_DEPTH_WORDS = "nested too deeply (more than about 1,000 levels of brackets)"


class Invalid(ValueError):
    """Text that is not JSON Refinery accepts; the message says why (and `column`, when known, where)."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.reason = message
        self.column = column


def _no_constant(name: str):
    raise Invalid(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Invalid(f"the number {text[:20]} is too large")
    return value


def _bounded_int(limit: int):
    def parse(text: str) -> int:
        value = int(text)
        if abs(value) > limit:
            raise Invalid(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is too large")
        return value

    return parse


def loads(text: str | bytes, max_int: int | None = None) -> object:
    """The value of JSON `text`; Invalid (a ValueError) for malformed JSON, NaN or Infinity, numbers
    too large for a float or of more than 4,300 digits (or, given `max_int`, integers beyond ±max_int),
    and nesting deeper than Python can parse."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_bounded_int(max_int) if max_int is not None else None)
    except Invalid:
        raise
    except json.JSONDecodeError as err:
        # some of json's messages end in "at" ("Invalid control character at")
        raise Invalid(err.msg.removesuffix(" at"), err.colno) from None
    except UnicodeDecodeError as err:
        raise Invalid(f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except RecursionError:
        raise Invalid(MAX_DEPTH_WORDS) from None
    except ValueError as err:  # an integer of more than sys.get_int_max_str_digits() digits
        raise Invalid(f"a number is too long ({err})") from None
