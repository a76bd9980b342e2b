"""The web server of ``inuk serve``: waitress, with a gate on request bodies.

Waitress reads a request's whole body, spooling it to a temporary file,
before it hands the request to Django; only then could a view see who sent
it or how large it is. Its one limit, ``max_request_body_size``, has to allow
the largest delivery, so without more any anonymous client could make the
server store gigabytes for any URL, and many such requests fill the disk.

So the gate decides as soon as a request's headers have arrived, before a
byte of its body is read: a request may carry up to
``INUK_MAX_REQUEST_BYTES`` (1 MB by default) anywhere, and more only when it
is a POST to a page or endpoint that takes a delivery file and comes from an
authenticated caller, a valid API token or the session of a logged-in user
(with the second factor, if they have one), checked the same way as the API
and the pages check it. Anything else is answered 413 at once, and the
connection closed; a client that sent ``Expect: 100-continue`` is never told
to go on. A chunked body, whose size is not declared, is cut off with 413 as
soon as it passes the limit that applies to it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.urls import reverse
from django_otp import user_has_device
from django_otp.middleware import OTPMiddleware
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher
from waitress.utilities import RequestEntityTooLarge

from inuk.accounts.tokens import find_token
from inuk.api.errors import ERRORS

log = logging.getLogger(__name__)

#: The URL names of the views that take a delivery file: the upload page, the
#: API's POST /deliveries, and the validator on the start page.
UPLOAD_VIEWS = ("intake:upload", "api-1:deliveries-create", "web:home")
#: Room for the multipart envelope around the largest delivery.
ENVELOPE = 1024 * 1024


@dataclass(frozen=True)
class BodyGate:
    """How large a body a request may carry, decided from its first line and headers.

    ``headers`` are as waitress keeps them: upper case, ``-`` as ``_``
    (``CONTENT_LENGTH``, ``AUTHORIZATION``, ``COOKIE``).
    """

    ordinary: int
    upload: int
    upload_paths: frozenset[str]
    authenticated: Callable[[Mapping[str, str]], bool]

    def limit(self, method: str, path: str, headers: Mapping[str, str]) -> int:
        if method == "POST" and path in self.upload_paths and self.authenticated(headers):
            return self.upload
        return self.ordinary

    def admits(self, method: str, path: str, headers: Mapping[str, str], declared: int) -> int:
        """The limit for this request; a small declared body is let through unchecked.

        ``declared`` is the Content-Length, or -1 for a chunked body.
        """
        if 0 <= declared <= self.ordinary:
            return self.ordinary
        return self.limit(method, path, headers)


def authenticated(headers: Mapping[str, str]) -> bool:
    """Whether the request's headers name a caller the API or the pages would let in.

    It runs in the server's network thread, so it writes nothing (no
    ``last_used_at``, no audit entry: the view does that when it runs); any
    failure counts as no.
    """
    try:
        scheme, _, token = headers.get("AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer":
            # As the API: a bad token is refused even with a session cookie beside it.
            return find_token(token.strip()) is not None
        return _session_user_ok(headers.get("COOKIE", ""))
    except Exception:
        log.exception("The check of a large request's caller failed; it is refused")
        return False


def _no_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("only the request half of the middleware runs here")


def _session_user_ok(cookie_header: str) -> bool:
    request = HttpRequest()
    request.method = "POST"
    request.COOKIES = parse_cookie(cookie_header)
    if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return False
    # The request half of the middleware the pages run, in the same order.
    SessionMiddleware(_no_response).process_request(request)
    AuthenticationMiddleware(_no_response).process_request(request)
    OTPMiddleware(lambda request: request)(request)
    user: Any = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_verified() or not user_has_device(user))


def gate_from_settings() -> BodyGate:
    return BodyGate(
        ordinary=settings.INUK_MAX_REQUEST_BYTES,
        upload=settings.INUK_MAX_DELIVERY_BYTES + ENVELOPE,
        upload_paths=frozenset(reverse(name) for name in UPLOAD_VIEWS),
        authenticated=authenticated,
    )


class TooLarge(RequestEntityTooLarge):
    """413, with the API's error body so that every client reads it the same way."""

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        kind = ERRORS["REQUEST_TOO_LARGE"]
        body = {
            "error": {"code": "REQUEST_TOO_LARGE", "message_sv": kind.sv, "message_en": kind.en}
        }
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return (
            f"{self.code} {self.reason}",
            [("Content-Type", "application/json; charset=utf-8")],
            data,
        )


class GatedParser(HTTPRequestParser):
    """Waitress's request parser, asking the gate once the headers are in."""

    gate: BodyGate
    body_limit: int | None = None

    def received(self, data: bytes) -> int:
        reading_headers = not self.headers_finished
        consumed = super().received(data)
        if self.completed or self.body_rcv is None:
            return consumed
        if reading_headers and self.headers_finished:
            declared = -1 if self.chunked else self.content_length
            try:
                self.body_limit = self.gate.admits(self.command, self.path, self.headers, declared)
            finally:
                # The network thread keeps no connection open between requests.
                connections.close_all()
            if declared > self.body_limit:
                self._refuse()
                # The rest of what came with the headers is body: not to be read as a request.
                return len(data)
        elif self.body_limit is not None and self.body_bytes_received > self.body_limit:
            self._refuse()
            return len(data)
        return consumed

    def _refuse(self) -> None:
        self.error = TooLarge(f"more than {self.body_limit} bytes")
        self.completed = True
        self.expect_continue = False  # no "100 Continue": the body is not wanted
        self.connection_close = True


def create_server(application: Any, gate: BodyGate, **adjustments: Any) -> Any:
    """A waitress server (as ``waitress.create_server``) whose requests pass ``gate``."""
    # Waitress would strip X-Forwarded-For and X-Forwarded-Proto unless it is told of
    # the proxy itself, and it knows only one proxy by exact address; the service
    # decides which to believe, from INUK_TRUSTED_PROXY (inuk.client).
    adj = Adjustments(**{"clear_untrusted_proxy_headers": False, **adjustments})
    parser = type("Parser", (GatedParser,), {"gate": gate})
    channel = type("Channel", (HTTPChannel,), {"parser_class": parser})
    server_class = type("Server", (TcpWSGIServer,), {"channel_class": channel})
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict = {}
    servers = [
        server_class(application, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo)
        for sockinfo in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
