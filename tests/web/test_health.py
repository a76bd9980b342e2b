"""/healthz: both databases, the delivery queue and the workers, for the platform's probes."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.organisations.models import Organisation

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def _delivery(status: str, **values) -> Delivery:
    values.setdefault("received_at", timezone.now())
    return Delivery.objects.create(
        organisation=Organisation.objects.first(),
        checksum=secrets.token_hex(32),
        size=1,
        status=status,
        **values,
    )


def _ago(seconds: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_a_healthy_service_answers_200_without_logging_in(client):
    _delivery(Delivery.Status.RECEIVED)
    _delivery(Delivery.Status.PROCESSING, heartbeat_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["vault"] == {"ok": True}
    assert body["checks"]["queue"]["waiting"] == 1
    assert body["checks"]["workers"]["processing"] == 1
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_names_no_database_role_or_key(client):
    text = client.get("/healthz").content.decode()
    for database in settings.DATABASES.values():
        for secret in (database.get("USER"), database.get("PASSWORD"), database.get("HOST")):
            if secret:
                assert secret not in text
        assert str(database["NAME"]) not in text
    assert settings.SECRET_KEY not in text


def test_a_delivery_waiting_too_long_for_a_worker_makes_it_unhealthy(client, settings):
    settings.INUK_HEALTH_QUEUE_SECONDS = 600
    _delivery(Delivery.Status.RECEIVED, received_at=_ago(601))
    response = client.get("/healthz")
    assert response.status_code == 503
    queue = response.json()["checks"]["queue"]
    assert queue["ok"] is False and queue["oldest_waiting_seconds"] >= 601


def test_a_worker_that_stopped_reporting_makes_it_unhealthy(client, settings):
    settings.INUK_WORKER_STALE_SECONDS = 300
    _delivery(Delivery.Status.PROCESSING, heartbeat_at=_ago(301))
    _delivery(Delivery.Status.PROCESSING, heartbeat_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 503
    workers = response.json()["checks"]["workers"]
    assert workers == {
        "ok": False,
        "processing": 2,
        "oldest_heartbeat_seconds": workers["oldest_heartbeat_seconds"],
        "limit_seconds": 300,
    }
    assert workers["oldest_heartbeat_seconds"] >= 301


def test_a_vault_that_does_not_answer_makes_it_unhealthy(client, monkeypatch, tmp_path):
    vault = connections["vault"]
    vault.close()
    if vault.vendor == "sqlite":
        unreachable = str(tmp_path / "no-such-directory" / "vault.sqlite3")
    else:
        unreachable = "inuk_no_such_database"
    monkeypatch.setitem(vault.settings_dict, "NAME", unreachable)
    try:
        response = client.get("/healthz")
    finally:
        vault.close()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["vault"] == {"ok": False}
    assert body["checks"]["database"] == {"ok": True}
    assert unreachable not in response.content.decode()
