"""The log's filters: no personnummer leaves the process, and each line says whose request.

The code never logs a personnummer on purpose; ``RedactPersonnummer`` masks
anything that could be one (the rule of ``inuk.format.masking``) in case a
library does, or an exception carries one in its text: the message, its
arguments, the traceback, the stack and any extra field are all masked before
any handler formats the record.

``RequestContext`` adds the request id, the user and the organisation of the
request being served to every record written while serving it, so that an
operator can follow one request through the JSON log (``INUK_LOG_FORMAT=json``).
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from django.utils.functional import empty

from inuk.format.masking import redact

__all__ = ["RedactPersonnummer", "RequestContext", "current_request", "redact"]

#: Only for formatting tracebacks the way the standard handlers do.
_FORMATTER = logging.Formatter()

#: The attributes every record has; anything else on a record came as ``extra``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

#: The request this thread is serving (set by ``inuk.web.middleware.RequestLogMiddleware``).
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "inuk_current_request", default=None
)


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
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


def _known_user(request: Any) -> Any:
    """The request's user if the request has already looked it up; never a query of its own.

    A log line may be written while the database is failing, and must not
    fail (or write more lines) for want of a user.
    """
    principal = getattr(request, "auth", None)  # an API token or user, set by the API
    if principal is not None:
        return principal
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or wrapped is None or not getattr(wrapped, "is_authenticated", False):
        return None
    return wrapped


class RequestContext(logging.Filter):
    """Give each record the request id, user and organisation of the request being served.

    The user is named by the id of the account (or ``token:`` and the API
    token's public id), never its e-mail address; records written outside a
    request have none of the three.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # Django writes its "Not Found" and error lines after the middleware has
        # answered, so after the request's context ended; they carry the request.
        request = current_request.get() or record.__dict__.get("request")
        user = organisation = None
        principal = _known_user(request) if request is not None else None
        if principal is not None:
            public_id = getattr(principal, "public_id", None)
            user = f"token:{public_id}" if public_id else principal.pk
            organisation = getattr(principal, "organisation_id", None)
        fields = {
            "request_id": getattr(request, "request_id", None),
            "user": user,
            "organisation": organisation,
        }
        for name, value in fields.items():
            record.__dict__.setdefault(name, value)
        return True
