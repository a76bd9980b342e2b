"""The answer when a request fails: 503 with a clear message while a database is away.

Django answers any uncaught exception with ``handler500``, whether it came
from a view or from a middleware (sessions, the log-in, the API token), so
this is the one place where a database that cannot be reached is told apart
from a fault: the client is asked, in Swedish and English, to try again
shortly (``Retry-After``), as JSON under ``/api/`` and as a plain page
elsewhere. The page uses no template, session or database. Anything else is
Django's own 500 page; neither shows a trace.
"""

from __future__ import annotations

import json
import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views import defaults

from inuk.api.errors import ERRORS, RETRY_AFTER

PAGE = """<!DOCTYPE html>
<html lang="sv">
<head><meta charset="utf-8">
<title>INUK: tillfälligt otillgänglig / temporarily unavailable</title></head>
<body>
<h1>Tjänsten är tillfälligt otillgänglig</h1>
<p>{sv}</p>
<h1 lang="en">The service is temporarily unavailable</h1>
<p lang="en">{en}</p>
</body>
</html>
"""


def unavailable(request: HttpRequest) -> HttpResponse:
    kind = ERRORS["SERVICE_UNAVAILABLE"]
    if request.path.startswith("/api/"):
        body = {
            "error": {"code": "SERVICE_UNAVAILABLE", "message_sv": kind.sv, "message_en": kind.en}
        }
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False),
            status=503,
            content_type="application/json; charset=utf-8",
        )
    else:
        response = HttpResponse(
            PAGE.format(sv=kind.sv, en=kind.en), status=503, content_type="text/html; charset=utf-8"
        )
    response["Retry-After"] = RETRY_AFTER
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: called while the exception is being handled."""
    if isinstance(sys.exc_info()[1], DatabaseError):
        return unavailable(request)
    return defaults.server_error(request)
