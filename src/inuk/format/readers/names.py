"""Names taken from a file (an unknown element or key) as they may appear in a report.

A name is the file's content: someone could name an element after a
personnummer. ``inuk.format.masking.redact`` masks anything that could be one, glued
to letters or not; a name holds no number worth showing, so any other long
run of digits is masked here as well.
"""

from __future__ import annotations

import re

from inuk.format.masking import redact

_LONG_DIGITS = re.compile(r"\d{9,}")
MAX_LENGTH = 100


def shown_name(name: str) -> str:
    """``name`` shortened, with anything that could be a personnummer masked."""
    masked = _LONG_DIGITS.sub(lambda m: m.group()[:8] + "-****", redact(name))
    return masked if len(masked) <= MAX_LENGTH else masked[:MAX_LENGTH] + "…"
