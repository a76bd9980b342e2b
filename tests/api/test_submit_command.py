"""``inuk submit``: the machine-transfer client, end to end against a running service.

It runs as its own process, as a municipality's scheduler would run it, with
no settings, no database and no data directory of the service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connections

from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.intake.submit_command import deliveries_url
from inuk.intake.worker import process_pending
from inuk.ledger.models import Transaction
from tests.conftest import ANNA, Cast, delivery_file, insats

pytestmark = [
    pytest.mark.slow,  # a process per run of the command: about two seconds each
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


def submit(*args: str, token: str | None, cwd: Path, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    env["INUK_DATA_DIR"] = "/proc/inuk-must-not-be-created"
    if token is not None:
        env["INUK_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "inuk", "submit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def write(tmp_path):
    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def vasby_token(cast: Cast, agreements) -> str:
    return cast.token(cast.vasby, "deliver")


@pytest.fixture
def worker():
    """A delivery worker in the background, as ``inuk serve`` runs one."""
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(0.2):
                process_pending("test-worker")
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


def test_an_applied_delivery_exits_0(live_server, vasby_token, write, tmp_path):
    path = write("januari.xml", delivery_file([Person(ANNA, [insats("SYV", "20240105")])]))
    result = submit(str(path), "--url", live_server.url, "--wait", token=vasby_token, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tillämpad / applied" in result.stdout
    assert "godtagna/accepted 1" in result.stdout
    delivery = Delivery.objects.get()
    assert (delivery.filename, delivery.channel) == ("januari.xml", "api")


def test_rejected_transactions_exit_1_and_are_listed(live_server, vasby_token, write, tmp_path):
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    result = submit(
        str(write("f.xml", data)), "--url", live_server.url, token=vasby_token, cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "avvisade/rejected 1" in result.stdout
    assert "CODE_UNKNOWN" in result.stdout
    assert "/errors.csv" in result.stdout
    assert ANNA not in result.stdout + result.stderr


def test_a_strict_delivery_with_an_error_exits_1_rejected(
    live_server, vasby_token, write, tmp_path
):
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    path = write("f.xml", data)
    result = submit(
        str(path), "--url", live_server.url, "--strict", token=vasby_token, cwd=tmp_path
    )
    assert result.returncode == 1
    assert Delivery.objects.get().status == Delivery.Status.REJECTED


def test_a_file_that_cannot_be_read_is_not_sent_and_exits_2(
    live_server, vasby_token, write, tmp_path
):
    path = write("trasig.xml", b"<Leverans><Kommunlista>")
    result = submit(str(path), "--url", live_server.url, token=vasby_token, cwd=tmp_path)
    assert result.returncode == 2
    assert "The file cannot be received and is not sent" in result.stderr
    assert "FILE_TRUNCATED" in result.stderr
    assert not Delivery.objects.exists()


def test_a_file_the_service_refuses_exits_2(live_server, cast, agreements, write, tmp_path):
    # Vallentuna's token sending a file in Upplands Väsby's name.
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    token = cast.token(cast.vallentuna, "deliver")
    result = submit(str(path), "--url", live_server.url, "--json", token=token, cwd=tmp_path)
    assert result.returncode == 2
    receipt = json.loads(result.stdout)
    assert receipt["status"] == "refused"
    assert receipt["refusal"]["code"] == "ORG_NOT_SENDER"


def test_a_bad_token_exits_2_with_the_services_reason(live_server, agreements, write, tmp_path):
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(
        str(path), "--url", live_server.url, token="inuk_aaaaaaaa_" + "b" * 32, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "401 TOKEN_INVALID" in result.stderr
    assert "inuk_aaaaaaaa_" not in result.stderr + result.stdout


def test_no_token_exits_2_and_says_where_to_give_it(live_server, write, tmp_path):
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(str(path), "--url", live_server.url, token=None, cwd=tmp_path)
    assert result.returncode == 2
    assert "INUK_TOKEN" in result.stderr


def test_a_service_that_cannot_be_reached_exits_2(vasby_token, write, tmp_path):
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(str(path), "--url", "http://127.0.0.1:9", token=vasby_token, cwd=tmp_path)
    assert result.returncode == 2
    assert "Could not reach the service" in result.stderr


def test_a_dry_run_stores_nothing_and_exits_0(live_server, vasby_token, write, tmp_path):
    path = write("f.csv", delivery_file([Person(ANNA, [insats("SYV")])], format="csv"))
    result = submit(
        str(path), "--url", live_server.url, "--dry-run", token=vasby_token, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "provkörning" in result.stdout
    assert not Delivery.objects.exists()


def test_with_wait_it_follows_a_background_delivery_until_applied(
    live_server, vasby_token, write, tmp_path, settings, worker
):
    settings.INUK_INLINE_MAX_BYTES = 0  # everything goes to the worker
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(
        str(path),
        "--url",
        live_server.url + "/api/v1",
        "--wait",
        "--json",
        token=vasby_token,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    receipt = json.loads(result.stdout)
    assert receipt["status"] == "applied"
    assert receipt["counts"]["accepted"] == 1


def test_with_wait_it_follows_a_large_dry_run_until_a_worker_has_checked_it(
    live_server, vasby_token, write, tmp_path, settings, worker
):
    settings.INUK_INLINE_MAX_BYTES = 0  # the dry run goes to the worker
    path = write(
        "f.xml", delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    )
    result = submit(
        str(path), "--url", live_server.url, "--dry-run", "--wait", token=vasby_token, cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr  # a transaction would be rejected
    assert "kontrollerad (provkörning), inget sparat" in result.stdout
    assert "CODE_UNKNOWN" in result.stdout
    assert Delivery.objects.get().status == Delivery.Status.CHECKED
    assert not Transaction.objects.exists()


def test_with_wait_it_ends_on_a_delivery_that_failed_and_exits_2(
    live_server, vasby_token, write, tmp_path, settings, worker, monkeypatch
):
    from inuk.intake import processing

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(processing, "apply_delivery", broken)
    settings.INUK_INLINE_MAX_BYTES = 0
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(
        str(path), "--url", live_server.url, "--wait", token=vasby_token, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "misslyckad i tjänsten / failed in the service" in result.stdout
    assert "PROCESSING_FAILED" in result.stdout
    assert Delivery.objects.get().status == Delivery.Status.FAILED


def test_without_wait_a_background_delivery_exits_3_and_names_the_receipt(
    live_server, vasby_token, write, tmp_path, settings
):
    settings.INUK_INLINE_MAX_BYTES = 0
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(str(path), "--url", live_server.url, token=vasby_token, cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    delivery = Delivery.objects.get()
    assert f"/api/v1/deliveries/{delivery.public_id}" in result.stdout


def test_the_same_file_again_is_a_repeat_with_the_first_outcome(
    live_server, vasby_token, write, tmp_path
):
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    first = submit(str(path), "--url", live_server.url, token=vasby_token, cwd=tmp_path)
    again = submit(str(path), "--url", live_server.url, token=vasby_token, cwd=tmp_path)
    assert (first.returncode, again.returncode) == (0, 0)
    assert "The same file was received before" in again.stderr
    assert Delivery.objects.count() == 1


class Recorder(ThreadingHTTPServer):
    """A stand-in service on a port of its own that notes every request it gets."""

    def __init__(self, answer) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.answer = answer
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization", "")))
        status, body = self.server.answer(self.command, self.path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator:
    servers: list[Recorder] = []

    def start(answer) -> Recorder:
        server = Recorder(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_with_wait_it_polls_under_the_given_address_not_the_one_answered(recorder, write, tmp_path):
    """A receipt naming another host (say from a forged Host header) gets neither
    the token nor the polling: the receipt is fetched under ``--url``."""
    receipt_id = str(uuid.uuid4())
    elsewhere = recorder(lambda method, path: (404, {}))

    def service(method: str, path: str):
        status = "received" if method == "POST" else "applied"
        counts = {"persons": 1, "accepted": 1, "rejected": 0, "already_known": 0, "warnings": 0}
        url = f"{elsewhere.url}/api/v1/deliveries/{receipt_id}"
        return 202 if method == "POST" else 200, {
            "id": receipt_id,
            "status": status,
            "counts": counts,
            "errors": [],
            "url": url,
        }

    real = recorder(service)
    path = write("f.xml", delivery_file([Person(ANNA, [insats("SYV")])]))
    result = submit(
        str(path), "--url", real.url, "--wait", "--json", token="inuk_secret", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert elsewhere.seen == []
    assert real.seen[-1] == ("GET", f"/api/v1/deliveries/{receipt_id}", "Bearer inuk_secret")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://inuk.example.se", "https://inuk.example.se/api/v1/deliveries"),
        ("https://inuk.example.se/", "https://inuk.example.se/api/v1/deliveries"),
        ("https://x.se/inuk/api/v1/", "https://x.se/inuk/api/v1/deliveries"),
        ("https://x.se/api/v1/deliveries", "https://x.se/api/v1/deliveries"),
    ],
)
def test_the_service_address_may_be_given_with_or_without_the_api_path(given, expected):
    assert deliveries_url(given) == expected
