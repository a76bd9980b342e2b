"""``inuk serve``: a real server process, spoken to over a raw socket.

It serves pages, its worker thread applies what is uploaded, and SIGTERM
stops it cleanly. For the gate on request bodies what matters happens before
a body is sent: a request that may not carry a large body is answered 413
while the client has sent nothing but headers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inuk.format.writers import Person
from tests.conftest import AF_ORGNR, ANNA, VASBY_ORGNR, delivery_file, insats

pytestmark = pytest.mark.slow  # a server process, its schema made first: a few seconds

HUGE = 100 * 1024 * 1024
SMALL_LIMIT = 4096


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


def _token(env: dict[str, str], orgnr: str, *scopes: str) -> str:
    scope_options = [option for scope in scopes for option in ("--scope", scope)]
    created = _inuk("token", "create", "--org", orgnr, "--name", "test", *scope_options, env=env)
    return created.stdout.strip().splitlines()[-1]


def _serve(env: dict[str, str], port: int, *options: str) -> subprocess.Popen[bytes]:
    """``inuk serve`` started, and waited for until it takes connections."""
    process = subprocess.Popen(
        [sys.executable, "-m", "inuk", "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(process.stdout.read() if process.stdout else "") from None
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError("the server did not start") from None
            time.sleep(0.2)


def _start(data_dir: Path, **settings: str) -> Iterator[Server]:
    env = _environment(data_dir, **settings)
    token = _token(env, AF_ORGNR, "deliver")
    port = _free_port()
    process = _serve(env, port, "--no-worker")
    try:
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


def _call(port: int, path: str, token: str, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_it_serves_its_worker_applies_an_upload_and_sigterm_stops_it_cleanly(tmp_path):
    # Every delivery to the worker: none is small enough to be processed in the request.
    env = _environment(tmp_path, INUK_INLINE_MAX_BYTES="0")
    _inuk("agreement", "add", "--org", VASBY_ORGNR, "--signed-af", "2020-01-01",
          "--signed-municipality", "2020-01-02", env=env)  # fmt: skip
    token = _token(env, VASBY_ORGNR, "deliver", "read")
    port = _free_port()
    process = _serve(env, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/format/", timeout=30) as page:
            assert page.status == 200
            assert b"PNR_CHECKSUM" in page.read()

        status, body = _call(
            port,
            "/api/v1/deliveries?filename=mars.xml",
            token,
            delivery_file([Person(ANNA, [insats("SYV")])]),
        )
        assert status == 202
        receipt = json.loads(body)
        assert receipt["status"] == "received"
        deadline = time.monotonic() + 120
        while receipt["status"] in ("received", "processing"):
            assert time.monotonic() < deadline, receipt
            time.sleep(0.5)
            receipt = json.loads(_call(port, f"/api/v1/deliveries/{receipt['id']}", token)[1])
        assert (receipt["status"], receipt["counts"]["accepted"]) == ("applied", 1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output = process.communicate(timeout=60)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            raise

    assert process.returncode == 0, output
    assert "has stopped" in output
    assert "Traceback" not in output
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
