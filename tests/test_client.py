"""Where a request comes from: the peer, or behind a trusted proxy the client it names."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory

from inuk.client import client_address

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.INUK_TRUSTED_PROXY = [ipaddress.ip_network(PROXY), ipaddress.ip_network("10.1.0.0/16")]


def _request(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.INUK_TRUSTED_PROXY = []
    assert client_address(_request(PROXY, "198.51.100.7")) == PROXY


def test_behind_the_trusted_proxy_the_client_it_names_is_the_address(behind_proxy):
    assert client_address(_request(PROXY, "198.51.100.7")) == "198.51.100.7"


def test_what_the_client_wrote_itself_further_left_is_not_believed(behind_proxy):
    assert client_address(_request(PROXY, "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_passed_over_from_the_right(behind_proxy):
    request = _request(PROXY, "1.2.3.4, 198.51.100.7, 10.1.4.2")
    assert client_address(request) == "198.51.100.7"


def test_a_peer_that_is_not_the_proxy_cannot_name_another_address(behind_proxy):
    assert client_address(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"


def test_something_that_is_not_an_address_leaves_the_peer(behind_proxy):
    assert client_address(_request(PROXY, "198.51.100.7, not-an-address")) == PROXY


def test_only_trusted_proxies_named_or_no_header_leaves_the_peer(behind_proxy):
    assert client_address(_request(PROXY, "10.1.0.9")) == PROXY
    assert client_address(_request(PROXY)) == PROXY


def test_ipv6_clients_and_proxies(settings):
    settings.INUK_TRUSTED_PROXY = [ipaddress.ip_network("2001:db8::/64")]
    assert client_address(_request("2001:db8::1", "2001:db8:1::7")) == "2001:db8:1::7"


def test_no_request_no_address():
    assert client_address(None) == ""
