"""Faults a deployment meets: a worker killed, the database out of reach, a client
that goes away mid-upload. Each test runs real ``inuk serve`` and ``inuk worker``
processes; the database outage is simulated by cutting the test's own proxy in
front of PostgreSQL, so the shared server is never touched."""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from inuk.format import synthetic, writers
from tests.conftest import VASBY_CODE
from tests.deployment import cluster

pytestmark = pytest.mark.slow  # processes started and stopped: tens of seconds each

KOMMUNKOD = VASBY_CODE
ON_POSTGRES = cluster.postgres_url() is not None
#: As short as a deployment may set it: a killed worker's delivery is taken up this soon.
STALE_SECONDS = "10"


@dataclass
class Setup:
    env: dict[str, str]
    token: str
    dbs: cluster.Databases | None
    logs: Path


@contextlib.contextmanager
def setup(tmp_path: Path, name: str, through: int | None = None) -> Iterator[Setup]:
    """A provisioned deployment's environment, on PostgreSQL (by way of the proxy on port
    ``through``, if given) or on the embedded SQLite databases."""
    with contextlib.ExitStack() as stack:
        dbs = stack.enter_context(cluster.databases(name)) if ON_POSTGRES else None
        env = cluster.environment(
            tmp_path / "data",
            dbs.urls if dbs else None,
            INUK_INLINE_MAX_BYTES="0",
            INUK_WORKER_STALE_SECONDS=STALE_SECONDS,
            INUK_API_RATE_PER_MINUTE="100000",
        )
        token = cluster.inside(env, "provision", KOMMUNKOD)[KOMMUNKOD]
        if dbs is not None and through is not None:
            env.update(dbs.through(through))
        yield Setup(env, token, dbs, tmp_path / "logs")


def month_file(persons: int) -> bytes:
    kommuner = synthetic.delivery(
        synthetic.municipality(KOMMUNKOD), persons=persons, transactions_per_person=3, seed=5
    )
    out = io.BytesIO()
    writers.write_xml(kommuner, out)
    return out.getvalue()


def receipt(client: httpx.Client, url: str, token: str) -> dict:
    return client.get(url, headers={"Authorization": f"Bearer {token}"}).json()


def wait_for_status(client, url, token, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (answer := receipt(client, url, token))["status"] != status:
        assert answer["status"] not in cluster.FINAL, answer
        assert time.monotonic() < deadline, f"never {status}: {answer}"
        time.sleep(0.05)
    return answer


def applied_once(env: dict[str, str], transactions: int) -> dict:
    held = cluster.inside(env, "counts")
    [(status, _attempts, accepted)] = held["deliveries"]
    assert status == "applied"
    assert accepted == transactions == held["transactions"]
    assert held["interventions"] + held["results"] == transactions
    return held


def test_a_worker_killed_mid_delivery_leaves_it_to_another_that_applies_it_once(tmp_path):
    data = month_file(persons=600)
    with setup(tmp_path, "kill") as deployed, cluster.deployment(deployed.env, deployed.logs) as d:
        [port] = d.serve("web")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=60) as client:
            sent = cluster.send(client, base, deployed.token, data, "mars.xml", strict=False)
            assert sent.status_code == 202, sent.text
            url = sent.json()["url"]
            first = d.worker("first")
            wait_for_status(client, url, deployed.token, "processing")
            first.kill()
            assert receipt(client, url, deployed.token)["status"] == "processing"

            d.worker("second")  # takes the delivery up once the first's heartbeat is stale
            final = cluster.wait_final(client, url, deployed.token, timeout=240)
        assert final["status"] == "applied", final
        held = applied_once(deployed.env, 1800)
        assert held["deliveries"][0][1] == 2  # attempts: the killed one and the one that applied
        assert held["persons"] == held["identities"] == 600


@pytest.mark.skipif(not ON_POSTGRES, reason="the proxy stands in front of PostgreSQL")
def test_the_database_out_of_reach_mid_delivery_gives_503_and_the_delivery_is_applied_once(
    tmp_path,
):
    data = month_file(persons=600)
    with (
        cluster.Proxy([5432]) as database,
        setup(tmp_path, "outage", through=database.port) as deployed,
        cluster.deployment(deployed.env, deployed.logs) as d,
    ):
        [port] = d.serve("web")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=60) as client:
            sent = cluster.send(client, base, deployed.token, data, "mars.xml", strict=False)
            url = sent.json()["url"]
            worker = d.worker("worker")
            wait_for_status(client, url, deployed.token, "processing")

            database.cut()
            api = client.get(url, headers={"Authorization": f"Bearer {deployed.token}"})
            # A logged-in user's browser: its session is looked up in the database.
            cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={'x' * 32}"}
            page = client.get(f"{base}/leveranser/", headers=cookie)
            health = client.get(f"{base}/healthz")
            time.sleep(2)  # the worker meets the outage too
            database.restore()

            final = cluster.wait_final(client, url, deployed.token, timeout=240)
            after = client.get(url, headers={"Authorization": f"Bearer {deployed.token}"})

        assert api.status_code == 503
        assert api.headers["Retry-After"] == "30"
        error = api.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert "databas" in error["message_sv"] and "database" in error["message_en"]
        assert page.status_code == 503
        assert "tillfälligt otillgänglig" in page.text
        assert "temporarily unavailable" in page.text
        assert "Traceback" not in page.text and "psycopg" not in page.text
        assert health.status_code == 503
        assert after.status_code == 200

        assert worker.popen.poll() is None, "the worker ended with the outage"
        assert final["status"] == "applied", final
        held = applied_once(deployed.env, 1800)
        assert held["deliveries"][0][1] >= 2  # tried again after the outage
        assert held["persons"] == held["identities"] == 600
        assert cluster.inuk(deployed.env, "audit", "verify").returncode == 0


def test_a_client_that_goes_away_mid_upload_leaves_nothing_behind(tmp_path):
    data = month_file(persons=300)
    with setup(tmp_path, "gone") as deployed, cluster.deployment(deployed.env, deployed.logs) as d:
        [port] = d.serve("web")
        head = (
            "POST /api/v1/deliveries?filename=mars.xml HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {deployed.token}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(head + data[: len(data) // 2])
        time.sleep(1)

        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {deployed.token}"}
        with httpx.Client(timeout=60) as client:
            assert client.get(f"{base}/api/v1/deliveries", headers=headers).json()["count"] == 0
            held = cluster.inside(deployed.env, "counts")
            assert held["deliveries"] == [] and held["file_chunks"] == 0
            uploads = Path(deployed.env["INUK_DATA_DIR"]) / "uploads"
            assert not uploads.exists() or not any(uploads.iterdir())

            # The server goes on: the whole file, sent again, is received.
            sent = cluster.send(client, base, deployed.token, data, "mars.xml", strict=False)
            assert sent.status_code == 202
