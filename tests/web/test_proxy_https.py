"""The proxy's HTTPS header: believed by its own setting, and only from the trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from inuk.web.middleware import ProxyHeadersMiddleware

PROXY = "10.0.0.5"


def _seen_secure(peer: str) -> bool:
    seen: list[bool] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request.is_secure())
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https")
    ProxyHeadersMiddleware(view)(request)
    return seen[0]


@pytest.fixture
def proxy_header(settings):
    settings.INUK_TRUSTED_PROXY = [ipaddress.ip_network(PROXY)]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_the_trusted_proxy_says_a_request_came_by_https(proxy_header):
    assert _seen_secure(PROXY)


def test_anyone_else_saying_so_is_not_believed(proxy_header):
    assert not _seen_secure("203.0.113.9")
