"""The service's own middleware: the proxy's headers, and Swedish first."""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings
from django.utils import translation

from inuk.client import from_trusted_proxy
from inuk.format.masking import random_id
from inuk.logging import current_request

log = logging.getLogger("inuk.request")

#: A request id from the proxy is kept only if it is this plain: it goes into every log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class ProxyHeadersMiddleware:
    """The proxy's HTTPS header is believed only when the proxy sent the request.

    Django trusts ``SECURE_PROXY_SSL_HEADER`` from anyone; a client reaching
    the service past the proxy could claim HTTPS and get secure-only
    behaviour (and links) for a plain connection. So the header is removed
    from any request whose peer is not in ``INUK_TRUSTED_PROXY``, before
    Django's SecurityMiddleware reads it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = settings.SECURE_PROXY_SSL_HEADER
        if header and not from_trusted_proxy(request):
            request.META.pop(header[0], None)
        return self.get_response(request)


class LanguageMiddleware:
    """Swedish first: the language is Swedish unless the user chose English.

    Django's LocaleMiddleware would follow the browser's Accept-Language, which
    puts most visitors with an English-language browser on English pages; the
    service speaks Swedish and offers English as a choice, remembered in a cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class RequestLogMiddleware:
    """One log line per request, and a request id on every line written while serving it.

    The id is the trusted proxy's ``X-Request-ID`` when it sends a plain one
    (so the proxy's log and the service's agree), otherwise a new one; it is
    sent back in the response's ``X-Request-ID`` for a user to quote. The line
    names the method, the path (never the query string, which may hold a
    search term), the status and the time taken.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        if from_trusted_proxy(request) and REQUEST_ID.fullmatch(offered):
            request.request_id = offered
        else:
            request.request_id = random_id().hex
        token = current_request.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000),
                },
            )
            return response
        finally:
            current_request.reset(token)
