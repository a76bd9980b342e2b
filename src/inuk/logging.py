"""A last line of defence: no log line leaves the process with a personnummer in it.

The code never logs one on purpose; this filter masks anything that looks like
one (10 or 12 digits, with or without a dash) in case a library does.
"""

from __future__ import annotations

import logging
import re

PERSONNUMMER_LIKE = re.compile(r"(?<!\d)(\d{2})?(\d{6})[-+]?(\d{4})(?!\d)")


def redact(text: str) -> str:
    return PERSONNUMMER_LIKE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}-****", text)


class RedactPersonnummer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
