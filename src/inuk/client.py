"""Where a request comes from: the one answer the audit log, the log-in throttle and
the proxy's HTTPS header all use.

Directly on the network the answer is the peer, ``REMOTE_ADDR``. Behind a
reverse proxy every request's peer is the proxy, so the proxy's
``X-Forwarded-For`` is believed, but only when the peer is one of the proxies
named in ``INUK_TRUSTED_PROXY``: anyone else could write in it whatever
address they like, to dodge the throttle or mislead the audit log. Each proxy
appends the address it got the request from, so the header is read from the
right, passing over trusted proxies; the first address that is not one is
the client. What a client itself put further left is never looked at.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

MAX_LENGTH = 64


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted_proxy(address: str) -> bool:
    """Whether ``address`` is one of the reverse proxies of ``INUK_TRUSTED_PROXY``."""
    parsed = _address(address)
    return parsed is not None and any(parsed in net for net in settings.INUK_TRUSTED_PROXY)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request's peer is a trusted proxy, whose headers are believed."""
    return is_trusted_proxy(str(request.META.get("REMOTE_ADDR", "")))


def client_address(request: HttpRequest | None) -> str:
    """The client's IP address: the peer, or behind a trusted proxy the one it names.

    With ``INUK_TRUSTED_PROXY=10.0.0.5``, a request from 10.0.0.5 carrying
    ``X-Forwarded-For: 1.2.3.4, 198.51.100.7`` comes from 198.51.100.7 (the
    1.2.3.4 was the client's own claim). If every address named is a trusted
    proxy, or the one to take is not an address, the peer is the answer.
    """
    if request is None:
        return ""
    peer = str(request.META.get("REMOTE_ADDR", ""))
    if is_trusted_proxy(peer):
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        for hop in reversed(forwarded.split(",")):
            if is_trusted_proxy(hop):
                continue
            parsed = _address(hop)
            if parsed is not None:
                return str(parsed)[:MAX_LENGTH]
            break
    return peer[:MAX_LENGTH]
