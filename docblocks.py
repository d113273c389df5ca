"""Generated blocks in Markdown pages: the text between a start and an end marker, read and replaced.

Every generated figure in README.md, results/README.md, bench/README.md and docs/ lives in such a
block, written by the command that measures it and checked by a test; prose around it is by hand.
"""

from __future__ import annotations

import re


def between(text: str, start: str, end: str) -> str | None:
    """What `text` holds between the markers (stripped), or None without them."""
    m = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.S)
    return m.group(1).strip() if m else None


def replace(text: str, block: str, start: str, end: str) -> str:
    """`text` with the block between the markers replaced; appended (with markers) at the end if it had none."""
    section = f"{start}\n{block.strip()}\n{end}"
    if between(text, start, end) is None:
        return text.rstrip() + "\n\n" + section + "\n"
    return re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: section, text, count=1, flags=re.S)
