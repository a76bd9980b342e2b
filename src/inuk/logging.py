"""A last line of defence: no log line leaves the process with a personnummer in it.

The code never logs one on purpose; this filter masks anything that looks like
one (10 or 12 digits, with or without a dash) in case a library does.
"""

from __future__ import annotations

import logging
import re

# Digits that could be a personnummer: 12 (century 18-20) or 10 digits with a
# month's first digit (0 or 1) in place, a dash or plus allowed before the last
# four; standing alone, not inside a longer run of letters and digits (such as
# a checksum or a UUID). Organisation numbers (third digit 2 or more) pass.
PERSONNUMMER_LIKE = re.compile(
    r"(?<![0-9A-Za-z])((?:18|19|20)\d{2}[01]\d{3}|\d{2}[01]\d{3})[-+]?\d{4}(?![0-9A-Za-z])"
)


def redact(text: str) -> str:
    """Mask what looks like a personnummer, keeping its date of birth: ``19881212-****``."""
    return PERSONNUMMER_LIKE.sub(lambda m: f"{m.group(1)}-****", text)


class RedactPersonnummer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
