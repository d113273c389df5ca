"""Whether a stored answer looks cut at its token limit, for the Annotate tab's "… cut at N tokens" mark.

Outputs store their generation params (`max_new_tokens`) but neither their token count nor whether
decoding stopped at EOS, and this room loads no tokenizer. So the count is approximated: words and
punctuation marks (`\\w+|[^\\w\\s]`), which BPE tokenizers split into at least as many tokens. On the
320 shipped seed answers (all generated with max_new_tokens 128) every answer that ends without closing
punctuation counts 84 or more such units and every short one ends with it, so an answer is marked when
it counts at least CUT_SHARE of its limit and does not end like a sentence. A cut that falls exactly at
a sentence end is missed (shown unmarked), never a finished answer marked.
"""

from __future__ import annotations

import json
import re

CUT_SHARE = 0.6
_UNITS = re.compile(r"\w+|[^\w\s]")
_ENDINGS = tuple('.!?)"\'`*]}>…')


def max_new_tokens(params) -> int | None:
    """The output's token limit from its stored params (a dict or its JSON), or None when it has none."""
    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except ValueError:
            return None
    value = params.get("max_new_tokens") if isinstance(params, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def looks_cut(text: str, limit: int | None) -> bool:
    """True when `text` probably stopped at its token limit rather than at the model's end of answer."""
    if not limit or not text or not text.strip():
        return False
    return not text.rstrip().endswith(_ENDINGS) and len(_UNITS.findall(text)) >= CUT_SHARE * limit
