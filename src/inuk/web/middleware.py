"""The service's own middleware: the proxy's headers, and Swedish first."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from inuk.client import from_trusted_proxy


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
