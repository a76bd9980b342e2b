"""A last line of defence: no log line leaves the process with a personnummer in it.

The code never logs one on purpose; this filter masks anything that could be
one (the rule of ``inuk.intake.masking``) in case a library does, or an
exception carries one in its text: the message, its arguments, the traceback
and the stack are all masked before any handler formats the record.
"""

from __future__ import annotations

import logging

from inuk.intake.masking import redact

__all__ = ["RedactPersonnummer", "redact"]

#: Only for formatting tracebacks the way the standard handlers do.
_FORMATTER = logging.Formatter()


class RedactPersonnummer(logging.Filter):
    """Rewrite a record so that nothing in it can show a personnummer.

    The traceback is formatted here and kept as ``exc_text`` only: a handler
    that formats ``exc_info`` itself would otherwise print the exception's
    text, and the values in its frames' source lines, unmasked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _FORMATTER.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
