"""Where a request comes from, for the audit log and the log-in throttle."""

from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest | None) -> str:
    """The peer's IP address as the web server saw it.

    ``X-Forwarded-For`` is deliberately not read: any client can set it, and
    an address it chose would let it dodge the throttle and mislead the audit
    log. Behind a reverse proxy, have the proxy's WSGI server pass the real
    peer as ``REMOTE_ADDR`` (waitress: ``trusted_proxy``).
    """
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]
