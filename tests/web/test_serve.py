"""``inuk serve``: a real server process, spoken to over a raw socket.

What matters happens before a body is sent: a request that may not carry a
large body is answered 413 while the client has sent nothing but headers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import AF_ORGNR

pytestmark = pytest.mark.slow  # a server process, its schema made first: a few seconds

HUGE = 100 * 1024 * 1024
SMALL_LIMIT = 4096
AF = AF_ORGNR


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    return {**env, "INUK_DATA_DIR": str(data_dir), **extra}


def _inuk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inuk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    port: int
    token: str

    def ask(self, head: str, body: bytes = b"") -> bytes:
        """Send ``head`` (and ``body``, if any) and read what comes back until the server
        closes or goes quiet."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            conn.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
            conn.settimeout(3)
            answer = b""
            try:
                while chunk := conn.recv(65536):
                    answer += chunk
            except TimeoutError:
                pass
            return answer


def _start(data_dir: Path, **settings: str) -> Iterator[Server]:
    env = _environment(data_dir, **settings)
    created = _inuk("token", "create", "--org", AF, "--name", "test", "--scope", "deliver", env=env)
    token = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "inuk", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield Server(port, token)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    yield from _start(tmp_path_factory.mktemp("serve"), INUK_MAX_REQUEST_BYTES=str(SMALL_LIMIT))


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory) -> Iterator[Server]:
    """Served as in production, the test being the TLS-terminating proxy on 127.0.0.1."""
    yield from _start(
        tmp_path_factory.mktemp("proxied"),
        INUK_SECURE_COOKIES="true",
        INUK_TRUSTED_PROXY="127.0.0.1",
        INUK_PROXY_HTTPS_HEADER="X-Forwarded-Proto",
    )


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _error_code(answer: bytes) -> str:
    return json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"]


def test_an_anonymous_large_body_is_refused_before_it_is_sent(server):
    answer = server.ask(f"POST / HTTP/1.1\nHost: localhost\nContent-Length: {HUGE}\n")
    assert _status(answer) == 413
    assert _error_code(answer) == "REQUEST_TOO_LARGE"
    assert b"Connection: close" in answer


def test_an_anonymous_delivery_is_refused_without_being_told_to_continue(server):
    answer = server.ask(
        "POST /api/v1/deliveries HTTP/1.1\nHost: localhost\n"
        f"Content-Length: {HUGE}\nExpect: 100-continue\n"
    )
    assert not answer.startswith(b"HTTP/1.1 100")
    assert _status(answer) == 413


def test_a_bad_token_does_not_open_the_way_for_a_large_body(server):
    answer = server.ask(
        "POST /api/v1/deliveries HTTP/1.1\nHost: localhost\n"
        f"Authorization: Bearer inuk_aaaaaaaa_{'b' * 32}\nContent-Length: {HUGE}\n"
    )
    assert _status(answer) == 413


def test_a_large_body_to_any_other_path_is_refused_even_with_a_token(server):
    answer = server.ask(
        "POST /konto/logga-in/ HTTP/1.1\nHost: localhost\n"
        f"Authorization: Bearer {server.token}\nContent-Length: {HUGE}\n"
    )
    assert _status(answer) == 413


def test_a_chunked_body_is_cut_off_once_past_the_limit(server):
    chunk = b"x" * 1024
    body = b"".join(b"400\r\n" + chunk + b"\r\n" for _ in range(SMALL_LIMIT // 1024 + 1))
    answer = server.ask(
        "POST /api/v1/deliveries HTTP/1.1\nHost: localhost\nTransfer-Encoding: chunked\n",
        body,
    )
    assert _status(answer) == 413


def test_a_small_body_still_reaches_the_service(server):
    answer = server.ask(
        "POST /api/v1/deliveries HTTP/1.1\nHost: localhost\nContent-Length: 10\n", b"0123456789"
    )
    assert _status(answer) == 401  # the API's own answer: no token given


def test_a_delivery_with_a_valid_token_may_send_a_large_body(server):
    answer = server.ask(
        "POST /api/v1/deliveries HTTP/1.1\nHost: localhost\n"
        f"Authorization: Bearer {server.token}\nContent-Length: {HUGE}\n"
        "Expect: 100-continue\n"
    )
    assert answer.startswith(b"HTTP/1.1 100 Continue")


def test_behind_the_proxy_a_plain_request_is_sent_to_https(behind_proxy):
    answer = behind_proxy.ask("GET /format/ HTTP/1.1\nHost: localhost\nConnection: close\n")
    assert _status(answer) == 301
    assert b"Location: https://localhost/format/" in answer


def test_behind_the_proxy_its_https_header_reaches_the_service(behind_proxy):
    answer = behind_proxy.ask(
        "GET /format/ HTTP/1.1\nHost: localhost\nX-Forwarded-Proto: https\nConnection: close\n"
    )
    assert _status(answer) == 200
    assert b"Strict-Transport-Security: max-age=31536000; includeSubDomains" in answer
